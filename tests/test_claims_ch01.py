"""Claims of chapter 1, measured with nnlib (see ../shared/CLAIMS.md)."""
import numpy as np

from nnlib import SGD, BinaryCrossEntropy, Dense, MSE, Sequential, data
from nnlib.metrics import best_linear_accuracy


def linear_classifier_accuracy(X, y):
    model = Sequential([Dense(2, 1, rng=0)])
    model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=SGD(lr=0.5), epochs=300, batch_size=None, verbose=False)
    return model.evaluate(X, y)["accuracy"]


def test_C01_linear_model_fits_linear_data():
    X, y = data.linear(300, n_features=3, weights=[1.5, -2.0, 0.5], bias=1.0, noise=0.1, seed=0)
    model = Sequential([Dense(3, 1, rng=0)])
    model.fit(X, y, loss=MSE(), optimizer=SGD(lr=0.2), epochs=200, batch_size=None, verbose=False)
    assert model.evaluate(X, y)["r2"] > 0.99


def test_C01_linear_model_fails_on_xor_and_circles():
    for make in (data.xor, data.circles):
        X, y = make(400, seed=0)
        acc = linear_classifier_accuracy(X, y)
        best = best_linear_accuracy(X, y)
        assert best < 0.8, f"{make.__name__}: some line reaches {best:.2f}"
        assert acc <= best + 1e-9, f"{make.__name__}: trained {acc:.2f} beats the best line {best:.2f}?"
        assert acc < 0.75, f"{make.__name__}: a linear model reached {acc:.2f}"
    # ...while the same model separates data a line can separate
    X, y = data.blobs(400, k=2, spread=0.8, seed=0)
    assert linear_classifier_accuracy(X, y) >= 0.99


def test_C01_best_linear_accuracy_is_a_true_ceiling():
    X, y = data.xor(300, seed=5)
    best = best_linear_accuracy(X, y)
    rng = np.random.default_rng(0)
    for _ in range(2000):     # no random line does better than the search
        w, b = rng.standard_normal(2), rng.uniform(-1, 1)
        pred = (X @ w + b > 0).astype(int)
        assert max(np.mean(pred == y), np.mean(pred != y)) <= best + 1e-12


def test_C04_bias_lets_the_model_fit_an_offset():
    X, y = data.linear(200, n_features=1, weights=[2.0], bias=3.0, noise=0.0, seed=0)   # y = 2x + 3
    results = {}
    for bias in (False, True):
        model = Sequential([Dense(1, 1, bias=bias, rng=0)])
        model.fit(X, y, loss=MSE(), optimizer=SGD(lr=0.1), epochs=400, batch_size=None, verbose=False)
        results[bias] = model.evaluate(X, y)["loss"]
    assert results[False] > 8.0          # misses by about the offset 3: MSE ~ 9
    assert results[True] < 1e-6
    layer_w = model.layers[0]
    assert np.isclose(layer_w.W[0, 0], 2.0, atol=1e-3) and np.isclose(layer_w.b[0], 3.0, atol=1e-3)
