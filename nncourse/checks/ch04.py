"""Self-checks for exercise 04, losses and gradient descent."""
from __future__ import annotations

import warnings

import numpy as np

from nnlib.activations import sigmoid
from nnlib.gradcheck import numerical_gradient
from . import Mismatch, check, expect, expect_callable, expect_close, expect_tuple, is_close


def _pair(result, name, what):
    return expect_tuple(result, [part.strip() for part in what.split(",")], name)


def _is(got, expected):
    return is_close(got, expected, atol=1e-9, rtol=1e-6)


@check("mse_and_gradient")
def mse_and_gradient(fn):
    expect_callable(fn, "mse_and_gradient")
    rng = np.random.default_rng(401)
    cases = [(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])), (rng.normal(size=8), rng.normal(size=8))]
    for i, (pred, y) in enumerate(cases, 1):
        value, grad = _pair(fn(pred.copy(), y.copy()), "mse_and_gradient", "loss, gradient")
        n = len(y)
        expected_value, expected_grad = np.mean((pred - y) ** 2), 2 * (pred - y) / n
        what = f"for case {i} (pred {np.round(pred, 3).tolist()}, y {np.round(y, 3).tolist()})" if i == 1 else f"for case {i}"
        if np.ndim(value) == 0 and np.isclose(float(value), np.sum((pred - y) ** 2)) and n > 1:
            raise Mismatch(f"{what} your loss is {float(value):.4g}: the sum of squared errors; divide by "
                           f"N = {n} for the mean, {expected_value:.4g}.")
        expect_close(value, expected_value, f"{what}, the loss")
        if _is(grad, (pred - y) / n):
            raise Mismatch(f"{what}, your gradient is (pred - y) / N: the factor 2 from the square is missing.")
        if _is(grad, 2 * (pred - y)):
            raise Mismatch(f"{what}, your gradient is 2 (pred - y): divide by N = {n}, since the loss is a mean.")
        if _is(grad, -expected_grad):
            raise Mismatch(f"{what}, your gradient has the wrong sign: the loss grows when pred moves away from y, "
                           "so the gradient is 2 (pred - y) / N.")
        expect_close(grad, expected_grad, f"{what}, the gradient dL/dpred")
    return "the mean of the squared errors, and its gradient 2 (pred - y) / N."


