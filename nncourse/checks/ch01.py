"""Self-checks for exercise 01, the linear model."""
from __future__ import annotations

import numpy as np

from nnlib.data import linear
from nnlib.gradcheck import numerical_gradient
from . import Mismatch, check, expect, expect_callable, expect_close, is_close


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
        what = f"for case {i} (X of shape {X.shape}), predict(X, w, b)"
        if np.ndim(got) == 1 and is_close(got, X @ w) and not is_close(got, X @ w + b):
            raise Mismatch(f"{what} is {float(np.asarray(got)[0]):.6g}, expected {(X @ w + b)[0]:.6g}: "
                           f"that is X @ w alone; add the bias b = {b:g} to every prediction.")
        expect_close(got, X @ w + b, what)
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
    n = len(y)
    for name, got, num in (("dw", dw, num_dw), ("db", db, num_db)):
        hints = [(num / 2, "half the numerical gradient: the factor 2 from the square is missing"),
                 (num * n / 2, f"{n / 2:g} times too large: use the mean, 2/N * sum(...), with N = {n}, not the sum"),
                 (num * n, f"{n} times too large: divide the sum by N = {n}, since the loss is a mean"),
                 (-num, "the numerical gradient with the sign flipped: use (y_pred - y), not (y - y_pred)")]
        for wrong, why in hints:
            if is_close(got, wrong) and not is_close(got, num):
                raise Mismatch(f"your gradient {name} is {np.round(np.asarray(got, dtype=float), 4)}, "
                               f"the numerical gradient {np.round(num, 4)}: yours is {why}.")
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
    expect(np.isfinite(w).all() and np.isfinite(b),
           f"your fitted parameters are w = {w}, b = {b}: the loop ran away. Step against the gradient "
           "(w - lr * dw, b - lr * db), and use the learning rate you are given.")
    pred = X @ w + b
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    expect(np.any(w != 0) or b != 0, f"w and b are still 0 after training, so R^2 = {r2:.3f}, expected above 0.99: "
                                     "does your loop update them (w = w - lr * dw inside the loop)?")
    expect(r2 > -1, f"your fitted model reaches R^2 = {r2:.3g} (learned w = {np.round(w, 3)}, b = {b:.3g}; "
                    "true w = [1.5, -2.0], b = 0.8): worse than always predicting the mean. Are you stepping "
                    "uphill (+ lr * dw instead of - lr * dw)?")
    expect(r2 > 0.99, f"your fitted model reaches R^2 = {r2:.3f} on the test data, expected above 0.99 "
                      f"(learned w = {np.round(w, 3)}, b = {b:.3f}; true w = [1.5, -2.0], b = 0.8). "
                      "Train for more steps or with a larger learning rate.")
    return f"R^2 = {r2:.4f}; learned w = {np.round(w, 2)}, b = {b:.2f} (true: [1.5, -2.0], 0.8)."
