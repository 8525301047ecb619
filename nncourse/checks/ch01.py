"""Self-checks for exercise 01, the linear model.

Each check states its whole rule in its messages; the hidden tests of the solution
notebook only add cases of the same rules.
"""
from __future__ import annotations

import numpy as np

from nnlib.data import linear
from nnlib.gradcheck import numerical_gradient
from . import Mismatch, as_array, check, expect, expect_callable, expect_close, expect_tuple, is_close
from . import progress as _progress

POINTS = {"predict": 2, "predicted_refit": 2, "ridge_gradients": 4, "fit_linear": 3}


def progress():
    """The running total of this exercise's self-checks (the exercise's last cell)."""
    return _progress(POINTS)


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
        expected = X @ w + b
        what = f"for case {i} (X of shape {X.shape}), predict(X, w, b)"
        arr = as_array(got, what)
        if is_close(arr, X @ w) and not is_close(arr, expected):
            raise Mismatch(f"{what} is {float(arr[0]):.6g}, expected {expected[0]:.6g}: "
                           f"that is X @ w alone; add the bias b = {b:g} to every prediction.")
        if arr.shape == (len(X), 1) and is_close(arr[:, 0], expected):
            raise Mismatch(f"{what} has shape {arr.shape}, a column: return a flat array of shape ({len(X)},), "
                           "one number per example.")
        if arr.ndim == 0 and np.isclose(float(arr), np.sum(X * w) + b):
            raise Mismatch(f"{what} is one number, {float(arr):.4g}, not an array of shape ({len(X)},): you summed "
                           "over the whole batch; sum each row's weighted features only (one prediction per row).")
        if is_close(arr, np.sum(X * w, axis=0) + b) and not is_close(arr, expected):
            raise Mismatch(f"{what} has one value per feature: you summed over the examples (axis 0); sum "
                           "over the features of each row instead.")
        expect_close(arr, expected, what)
    return f"all {len(_cases())} cases match y' = b + w1 x1 + w2 x2 + ..."


# --- predict then verify: the same line in other units ----------------------------------------

_W, _B = 2.0, 3.0            # y = 2 x + 3 with x in degrees Celsius
_SCALE, _SHIFT = 1.8, 32.0   # Fahrenheit = 1.8 Celsius + 32


@check("predicted_refit")
def predicted_refit(fn):
    expect_callable(fn, "predicted_refit")
    w, b = (float(v) for v in (as_array(v, "your prediction") for v in expect_tuple(fn(), ("w", "b"), "predicted_refit")))
    w_true, b_true = _W / _SCALE, _B - _W * _SHIFT / _SCALE
    near = lambda a, c: abs(a - c) <= 0.01 * abs(c) + 1e-3  # noqa: E731  (hand-rounded answers pass)
    if near(w, _W * _SCALE):
        raise Mismatch(f"your w = {w:.4g}: you multiplied by 1.8. A degree Fahrenheit is smaller than a degree "
                       "Celsius, so y changes less per degree: solve x_C = (x_F - 32) / 1.8 and substitute.")
    if near(w, _W):
        raise Mismatch(f"your w = {w:.4g} is the weight for degrees Celsius: the slope per degree Fahrenheit differs.")
    expect(near(w, w_true), f"your w = {w:.4g} is not the slope of y over x_F; write x_C in terms of x_F "
                            "(x_C = (x_F - 32) / 1.8) and substitute it into y = 2 x_C + 3.")
    if near(b, _B):
        raise Mismatch(f"your w is right but b = {b:.4g} is unchanged: 0 °F is not 0 °C, so the offset moves too.")
    if near(b, _B - _SHIFT):
        raise Mismatch(f"your b = {b:.4g} subtracts 32 itself; the shift of 32 degrees is multiplied by the new slope.")
    if near(b, _B + _W * _SHIFT / _SCALE):
        raise Mismatch(f"your b = {b:.4g} has the shift with the wrong sign: at x_F = 32 (0 °C) the model must say 3.")
    expect(near(b, b_true), f"your b = {b:.4g}: at x_F = 32 (that is 0 °C) your line should give y = 3, and gives "
                            f"{w * 32 + b:.4g}.")
    return f"w = {w:.4g}, b = {b:.4g}: the same predictions, written for degrees Fahrenheit."


