"""Conv2D, Flatten and GlobalAvgPool2D: gradients (C07), shapes, bad input."""
import numpy as np
import pytest

from nnlib import Adam, CrossEntropy, Dense, ReLU, Sequential, data, saving
from nnlib.conv import Conv2D, Flatten, GlobalAvgPool2D, conv_output_size
from nnlib.gradcheck import check_layer, check_model


@pytest.mark.parametrize("settings", [dict(), dict(stride=2), dict(padding=1), dict(stride=2, padding=2),
                                      dict(bias=False), dict(kernel_size=1)])
def test_C07_conv2d_gradients_match_numerical(settings, rng):
    settings = {"kernel_size": 3, **settings}
    layer = Conv2D(2, 3, rng=0, **settings)
    errors = check_layer(layer, rng.standard_normal((2, 2, 7, 6)), details=True)
    assert max(errors.values()) < 1e-6, errors


def test_C07_flatten_and_pooling_gradients(rng):
    x = rng.standard_normal((3, 2, 4, 5))
    assert check_layer(Flatten(), x) < 1e-6
    assert check_layer(GlobalAvgPool2D(), x) < 1e-6


def test_C07_small_convnet_end_to_end(rng):
    model = Sequential([Conv2D(1, 2, 3, rng=0), ReLU(), Flatten(), Dense(2 * 16, 2, rng=1)])
    X = rng.standard_normal((4, 1, 6, 6))
    assert check_model(model, CrossEntropy(), X, np.array([0, 1, 1, 0])) < 1e-6


@pytest.mark.parametrize("size, k, s, p", [(8, 3, 1, 0), (7, 3, 2, 1), (9, 4, 3, 2), (5, 5, 1, 0)])
def test_output_shape_follows_the_formula(size, k, s, p):
    layer = Conv2D(3, 4, k, stride=s, padding=p, rng=0)
    out = layer.forward(np.zeros((2, 3, size, size + 1)))
    assert out.shape == (2, 4, conv_output_size(size, k, s, p), conv_output_size(size + 1, k, s, p))


def test_convnet_trains_with_fit_and_saves(tmp_path):
    X, y = data.bars(120, noise=0.2, seed=0)
    model = Sequential([Conv2D(1, 4, 3, rng=0), ReLU(), GlobalAvgPool2D(), Dense(4, 2, rng=1)])
    model.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.03), epochs=40, batch_size=16, verbose=False)
    assert model.evaluate(X, y)["accuracy"] > 0.9
    loaded = saving.load(saving.save(model, tmp_path / "m.npz"))
    assert np.array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("call, match", [
    (lambda: Conv2D(1, 2, 3).forward(np.zeros((2, 8, 8))), r"got input of shape \(2, 8, 8\): expected \(batch, 1, height, width\)"),
    (lambda: Conv2D(3, 2, 3).forward(np.zeros((2, 1, 8, 8))), r"expected \(batch, 3, height, width\)"),
    (lambda: Conv2D(1, 2, 5).forward(np.zeros((1, 1, 3, 3))), "a 5x5 kernel does not fit an image of 3x3"),
    (lambda: Conv2D(1, 2, 0), "kernel_size must be an integer >= 1"),
    (lambda: Conv2D(1, 2, 3, padding=-1), "padding must be an integer >= 0"),
    (lambda: GlobalAvgPool2D().forward(np.zeros((2, 3))), "expected \\(batch, channels, height, width\\)"),
    (lambda: Sequential([Conv2D(1, 2, 3)]).fit(np.zeros((4, 8, 8)), np.zeros(4, int), loss="cross_entropy",
                                                optimizer="sgd"),
     r"X has shape \(4, 8, 8\) but the first layer Conv2D\(1 -> 2, 3x3\) expects \(examples, 1, height, width\)"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_backward_shape_is_checked():
    layer = Conv2D(1, 2, 3)
    layer.forward(np.zeros((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"expected \(2, 2, 3, 3\)"):
        layer.backward(np.zeros((2, 2, 4, 4)))


def test_C07_maxpool_gradients_match_numerical(rng):
    from nnlib.conv import MaxPool2D
    x = rng.standard_normal((2, 3, 6, 7))               # 7 columns: the last one is dropped, gets gradient 0
    assert check_layer(MaxPool2D(2), x) < 1e-6
    assert check_layer(MaxPool2D(3), x) < 1e-6
    model = Sequential([Conv2D(1, 2, 3, rng=0), ReLU(), MaxPool2D(2), Flatten(), Dense(2 * 16, 2, rng=1)])
    assert check_model(model, CrossEntropy(), rng.standard_normal((4, 1, 10, 10)), np.array([0, 1, 1, 0])) < 1e-6


def test_maxpool_takes_each_blocks_max_and_routes_the_gradient_to_it():
    from nnlib.conv import MaxPool2D
    x = np.array([[1.0, 5, 2, 0, 9], [3, 4, 8, 1, 9], [0, 0, 1, 1, 9], [7, 0, 1, 2, 9]])[None, None]
    pool = MaxPool2D(2)
    assert np.array_equal(pool.forward(x)[0, 0], [[5, 8], [7, 2]])
    dx = pool.backward(np.ones((1, 1, 2, 2)))[0, 0]
    assert np.array_equal(dx, [[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 1, 0]])
    with pytest.raises(ValueError, match=r"expected \(batch, channels, height, width\)"):
        pool.forward(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="a 2x2 block does not fit an image of 1x4"):
        pool.forward(np.zeros((1, 1, 1, 4)))
    with pytest.raises(ValueError, match="MaxPool2D: size"):
        MaxPool2D(0)


def test_a_convnet_with_max_pooling_saves_and_loads(tmp_path):
    from nnlib.conv import MaxPool2D
    X, _ = data.bars(20, noise=0.2, seed=0)
    model = Sequential([Conv2D(1, 3, 3, rng=0), ReLU(), MaxPool2D(3), Flatten(), Dense(3 * 2 * 2, 2, rng=1)])
    loaded = saving.load(saving.save(model, tmp_path / "pool.npz"))
    assert repr(loaded.layers[2]) == "MaxPool2D(3)"
    assert np.array_equal(loaded.predict(X), model.predict(X))
