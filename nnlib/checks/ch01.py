"""Self-checks for exercise 01, the linear model."""
from __future__ import annotations

import numpy as np

from ..data import linear
from ..gradcheck import numerical_gradient
from . import check, expect, expect_callable, expect_close


def _cases():
    rng = np.random.default_rng(101)
    return [
        (np.array([[1.0, 2.0, 3.0]]), np.array([0.5, -1.0, 2.0]), 0.25),
        (rng.standard_normal((5, 3)), rng.standard_normal(3), -1.5),
        (rng.standard_normal((4, 1)), np.array([2.0]), 3.0),
    ]


@check("predict")
def predict(fn):
    expect_callable(fn, "predict")
    for i, (X, w, b) in enumerate(_cases(), 1):
        got = fn(X.copy(), w.copy(), b)
        expect_close(got, X @ w + b, f"for case {i} (X of shape {X.shape}), predict(X, w, b)")
    return f"all {len(_cases())} cases match y' = b + w1 x1 + w2 x2 + ..."


@check("mse")
def mse(fn):
    expect_callable(fn, "mse")
    rng = np.random.default_rng(102)
    cases = [(np.array([1.0, 2.0]), np.array([1.0, 4.0])), (rng.standard_normal(7), rng.standard_normal(7))]
    for i, (pred, y) in enumerate(cases, 1):
        got = fn(pred.copy(), y.copy())
        expect(got is not None, "mse returned None: did you forget to `return` it?")
        expected = np.mean((pred - y) ** 2)
        if np.ndim(got) == 0 and np.isclose(float(got), np.sum((pred - y) ** 2)) and not np.isclose(float(got), expected):
            expect(False, f"for case {i} mse is {float(got):.4g}: that is the sum of squared errors; "
                          f"divide by the number of examples ({len(y)}) to get the mean, {expected:.4g}.")
        expect_close(got, expected, f"for case {i}, mse(pred, y)")
    return "matches the mean of the squared errors."


@check("mse_gradients")
def mse_gradients(fn):
    expect_callable(fn, "mse_gradients")
    rng = np.random.default_rng(103)
    X, y = rng.standard_normal((6, 2)), rng.standard_normal(6)
    w, b = rng.standard_normal(2), np.array(0.7)
    result = fn(X.copy(), y.copy(), w.copy(), float(b))
    expect(isinstance(result, tuple) and len(result) == 2,
           f"mse_gradients should return a pair (dw, db), got {type(result).__name__}.")
    dw, db = result

    def loss():
        return np.mean((X @ w + b - y) ** 2)

    num_dw = numerical_gradient(loss, w)
    num_db = numerical_gradient(loss, b)
    expect_close(dw, num_dw, "your gradient dw (compared with the numerical gradient)", atol=1e-6, rtol=1e-4)
    expect_close(db, num_db, "your gradient db (compared with the numerical gradient)", atol=1e-6, rtol=1e-4)
    return "dw and db agree with the numerical gradient of the MSE."


@check("fit_linear")
def fit_linear(fn):
    expect_callable(fn, "fit_linear")
    X, y = linear(n=200, n_features=2, weights=[1.5, -2.0], bias=0.8, noise=0.05, seed=104)
    result = fn(X.copy(), y.copy())
    expect(isinstance(result, tuple) and len(result) == 2,
           f"fit_linear should return (w, b), got {type(result).__name__}.")
    w, b = np.asarray(result[0], dtype=float), float(np.asarray(result[1]))
    expect(w.shape == (2,), f"w should have one weight per feature, shape (2,), got {w.shape}.")
    pred = X @ w + b
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    expect(r2 > 0.99, f"your fitted model reaches R^2 = {r2:.3f} on the test data, expected above 0.99 "
                      f"(learned w = {np.round(w, 3)}, b = {b:.3f}; true w = [1.5, -2.0], b = 0.8). "
                      "Train for more steps or with a larger learning rate.")
    return f"R^2 = {r2:.4f}; learned w = {np.round(w, 2)}, b = {b:.2f} (true: [1.5, -2.0], 0.8)."
