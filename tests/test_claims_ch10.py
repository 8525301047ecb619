"""Claims of chapter 10 (convolution), measured with nnlib."""
import numpy as np

from nnlib import Adam, CrossEntropy, Dense, ReLU, Sequential, data
from nnlib.conv import Conv2D, Flatten, GlobalAvgPool2D


def dense_equivalent(conv, h, w):
    """The Dense-layer weight matrix that does what the (1-channel, stride-1) conv does."""
    k = conv.kernel_size
    ho, wo = h - k + 1, w - k + 1
    W = np.zeros((conv.in_channels * h * w, conv.out_channels * ho * wo))
    for o in range(conv.out_channels):
        for c in range(conv.in_channels):
            for i in range(ho):
                for j in range(wo):
                    for u in range(k):
                        for v in range(k):
                            W[c * h * w + (i + u) * w + (j + v), o * ho * wo + i * wo + j] = conv.W[o, c, u, v]
    b = np.repeat(conv.b, ho * wo)
    return W, b


def test_C20_conv_equals_a_dense_layer_with_tied_local_weights(rng):
    conv = Conv2D(2, 3, 3, rng=0)
    conv.b[...] = rng.standard_normal(3)
    W, b = dense_equivalent(conv, 7, 6)
    x = rng.standard_normal((5, 2, 7, 6))
    dense = Dense(W.shape[0], W.shape[1])
    dense.W, dense.b = W, b
    assert np.abs(conv.forward(x).reshape(5, -1) - dense.forward(x.reshape(5, -1))).max() < 1e-12
    # locality: each output uses only in_channels * k * k inputs; sharing: only 2*3*9 distinct weights
    assert (np.count_nonzero(W, axis=0) <= 2 * 9).all()
    assert len(np.unique(W[W != 0])) <= conv.W.size
    assert conv.W.size + conv.b.size < W.size / 20


def test_C20_shifting_the_input_shifts_the_output(rng):
    conv = Conv2D(1, 4, 3, rng=1)
    x = rng.standard_normal((2, 1, 9, 9))
    right = np.zeros_like(x)
    right[..., 2:] = x[..., :-2]                 # two pixels to the right
    down = np.zeros_like(x)
    down[..., 1:, :] = x[..., :-1, :]            # one pixel down
    y = conv.forward(x)
    assert np.abs(conv.forward(right)[..., 2:] - y[..., :-2]).max() < 1e-12
    assert np.abs(conv.forward(down)[..., 1:, :] - y[..., :-1, :]).max() < 1e-12
    # and not trivially: the output does change where the window sees new pixels
    assert np.abs(conv.forward(right) - y).max() > 0.1


def test_C20_weight_sharing_generalises_from_few_images():
    X, y = data.bars(40, noise=0.4, seed=0)
    Xt, yt = data.bars(1000, noise=0.4, seed=1)
    conv_net = Sequential([Conv2D(1, 4, 3, rng=0), ReLU(), GlobalAvgPool2D(), Dense(4, 2, rng=1)])
    dense_net = Sequential([Flatten(), Dense(64, 32, rng=0), ReLU(), Dense(32, 2, rng=1)])
    conv_net.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.03), epochs=60, batch_size=16, verbose=False)
    dense_net.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.01), epochs=60, batch_size=16, verbose=False)
    conv_acc = conv_net.evaluate(Xt, yt)["accuracy"]
    dense_acc = dense_net.evaluate(Xt, yt)["accuracy"]
    assert conv_acc > dense_acc + 0.15, (conv_acc, dense_acc)