# --- ridge gradients -----------------------------------------------------------------------------

def _ridge_loss(X, y, w, b, lam):
    return float(np.mean((X @ w + b - y) ** 2) + lam * np.sum(w ** 2))


def _ridge_cases():
    rng = np.random.default_rng(103)
    return [(rng.standard_normal((6, 2)), rng.standard_normal(6), rng.standard_normal(2), 0.7, 0.5),
            (rng.standard_normal((9, 3)), rng.standard_normal(9), rng.standard_normal(3), -1.2, 0.0),
            (rng.standard_normal((4, 1)), rng.standard_normal(4), np.array([1.5]), 0.3, 2.0)]


@check("ridge_gradients")
def ridge_gradients(fn):
    expect_callable(fn, "ridge_gradients")
    for i, (X, y, w, b, lam) in enumerate(_ridge_cases(), 1):
        result = expect_tuple(fn(X.copy(), y.copy(), w.copy(), float(b), float(lam)), ("dw", "db"), "ridge_gradients")
        dw = as_array(result[0], "dw")
        db = as_array(result[1], "db")
        n = len(y)
        case = f"for case {i} (N = {n}, lam = {lam:g})"
        expect(dw.shape == w.shape, f"{case}, dw has shape {dw.shape}, expected {w.shape}: one entry per weight "
                                    "(X.T @ error has it; X @ error or error @ X.T do not).")
        expect(db.size == 1, f"{case}, db should be one number, got shape {db.shape}: the bias is one number.")
        db = float(db.reshape(()))
        e = X @ w + b - y
        data_dw, data_db, pen = 2 / n * X.T @ e, 2 / n * e.sum(), 2 * lam * w
        p = np.array([*w, b])

        def loss():
            return _ridge_loss(X, y, p[:-1], p[-1], lam)

        num = numerical_gradient(loss, p)
        num_dw, num_db = num[:-1], num[-1]
        if lam and is_close(dw, data_dw) and not is_close(dw, num_dw):
            raise Mismatch(f"{case}, dw is the gradient of the mean squared error alone: the penalty lam * sum(w^2) "
                           "also depends on w, so its gradient belongs in dw.")
        if lam and is_close(dw, data_dw + lam * w):
            raise Mismatch(f"{case}, the penalty's part of dw is lam * w: the derivative of w^2 is 2 w, so a "
                           "factor 2 is missing.")
        if lam and is_close(dw, data_dw + pen / n):
            raise Mismatch(f"{case}, the penalty's part of dw is divided by N = {n}: the penalty is not a mean "
                           "over the examples, so its gradient has no 1/N.")
        if lam and b and np.isclose(db, data_db + 2 * lam * b) and not np.isclose(db, num_db):
            raise Mismatch(f"{case}, db contains 2 lam b: the penalty sums the squared weights only, the bias "
                           "is not penalised, so db is the mean squared error's gradient alone.")
        hints = [((data_dw / 2 + pen, data_db / 2), "half the numerical gradient in its error term: the factor 2 "
                  "from the square (d/dy' of (y' - y)^2 = 2 (y' - y)) is missing"),
                 ((data_dw / n + pen, data_db / n), f"the error term has an extra 1/N: it is {n} times too small"),
                 ((data_dw * n / 2 + pen, data_db * n / 2), f"the error term is the sum over the examples: the loss "
                  f"is a mean, divide by N = {n}"),
                 ((data_dw * n + pen, data_db * n), f"the error term is {n} times too large: the loss is a mean, "
                  f"divide by N = {n}"),
                 ((-data_dw + pen, -data_db), "the error term has the wrong sign: use (y' - y), not (y - y')"),
                 ((-num_dw, -num_db), "the numerical gradient with the sign flipped")]
        for (wdw, wdb), why in hints:
            if is_close(dw, wdw) and np.isclose(db, wdb) and not is_close(dw, num_dw):
                raise Mismatch(f"{case}, your dw = {np.round(dw, 4)}, db = {db:.4g}; the numerical gradient is "
                               f"dw = {np.round(num_dw, 4)}, db = {num_db:.4g}: {why}.")
        expect_close(dw, num_dw, f"{case}, dw (compared with the numerical gradient)", atol=1e-6, rtol=1e-4)
        expect_close(db, num_db, f"{case}, db (compared with the numerical gradient)", atol=1e-6, rtol=1e-4)
    return "dw and db agree with the numerical gradient of MSE + lam * sum(w^2), with and without the penalty."


