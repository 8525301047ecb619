"""Self-checks for exercise 04, losses and gradient descent."""
from __future__ import annotations

import warnings

import numpy as np

from nnlib.activations import sigmoid
from . import Mismatch, as_array, check, expect, expect_callable, expect_close, expect_tuple, is_close
from . import progress as _progress


def _pair(result, name, what):
    return expect_tuple(result, [part.strip() for part in what.split(",")], name)


def _is(got, expected):
    return is_close(got, expected, atol=1e-9, rtol=1e-6)


POINTS = {"mse_after_sigmoid": 3, "cross_entropy_exact": 3, "diverging_rates": 2, "train_until": 3}


def progress():
    """The running total of this exercise's self-checks (the exercise's last cell)."""
    return _progress(POINTS)


def _stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1 + e)


def _call(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*(a.copy() for a in args))


def _value_and_grad(result, name, z):
    value, grad = _pair(result, name, "loss, gradient")
    value = as_array(value, "the loss")
    expect(value.size == 1, f"the loss should be one number (the mean over the batch), got shape {value.shape}.")
    grad = as_array(grad, "the gradient")
    expect(grad.shape == z.shape, f"the gradient has shape {grad.shape}, expected {z.shape}: one entry per logit.")
    return float(value.reshape(())), grad


# --- MSE after a sigmoid ------------------------------------------------------------------------------

@check("mse_after_sigmoid")
def mse_after_sigmoid(fn):
    expect_callable(fn, "mse_after_sigmoid")
    rng = np.random.default_rng(401)
    cases = [(np.array([2.0, -1.0, 0.0]), np.array([1.0, 1.0, 0.0])),
             (rng.normal(0, 2, size=8), rng.integers(0, 2, size=8).astype(float))]
    for i, (z, y) in enumerate(cases, 1):
        value, grad = _value_and_grad(_call(fn, z, y), "mse_after_sigmoid", z)
        n, p = len(y), sigmoid(z)
        expected_value, expected_grad = float(np.mean((p - y) ** 2)), 2 * (p - y) * p * (1 - p) / n
        what = f"for case {i} (z {z.tolist()}, y {y.tolist()})" if i == 1 else f"for case {i} (8 random logits)"
        if np.isclose(value, np.mean((z - y) ** 2)):
            raise Mismatch(f"{what} your loss is {value:.4g}: that is the MSE of the logits z; the loss compares "
                           "the probabilities p = sigmoid(z) with y.")
        if np.isclose(value, n * expected_value):
            raise Mismatch(f"{what} your loss is {value:.4g}: the sum of squared errors; divide by N = {n}.")
        expect_close(value, expected_value, f"{what}, the loss")
        if _is(grad, 2 * (p - y) / n):
            raise Mismatch(f"{what}, your gradient is 2 (p - y) / N: that is dL/dp, the gradient with respect to "
                           "the probability p. The question asks for dL/dz: the chain rule multiplies it by dp/dz, "
                           "the sigmoid's slope.")
        if _is(grad, (p - y) / n):
            raise Mismatch(f"{what}, your gradient is (p - y) / N: that is cross-entropy's gradient at the logits; "
                           "with the squared error the sigmoid's slope does not cancel.")
        if _is(grad, expected_grad / 2):
            raise Mismatch(f"{what}, your gradient is half the right one: the factor 2 from the square is missing.")
        if _is(grad, expected_grad * n):
            raise Mismatch(f"{what}, your gradient is {n} times too large: the loss is a mean, divide by N = {n}.")
        if _is(grad, -expected_grad):
            raise Mismatch(f"{what}, your gradient has the wrong sign: use (p - y), not (y - p).")
        if _is(grad, 2 * (p - y) * z * (1 - z) / n):
            raise Mismatch(f"{what}, your gradient uses z (1 - z); the sigmoid's slope is p (1 - p), with p = sigmoid(z).")
        expect_close(grad, expected_grad, f"{what}, the gradient dL/dz", atol=1e-9, rtol=1e-6)
    return "mean((p - y)^2) and its gradient at the logits, with the sigmoid's slope from the chain rule."


# --- cross-entropy, exact for logits of 1e4 ---------------------------------------------------------

def _bce(z, y):
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


