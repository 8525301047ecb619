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


def test_C20_conv_beats_dense_on_few_images_on_every_seed():
    """Chapter 10's comparison, 5 seeds (each its own training images and initial weights), 20 and 160 images."""
    Xt, yt = data.bars(1000, noise=0.4, seed=1)
    for s in range(5):
        for n in (20, 160):
            X, y = data.bars(n, noise=0.4, seed=10 + s)
            dense_net = Sequential([Flatten(), Dense(64, 32, rng=10 * s), ReLU(), Dense(32, 2, rng=10 * s + 1)])
            conv_net = Sequential([Conv2D(1, 4, 3, rng=10 * s), ReLU(), GlobalAvgPool2D(), Dense(4, 2, rng=10 * s + 1)])
            acc = {}
            for name, net, lr in [("dense", dense_net, 0.01), ("conv", conv_net, 0.03)]:
                net.fit(X, y, loss=CrossEntropy(), optimizer=Adam(lr), epochs=60, batch_size=16, seed=s, verbose=False)
                acc[name] = net.evaluate(Xt, yt)["accuracy"]
            assert acc["conv"] > acc["dense"] + 0.1, (s, n, acc)


def test_C20_pooling_turns_equivariance_into_invariance():
    """Chapter 10: a vertical-bar detector on bar images shifted 1-4 pixels right on a larger canvas. The feature
    map changes completely, 2x2 max pooling forgives a 1-pixel shift in part, the global max not at all."""
    from nnlib.conv import MaxPool2D
    X, _ = data.bars(100, noise=0.3, seed=0)
    detector = Conv2D(1, 1, 3, bias=False)
    detector.W[0, 0] = np.array([[-1, 2, -1]] * 3, float) / 3
    canvas = np.pad(X, ((0, 0), (0, 0), (2, 2), (2, 6)))

    def change(view, s):
        a = view(np.maximum(detector.forward(canvas), 0))
        b = view(np.maximum(detector.forward(np.roll(canvas, s, axis=3)), 0))
        return np.mean(np.linalg.norm((b - a).reshape(100, -1), axis=1) / np.linalg.norm(a.reshape(100, -1), axis=1))
    fmap, pooled = (lambda m: m), (lambda m: MaxPool2D(2).forward(m))
    global_max = lambda m: m.max(axis=(2, 3))          # noqa: E731
    for s in range(1, 5):
        assert change(fmap, s) > 1.0
        assert change(global_max, s) < 1e-12
    assert change(pooled, 1) < 0.6 * change(fmap, 1)


def test_C20_receptive_fields_and_parameter_counts_of_stacked_layers():
    """Chapter 10: the gradient of one central output is non-zero exactly on its receptive field: 3, 5, 7 pixels
    across for 1-3 stacked 3x3 convolutions, 8 with a 2x2 max pool between two; 10 parameters per Conv2D(1, 1, 3)."""
    from nnlib.conv import MaxPool2D
    x = np.random.default_rng(0).standard_normal((50, 1, 16, 16))
    stacks = {3: [Conv2D(1, 1, 3, rng=0)], 5: [Conv2D(1, 1, 3, rng=0), Conv2D(1, 1, 3, rng=1)],
              7: [Conv2D(1, 1, 3, rng=0), Conv2D(1, 1, 3, rng=1), Conv2D(1, 1, 3, rng=2)],
              8: [Conv2D(1, 1, 3, rng=0), MaxPool2D(2), Conv2D(1, 1, 3, rng=1)]}
    for size, layers in stacks.items():
        net = Sequential(layers)
        out = net.forward(x)
        grad = np.zeros_like(out)
        grad[:, 0, out.shape[2] // 2, out.shape[3] // 2] = 1.0
        rows, cols = np.nonzero(np.abs(net.backward(grad)).sum(axis=(0, 1)))
        assert np.ptp(rows) + 1 == size and np.ptp(cols) + 1 == size, (size, np.ptp(rows) + 1, np.ptp(cols) + 1)
        assert net.count_params() == 10 * sum(isinstance(layer, Conv2D) for layer in layers)
    assert Conv2D(16, 32, 3).W.size + 32 == 16 * 32 * 9 + 32


def test_C20_a_bar_on_the_image_edge_needs_padding_to_be_seen():
    """Chapter 10: the vertical-line kernel's map is strong on every vertical bar but those in the first or
    last column (images 2 and 29 of the chapter's data: no 3x3 window is centred there without padding);
    with padding=1 they are as strong as the rest."""
    X, y = data.bars(400, noise=0.3, seed=0)
    kernel = np.array([[-1, 2, -1]] * 3, float) / 3
    maxima = {}
    for padding in (0, 1):
        conv = Conv2D(1, 1, 3, padding=padding, bias=False)
        conv.W[0, 0] = kernel
        maxima[padding] = conv.forward(X[:40]).max(axis=(1, 2, 3))
    vertical = np.flatnonzero(y[:40] == 1)
    column = X[vertical, 0].mean(axis=1).argmax(axis=1)           # where each image's bar is
    edge, inner = vertical[(column == 0) | (column == 7)], vertical[(column > 0) & (column < 7)]
    assert list(edge) == [2, 29], edge
    assert maxima[0][edge].max() < 0.6 < 1.5 < maxima[0][inner].min(), (maxima[0][edge], maxima[0][inner])
    assert maxima[1][edge].min() > 1.5, maxima[1][edge]