@check("cross_entropy_and_gradient")
def cross_entropy_and_gradient(fn):
    expect_callable(fn, "cross_entropy_and_gradient")
    rng = np.random.default_rng(402)
    cases = [(np.array([2.0, -1.0, 0.0]), np.array([1.0, 1.0, 0.0])),
             (rng.normal(0, 3, size=10), rng.integers(0, 2, size=10).astype(float)),
             (np.array([30.0, -30.0, 30.0]), np.array([0.0, 1.0, 1.0]))]
    for i, (z, y) in enumerate(cases, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value, grad = _pair(fn(z.copy(), y.copy()), "cross_entropy_and_gradient", "loss, gradient")
        n, p = len(y), sigmoid(z)
        expected_value = float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
        expected_grad = (p - y) / n
        what = f"for case {i} (z {z.tolist()}, y {y.tolist()})" if i != 2 else "for case 2 (10 random logits)"
        if np.ndim(value) == 0 and np.isfinite(float(value)):
            if np.isclose(float(value), -expected_value):
                raise Mismatch(f"{what} your loss is {float(value):.4g}, expected {expected_value:.4g}: the minus "
                               "sign in front is missing (log p is negative; the loss is -log p).")
            if np.isclose(float(value), expected_value * n) and n > 1:
                raise Mismatch(f"{what} your loss is {float(value):.4g}: that is the sum; divide by N = {n} "
                               f"for the mean, {expected_value:.4g}.")
        expect_close(value, expected_value, f"{what}, the loss", atol=1e-6, rtol=1e-4)
        if _is(grad, -expected_grad):
            raise Mismatch(f"{what}, your gradient has the wrong sign: it is (sigmoid(z) - y) / N.")
        if _is(grad, p - y):
            raise Mismatch(f"{what}, your gradient is sigmoid(z) - y: divide by N = {n}, since the loss is a mean.")
        if _is(grad, (p - y) * p * (1 - p) / n):
            raise Mismatch(f"{what}, your gradient has an extra factor p (1 - p): with cross-entropy it cancels "
                           "against 1 / (p (1 - p)) from the logs, leaving (sigmoid(z) - y) / N.")
        expect_close(grad, expected_grad, f"{what}, the gradient dL/dz", atol=1e-9, rtol=1e-6)
    # and the gradient is the gradient of the loss the function computes
    z, y = rng.normal(size=5), np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    numeric = numerical_gradient(lambda: float(fn(z, y)[0]), z)
    expect_close(fn(z.copy(), y.copy())[1], numeric, "your gradient compared with the numerical gradient of your loss",
                 atol=1e-7, rtol=1e-4)
    return "-mean(y log p + (1 - y) log(1 - p)), and its gradient (p - y) / N at the logits."


@check("gradient_descent_step")
def gradient_descent_step(fn):
    expect_callable(fn, "gradient_descent_step")
    params = [np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([0.25, -1.0])]
    grads = [2 * p for p in params]                            # gradients of L = sum of squares
    before = sum(float(np.sum(p ** 2)) for p in params)
    result = fn([p.copy() for p in params], [g.copy() for g in grads], 0.1)
    expect(result is not None, "gradient_descent_step returned None: did you forget to `return` the new parameters?")
    expect(isinstance(result, (list, tuple)) and len(result) == 2,
           f"gradient_descent_step should return a list with one array per parameter (2 here), got "
           f"{type(result).__name__}{f' of length {len(result)}' if hasattr(result, '__len__') else ''}.")
    after = sum(float(np.sum(np.asarray(p, dtype=float) ** 2)) for p in result)
    if _is(result[0], params[0] + 0.1 * grads[0]):
        raise Mismatch(f"you added the gradient: the loss went up from {before:.4g} to {after:.4g}. "
                       "The gradient points uphill; step against it, p - lr * g.")
    if _is(result[0], params[0] - grads[0]):
        raise Mismatch("you subtracted the whole gradient: multiply it by the learning rate first, p - lr * g.")
    for i, (p, g) in enumerate(zip(params, grads)):
        expect_close(result[i], p - 0.1 * g, f"parameter {i} after one step with lr = 0.1")
    return f"one step against the gradient: the loss went down from {before:.4g} to {after:.4g}."


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
    final = float(np.mean((X @ w + float(b) - y) ** 2))
    if epochs == 1000 and ref_epochs < 1000:
        raise Mismatch(f"your loop ran all 1000 epochs; it should stop at epoch {ref_epochs}, the first whose loss "
                       f"is <= the threshold {threshold}. Compare the loss with the threshold in every epoch.")
    if final > 10 * threshold:
        raise Mismatch(f"after your {epochs} epochs the loss is {final:.4g}, far above the threshold {threshold}: "
                       "the parameters did not descend (check the gradients dw = X.T @ g and db = sum(g)).")
    if abs(int(epochs) - ref_epochs) == 1:
        raise Mismatch(f"your loop reports {epochs} epochs, expected {ref_epochs}: off by one. Count the epochs "
                       "from 1, measure the loss at the start of each epoch (before its step), take the step, "
                       "and stop after the first epoch whose loss is <= the threshold.")
    expect(int(epochs) == ref_epochs, f"your loop stopped after {epochs} epochs, expected {ref_epochs} "
                                      f"(the first epoch whose loss is <= {threshold}).")
    expect_close(w, ref_w, "the weights w when the loop stopped", atol=1e-6, rtol=1e-4)
    expect_close(b, ref_b, "the bias b when the loop stopped", atol=1e-6, rtol=1e-4)
    return f"stopped at epoch {epochs} with loss {final:.4g} <= {threshold}."