@check("cross_entropy_exact")
def cross_entropy_exact(fn):
    expect_callable(fn, "cross_entropy_exact")
    rng = np.random.default_rng(402)
    cases = [(np.array([2.0, -1.0, 0.0]), np.array([1.0, 1.0, 0.0])),
             (rng.normal(0, 3, size=10), rng.integers(0, 2, size=10).astype(float)),
             (np.array([1e4, -1e4, 1e4, -50.0]), np.array([0.0, 1.0, 1.0, 0.0]))]
    for i, (z, y) in enumerate(cases, 1):
        n = len(y)
        what = {1: f"for case 1 (z {z.tolist()}, y {y.tolist()})", 2: "for case 2 (10 random logits)",
                3: f"for case 3 (z {z.tolist()}, y {y.tolist()})"}[i]
        result = _call(fn, z, y)
        value, grad = _pair(result, "cross_entropy_exact", "loss, gradient")
        value = as_array(value, "the loss")
        expect(value.size == 1, f"the loss should be one number (the mean over the batch), got shape {value.shape}.")
        value = float(value.reshape(()))
        expected_value, expected_grad = _bce(z, y), (_stable_sigmoid(z) - y) / n
        if not np.isfinite(value):
            raise Mismatch(f"{what} your loss is {value}, expected {expected_value:.6g}: sigmoid(1e4) rounds to "
                           "exactly 1, and log(1 - 1) = -inf. Do not go through p: write log(sigmoid(z)) and "
                           "log(1 - sigmoid(z)) in terms of z (log-sum-exp: log(1 + e^z) = max(z, 0) + "
                           "log1p(e^-|z|)).")
        if i == 3 and value < 0.5 * expected_value:
            raise Mismatch(f"{what} your loss is {value:.6g}, expected {expected_value:.6g}: a loss that clips p "
                           "(or adds an epsilon inside the log) caps each example's loss at about 35, so a wrong "
                           "answer with logit 1e4 costs 35 instead of 1e4. Compute the loss from z directly.")
        if np.isclose(value, -expected_value):
            raise Mismatch(f"{what} your loss is {value:.4g}, expected {expected_value:.4g}: the minus sign in front "
                           "is missing (log p is negative; the loss is -log p).")
        if np.isclose(value, expected_value * n):
            raise Mismatch(f"{what} your loss is {value:.4g}: that is the sum; divide by N = {n} for the mean, "
                           f"{expected_value:.4g}.")
        if np.isclose(value, _bce(z, 1 - y)):
            raise Mismatch(f"{what} your loss is {value:.4g}: you swapped y and 1 - y (a logit z > 0 says class 1).")
        expect_close(value, expected_value, f"{what}, the loss", atol=1e-6, rtol=1e-6)
        grad = as_array(grad, "the gradient")
        expect(grad.shape == z.shape, f"the gradient has shape {grad.shape}, expected {z.shape}: one entry per logit.")
        if _is(grad, -expected_grad):
            raise Mismatch(f"{what}, your gradient has the wrong sign: it is (sigmoid(z) - y) / N.")
        if _is(grad, expected_grad * n):
            raise Mismatch(f"{what}, your gradient is sigmoid(z) - y: divide by N = {n}, since the loss is a mean.")
        expect_close(grad, expected_grad, f"{what}, the gradient dL/dz", atol=1e-9, rtol=1e-6)
    return "the loss computed from the logits: exact even for logits of 1e4, with gradient (sigmoid(z) - y) / N."


# --- predict then verify: which learning rates diverge ----------------------------------------------

DIVERGENCE_X = np.array([[1.0, 2.0], [2.0, 1.0], [-1.0, 0.0], [0.0, -3.0]])
DIVERGENCE_LAM = 0.5
RATES = (0.1, 0.2, 0.24, 0.3, 0.5, 0.7)


def _diverging_above(limit):
    return {lr for lr in RATES if lr > limit}


def divergence_limits():
    """{mistake: the learning-rate limit it leads to} for DIVERGENCE_X (for the messages and the tests)."""
    X, lam, n = DIVERGENCE_X, DIVERGENCE_LAM, len(DIVERGENCE_X)
    H = 2 / n * X.T @ X + 2 * lam * np.eye(2)
    top, low = np.linalg.eigvalsh(H)[::-1]
    return {"right": 2 / top, "no penalty": 2 / np.linalg.eigvalsh(2 / n * X.T @ X).max(),
            "no factor 2": 2 / np.linalg.eigvalsh(X.T @ X / n + lam * np.eye(2)).max(),
            "1 / lambda": 1 / top, "smallest": 2 / low}


