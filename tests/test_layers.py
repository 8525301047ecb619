"""Layers and losses: shapes, conventions, and gradients checked against finite differences (C07)."""
import numpy as np
import pytest

from nnlib import BinaryCrossEntropy, CrossEntropy, Dense, Identity, LeakyReLU, MSE, ReLU, Sigmoid, Tanh
from nnlib.gradcheck import check_layer, check_loss, check_model, numerical_gradient, relative_error
from nnlib import Sequential

TOL = 1e-6

LAYERS = {
    "Dense": lambda: Dense(4, 3, rng=0),
    "Dense(no bias)": lambda: Dense(4, 3, bias=False, rng=0),
    "Dense(he)": lambda: Dense(4, 3, init="he", rng=0),
    "Identity": Identity,
    "Sigmoid": Sigmoid,
    "Tanh": Tanh,
    "ReLU": ReLU,
    "LeakyReLU": lambda: LeakyReLU(0.1),
}


@pytest.mark.parametrize("name", LAYERS)
def test_C07_layer_gradients_match_numerical(name, rng):
    layer = LAYERS[name]()
    x = rng.standard_normal((6, 4))
    errors = check_layer(layer, x, details=True)
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("loss, target", [
    (MSE(), lambda r: r.standard_normal((5, 3))),
    (BinaryCrossEntropy(), lambda r: r.integers(0, 2, (5, 3)).astype(float)),
    (BinaryCrossEntropy(), lambda r: r.uniform(0, 1, (5, 3))),
    (CrossEntropy(), lambda r: r.integers(0, 3, 5)),
    (CrossEntropy(), lambda r: np.eye(3)[r.integers(0, 3, 5)]),
])
def test_C07_loss_gradients_match_numerical(loss, target, rng):
    pred = rng.standard_normal((5, 3)) * 2
    assert check_loss(loss, pred, target(rng)) < TOL


def test_C07_whole_network_gradients_match_numerical(rng):
    model = Sequential([Dense(3, 5, rng=1), Tanh(), Dense(5, 4, rng=2), LeakyReLU(0.2), Dense(4, 3, rng=3)])
    X, y = rng.standard_normal((8, 3)), rng.integers(0, 3, 8)
    errors = check_model(model, CrossEntropy(), X, y, details=True)
    assert len(errors) == 6 and max(errors) < TOL


def test_gradcheck_catches_a_wrong_backward(rng):
    class BadSigmoid(Sigmoid):
        def backward(self, grad_out):
            return grad_out * self.y          # forgot the (1 - y) factor
    assert check_layer(BadSigmoid(), rng.standard_normal((4, 3))) > 0.1


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    assert np.allclose(g, 3 * x ** 2, rtol=1e-8)
    assert np.array_equal(x, [1.0, -2.0, 3.0])          # restored after nudging
    assert relative_error(g, 3 * x ** 2) < 1e-8


def test_dense_weights_are_the_params_arrays():
    layer = Dense(3, 4, rng=0)
    assert layer.W is layer.params["W"] and layer.b is layer.params["b"]
    assert layer.W.shape == (3, 4) and layer.b.shape == (4,)
    layer.W[...] = 1.0
    layer.b = np.arange(4.0)                                   # assignment copies into the same array
    assert layer.b is layer.params["b"]
    out = layer.forward(np.ones((2, 3)))
    assert np.array_equal(out, np.tile(3.0 + np.arange(4.0), (2, 1)))


def test_dense_backward_fills_grads_with_param_shapes(rng):
    layer = Dense(3, 2, rng=0)
    x = rng.standard_normal((5, 3))
    g = rng.standard_normal((5, 2))
    layer.forward(x)
    dx = layer.backward(g)
    assert dx.shape == x.shape
    assert set(layer.grads) == set(layer.params)
    for k in layer.params:
        assert layer.grads[k].shape == layer.params[k].shape
    assert np.allclose(layer.grads["W"], x.T @ g) and np.allclose(layer.grads["b"], g.sum(0))


def test_float32_on_request(rng):
    layer = Dense(3, 2, rng=0, dtype=np.float32)
    assert layer.W.dtype == np.float32 and layer.b.dtype == np.float32
    out = layer.forward(rng.standard_normal((4, 3)))
    assert out.dtype == np.float32
    assert Dense(3, 2).W.dtype == np.float64


def test_init_schemes_have_their_scales():
    big = 400
    he = Dense(big, big, init="he", rng=0).W
    xavier = Dense(big, big, init="xavier", rng=0).W
    assert abs(he.std() - np.sqrt(2 / big)) < 0.01 * np.sqrt(2 / big) * 5
    assert abs(xavier.std() - np.sqrt(2 / (2 * big))) < 0.05 * np.sqrt(1 / big)
    assert abs(Dense(big, big, init=3.0, rng=0).W.std() - 3.0) < 0.05
    assert not Dense(3, 3, init="zeros").W.any()


def test_activation_values():
    x = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):                  # no overflow warnings for huge inputs
        s = Sigmoid().forward(x)
    assert np.allclose(s, [0, 1 / (1 + np.e ** 2), 0.5, 1 / (1 + np.e ** -2), 1])
    assert np.array_equal(ReLU().forward(x), [0, 0, 0, 2, 1000])
    assert np.allclose(LeakyReLU(0.1).forward(x), [-100, -0.2, 0, 2, 1000])
    assert np.allclose(Tanh().forward(x), np.tanh(x))


def test_losses_are_batch_means(rng):
    pred = rng.standard_normal((4, 2))
    y = rng.standard_normal((4, 2))
    assert np.isclose(MSE().forward(pred, y), np.mean((pred - y) ** 2))
    logits = rng.standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert np.isclose(CrossEntropy().forward(logits, labels), -np.mean(np.log(p[np.arange(4), labels])))
    z, t = rng.standard_normal(6), rng.integers(0, 2, 6)
    sig = 1 / (1 + np.exp(-z))
    expected = -np.mean(t * np.log(sig) + (1 - t) * np.log(1 - sig))
    assert np.isclose(BinaryCrossEntropy().forward(z[:, None], t), expected)


def test_binary_cross_entropy_is_stable_for_logits_of_1000():
    z = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    y = np.array([1, 0, 0, 1])
    loss = BinaryCrossEntropy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(z, y)
        grad = loss.backward()
    assert np.isclose(value, (0 + 0 + 1000 + 1000) / 4)
    assert np.allclose(grad.ravel(), [0, 0, 0.25, -0.25])


def test_cross_entropy_is_stable_for_logits_of_1e4():
    z = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    loss = CrossEntropy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(z, np.array([0, 1]))
        grad = loss.backward()
    assert np.isclose(value, np.log(2) / 2)
    assert np.allclose(grad, [[0, 0, 0], [0, -0.25, 0.25]])
    assert np.isfinite(grad).all()


def test_cross_entropy_takes_labels_or_one_hot_alike(rng):
    z = rng.standard_normal((5, 4))
    labels = rng.integers(0, 4, 5)
    a, b = CrossEntropy(), CrossEntropy()
    assert np.isclose(a.forward(z, labels), b.forward(z, np.eye(4)[labels]))
    assert np.allclose(a.backward(), b.backward())