# --- training --------------------------------------------------------------------------------------

def _reference_fit(X, y, lr, steps, lam, update_b=True, sign=1.0):
    w, b = np.zeros(X.shape[1]), 0.0
    n = len(y)
    for _ in range(steps):
        e = X @ w + b - y
        dw, db = 2 / n * X.T @ e + 2 * lam * w, 2 / n * e.sum()
        w = w - sign * lr * dw
        if update_b:
            b = b - sign * lr * db
    return w, b


def _fit_data():
    return linear(n=200, n_features=2, weights=[1.5, -2.0], bias=0.8, noise=0.05, seed=104)


@check("fit_linear")
def fit_linear(fn):
    expect_callable(fn, "fit_linear")
    X, y = _fit_data()
    for lr, steps, lam in ((0.1, 100, 0.0), (0.05, 60, 0.3)):
        with np.errstate(all="ignore"):
            result = expect_tuple(fn(X.copy(), y.copy(), lr=lr, steps=steps, lam=lam), ("w", "b"), "fit_linear")
            w, b = as_array(result[0], "w"), as_array(result[1], "b")
        run = f"fit_linear(X, y, lr={lr}, steps={steps}, lam={lam})"
        expect(w.shape == (2,), f"{run}: w should have one weight per feature, shape (2,), got {w.shape}.")
        expect(b.size == 1, f"{run}: b should be one number, got shape {b.shape}.")
        b = float(b.reshape(()))
        ref_w, ref_b = _reference_fit(X, y, lr, steps, lam)
        same = lambda ww, bb: is_close(w, ww, rtol=1e-6, atol=1e-9) and np.isclose(b, bb, rtol=1e-6, atol=1e-9)  # noqa: E731
        if same(ref_w, ref_b):
            continue
        if not (np.isfinite(w).all() and np.isfinite(b)) or same(*_reference_fit(X, y, lr, steps, lam, sign=-1.0)):
            raise Mismatch(f"{run} ran away from the minimum (w = {w}, b = {b:.3g}): you step uphill. Step against "
                           "the gradient: w = w - lr * dw, b = b - lr * db.")
        expect(np.any(w != 0) or b != 0, f"{run} returned w = 0 and b = 0, the starting point: your loop "
                                         "never changes them (assign w = w - lr * dw inside the loop).")
        if b == 0.0 or same(*_reference_fit(X, y, lr, steps, lam, update_b=False)):
            raise Mismatch(f"{run} learned w = {np.round(w, 3)} but b = {b:.3g} never moved from 0: update the bias "
                           "in every step too, b = b - lr * db (the data's true bias is 0.8).")
        for k in (steps - 1, steps + 1):
            if same(*_reference_fit(X, y, lr, k, lam)):
                raise Mismatch(f"{run} took {k} steps instead of {steps}: off by one; take exactly `steps` "
                               "steps (for _ in range(steps)).")
        if lam and same(*_reference_fit(X, y, lr, steps, 0.0)):
            raise Mismatch(f"{run} ignores lam: your result is the unpenalised fit. Pass lam on to ridge_gradients.")
        expect_close(w, ref_w, f"{run}, w after {steps} steps from w = 0, b = 0 (compared with a reference run)",
                     rtol=1e-6, atol=1e-9)
        expect_close(b, ref_b, f"{run}, b after {steps} steps from w = 0, b = 0 (compared with a reference run)",
                     rtol=1e-6, atol=1e-9)
    pred = X @ w + b
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    return (f"both runs match the reference step for step; with lam = 0.3: w = {np.round(w, 2)}, b = {b:.2f}, "
            f"R^2 = {r2:.3f} (true w = [1.5, -2.0], b = 0.8: the penalty pulls w towards 0).")