@check("diverging_rates")
def diverging_rates(fn):
    expect_callable(fn, "diverging_rates")
    answer = fn()
    if isinstance(answer, np.ndarray) and answer.ndim == 1:
        answer = answer.tolist()
    expect(isinstance(answer, (list, tuple, set, frozenset)),
           f"return the learning rates that diverge as a list, e.g. [0.5, 0.7], got {type(answer).__name__}.")
    got = set()
    for a in answer:
        match = [lr for lr in RATES if isinstance(a, (int, float, np.floating)) and np.isclose(float(a), lr)]
        expect(bool(match), f"{a!r} is not one of the learning rates {list(RATES)}.")
        got.add(match[0])
    limits = divergence_limits()
    shown = sorted(got)
    if got == _diverging_above(limits["right"]):
        return f"{shown} diverge: above 2 / lambda_max = {limits['right']:.3f}."
    if got == _diverging_above(limits["no penalty"]):
        raise Mismatch(f"you predicted {shown}: that is the limit of the MSE alone. The penalty lam * |w|^2 curves "
                       "the loss too: it adds 2 lam to every curvature.")
    if got == _diverging_above(limits["no factor 2"]):
        raise Mismatch(f"you predicted {shown}: your curvatures are half the real ones; the second derivative of "
                       "a square brings a factor 2 (for the data term and for the penalty).")
    if got == _diverging_above(limits["1 / lambda"]):
        raise Mismatch(f"you predicted {shown}: a step multiplies the distance along a curvature lambda by "
                       "(1 - lr * lambda); that grows only when it is below -1, i.e. for lr > 2 / lambda, not 1 / lambda.")
    if got == _diverging_above(limits["smallest"]):
        raise Mismatch(f"you predicted {shown}: the steepest direction diverges first, so the limit comes from the "
                       "largest curvature, not the smallest.")
    if got and min(got) < max(RATES) and got != _diverging_above(min(got) - 1e-9):
        raise Mismatch(f"you predicted {shown}: if a learning rate diverges, every larger one diverges too.")
    raise Mismatch(f"you predicted {shown}: compute the matrix of second derivatives of L, its largest eigenvalue "
                   "lambda_max (np.linalg.eigvalsh), and compare each learning rate with 2 / lambda_max.")


def _reference_train_until(X, y, lr, threshold, max_epochs):
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(1, max_epochs + 1):
        pred = X @ w + b
        value = np.mean((pred - y) ** 2)
        g = 2 * (pred - y) / len(y)
        w, b = w - lr * (X.T @ g), b - lr * np.sum(g)
        if value <= threshold:
            break
    return w, b, epoch


@check("train_until")
def train_until(fn):
    expect_callable(fn, "train_until")
    rng = np.random.default_rng(403)
    X = rng.uniform(-1, 1, size=(60, 2))
    y = X @ np.array([2.0, -1.0]) + 0.5 + 0.05 * rng.standard_normal(60)
    threshold = 0.01
    result = fn(X.copy(), y.copy(), lr=0.2, threshold=threshold, max_epochs=1000)
    expect(result is not None, "train_until returned None: did you forget to `return w, b, epoch`?")
    expect(isinstance(result, tuple) and len(result) == 3,
           f"train_until should return (w, b, epoch), got {type(result).__name__}.")
    w, b, epochs = result
    ref_w, ref_b, ref_epochs = _reference_train_until(X, y, 0.2, threshold, 1000)
    w = np.asarray(w, dtype=np.float64)
    expect(w.shape == (2,), f"w should hold one weight per feature, shape (2,), got {w.shape}.")
    with np.errstate(all="ignore"):
        final = float(np.mean((X @ w + float(b) - y) ** 2))
    if not np.isfinite(final) or final > 1e6:
        raise Mismatch(f"your parameters ran away (w = {w}, b = {float(b):.3g}): you step uphill. Step against the "
                       "gradient: w - lr * dw, b - lr * db.")
    if float(b) == 0.0 and np.any(w != 0):
        raise Mismatch(f"your loop returns b = 0: the bias never moved (the data's bias is 0.5). Update it in every "
                       "epoch too, b = b - lr * db.")
    if epochs == 1000 and ref_epochs < 1000:
        raise Mismatch(f"your loop ran all 1000 epochs; it should stop at epoch {ref_epochs}, the first whose loss "
                       f"is <= the threshold {threshold}. Compare the loss with the threshold in every epoch.")
    if final > 10 * threshold:
        raise Mismatch(f"after your {epochs} epochs the loss is {final:.4g}, far above the threshold {threshold}: "
                       "the parameters did not descend (check your gradients of the MSE with respect to w and b).")
    if abs(int(epochs) - ref_epochs) == 1:
        raise Mismatch(f"your loop reports {epochs} epochs, expected {ref_epochs}: off by one. Count the epochs "
                       "from 1, measure the loss at the start of each epoch (before its step), take the step, "
                       "and stop after the first epoch whose loss is <= the threshold.")
    expect(int(epochs) == ref_epochs, f"your loop stopped after {epochs} epochs, expected {ref_epochs} "
                                      f"(the first epoch whose loss is <= {threshold}).")
    expect_close(w, ref_w, "the weights w when the loop stopped", atol=1e-6, rtol=1e-4)
    expect_close(b, ref_b, "the bias b when the loop stopped", atol=1e-6, rtol=1e-4)
    return f"stopped at epoch {epochs} with loss {final:.4g} <= {threshold}."
