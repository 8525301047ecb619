"""Self-checks for exercise 05, backpropagation.

Every backward pass is compared with the numerical gradient (centered
differences in float64), the way chapter 5 checks nnlib's own layers; the
mistakes seen most often get a message of their own.
"""
from __future__ import annotations

import numpy as np

from nnlib.activations import log_softmax, sigmoid
from nnlib.data import circles
from nnlib.gradcheck import numerical_gradient
from . import Mismatch, as_array, check, expect, expect_callable, expect_close, expect_tuple

TOL = 1e-6          # max relative error against the numerical gradient


_array = as_array


def _same(got, expected):
    return got.shape == np.shape(expected) and np.allclose(got, expected, rtol=1e-6, atol=1e-9)


def _agree(got, numeric, what):
    """The max relative error of got against the numerical gradient; a Mismatch saying where, if too large."""
    got = _array(got, what)
    if got.shape != numeric.shape:
        raise Mismatch(f"{what} has shape {got.shape}, expected {numeric.shape} (a gradient has the shape "
                       f"of what it is the gradient of).")
    if not np.isfinite(got).all():
        raise Mismatch(f"{what} contains NaN or inf: look for an overflow (exp of a large number) or a division by 0.")
    rel = np.abs(got - numeric) / np.maximum(np.abs(got) + np.abs(numeric), 1e-8)
    err = float(rel.max()) if rel.size else 0.0
    if err > TOL:
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel)), rel.shape))
        where = f" at index {idx if len(idx) > 1 else idx[0]}" if idx else ""
        raise Mismatch(f"{what}{where} is {got[idx]:.6g}, but the numerical gradient is {numeric[idx]:.6g} "
                       f"(max relative error {err:.2g}; a correct backward pass stays below {TOL:g}).")
    return err


def _triple(result, fn_name, names):
    return [_array(r, name) for r, name in zip(expect_tuple(result, names, fn_name), names)]


# --- Dense --------------------------------------------------------------------------------------

def _dense_cases():
    rng = np.random.default_rng(501)
    return [
        (rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 2))),
        (rng.standard_normal((1, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4), rng.standard_normal((1, 4))),
        (rng.standard_normal((6, 2)), rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal((6, 3))),
    ]


@check("dense_backward")
def dense_backward(fn):
    expect_callable(fn, "dense_backward")
    worst = 0.0
    for i, (x, W, b, G) in enumerate(_dense_cases(), 1):
        dx, dW, db = _triple(fn(x.copy(), W.copy(), G.copy()), "dense_backward", ("dx", "dW", "db"))
        case = f"for case {i} (x {x.shape}, W {W.shape}, grad_out {G.shape})"
        if dW.shape == W.T.shape != W.shape:
            raise Mismatch(f"{case}, dW has shape {dW.shape}, the shape of W.T; a gradient has the shape of its "
                           f"parameter, {W.shape}: dW = x.T @ grad_out.")
        if db.shape == G.shape != b.shape:
            raise Mismatch(f"{case}, db has shape {db.shape}, one row per example: b is added to every row, so "
                           f"add up grad_out over the batch (axis 0) to get shape {b.shape}.")
        if dx.shape != x.shape:
            raise Mismatch(f"{case}, dx has shape {dx.shape}, expected the shape of x, {x.shape}: dx = grad_out @ W.T.")

        def loss():                                 # L = sum(y * grad_out) has dL/dy = grad_out
            return float(np.sum((x @ W + b) * G))

        numeric = {"dx": numerical_gradient(loss, x), "dW": numerical_gradient(loss, W),
                   "db": numerical_gradient(loss, b)}
        n = x.shape[0]
        if n > 1 and _same(db * n, numeric["db"]):
            raise Mismatch(f"{case}, db is {n} times too small: it is the mean of grad_out over the batch. Take "
                           "the sum: the 1/N of a mean loss is already inside grad_out.")
        for name, got in (("dx", dx), ("dW", dW), ("db", db)):
            worst = max(worst, _agree(got, numeric[name], f"{case}, {name}"))
    return f"dx, dW and db agree with the numerical gradient in all 3 cases (max relative error {worst:.1e})."


# --- activations ----------------------------------------------------------------------------------

def _activation_cases():
    rng = np.random.default_rng(502)
    z1 = np.array([[-2.0, -0.5, 0.3], [1.5, 3.0, -4.0]])
    return [(z1, np.array([[1.0, -2.0, 0.5], [0.7, 1.2, -0.3]])),
            (rng.standard_normal((5, 4)) * 2, rng.standard_normal((5, 4)))]


@check("sigmoid_backward")
def sigmoid_backward(fn):
    expect_callable(fn, "sigmoid_backward")
    worst = 0.0
    for i, (z, G) in enumerate(_activation_cases(), 1):
        got = _array(fn(z.copy(), G.copy()), f"for case {i}, sigmoid_backward(z, grad_out)")
        s = sigmoid(z)
        what = f"for case {i} (z of shape {z.shape}), dz"
        if _same(got, s * (1 - s)):
            raise Mismatch(f"{what} is sigmoid'(z) alone: multiply it by grad_out (the chain rule: "
                           "dL/dz = dL/ds * ds/dz).")
        if _same(got, G * z * (1 - z)):
            raise Mismatch(f"{what} uses z (1 - z); the slope is s (1 - s) with s = sigmoid(z), the output.")
        numeric = numerical_gradient(lambda: float(np.sum(sigmoid(z) * G)), z)
        worst = max(worst, _agree(got, numeric, what))
    return f"dz agrees with the numerical gradient (max relative error {worst:.1e})."


@check("relu_backward")
def relu_backward(fn):
    expect_callable(fn, "relu_backward")
    worst = 0.0
    for i, (z, G) in enumerate(_activation_cases(), 1):
        got = _array(fn(z.copy(), G.copy()), f"for case {i}, relu_backward(z, grad_out)")
        what = f"for case {i} (z of shape {z.shape}), dz"
        if _same(got, (z > 0).astype(float)):
            raise Mismatch(f"{what} is the slope (z > 0) alone: multiply it by grad_out.")
        if _same(got, np.maximum(G, 0)):
            raise Mismatch(f"{what} keeps the positive entries of grad_out; the gate is the sign of the input z: "
                           "grad_out where z > 0, 0 elsewhere.")
        if _same(got, G * np.maximum(z, 0)):
            raise Mismatch(f"{what} multiplies grad_out by relu(z); multiply by the slope instead: 1 where z > 0, "
                           "0 elsewhere.")
        numeric = numerical_gradient(lambda: float(np.sum(np.maximum(z, 0) * G)), z)
        worst = max(worst, _agree(got, numeric, what))
    return f"dz agrees with the numerical gradient (max relative error {worst:.1e})."


# --- softmax + cross-entropy ----------------------------------------------------------------------

def _ce(z, labels):
    return float(-np.mean(log_softmax(z, axis=1)[np.arange(len(labels)), labels]))


@check("softmax_cross_entropy")
def softmax_cross_entropy(fn):
    expect_callable(fn, "softmax_cross_entropy")
    rng = np.random.default_rng(503)
    cases = [(np.array([[2.0, 1.0, -1.0], [0.5, 0.5, 3.0]]), np.array([0, 1])),
             (rng.standard_normal((6, 4)) * 2, rng.integers(0, 4, 6)),
             (rng.standard_normal((1, 3)), np.array([2]))]
    worst = 0.0
    for i, (z, labels) in enumerate(cases, 1):
        n = len(labels)
        case = f"for case {i} (logits {z.shape})"
        loss, dz = _triple(fn(z.copy(), labels.copy()), "softmax_cross_entropy", ("loss", "dlogits"))
        expected = _ce(z, labels)
        expect(loss.size == 1, f"{case}, the loss should be one number (the mean over the batch), got shape {loss.shape}.")
        loss = float(loss.reshape(()))
        if n > 1 and np.isclose(loss, n * expected):
            raise Mismatch(f"{case}, the loss is {loss:.6g}: that is the sum over the {n} examples; take the mean, "
                           f"{expected:.6g}.")
        expect_close(loss, expected, f"{case}, the loss")
        p = np.exp(log_softmax(z, axis=1))
        onehot = np.eye(z.shape[1])[labels]
        if n > 1 and _same(dz, p - onehot):
            raise Mismatch(f"{case}, dlogits is P - Y, {n} times too large: the loss is a mean over the batch, "
                           f"so divide by N = {n}.")
        if _same(dz, p / n) or _same(dz, p):
            raise Mismatch(f"{case}, dlogits is the softmax itself; subtract the one-hot labels: (P - Y) / N.")
        numeric = numerical_gradient(lambda: _ce(z, labels), z)
        worst = max(worst, _agree(dz, numeric, f"{case}, dlogits"))
    big = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 1000.0]])
    with np.errstate(all="ignore"):
        loss, dz = _triple(fn(big.copy(), np.array([0, 1])), "softmax_cross_entropy", ("loss", "dlogits"))
    if not (np.isfinite(loss).all() and np.isfinite(dz).all()):
        raise Mismatch("for logits of 1000 your function returns NaN or inf: exp(1000) overflows. Subtract each "
                       "row's largest logit before exp; softmax does not change, and no exp exceeds 1.")
    expect_close(loss, _ce(big, np.array([0, 1])), "for logits of 1000, the loss")
    expect_close(dz, (np.exp(log_softmax(big, axis=1)) - np.eye(3)[[0, 1]]) / 2, "for logits of 1000, dlogits")
    return f"the loss and (P - Y) / N agree with the numerical gradient (max relative error {worst:.1e}), even for logits of 1000."


# --- training -------------------------------------------------------------------------------------

TARGET_ACCURACY = 0.95


@check("train_circles")
def train_circles(fn):
    expect_callable(fn, "train_circles")
    X, y = circles(400, noise=0.1, seed=505)
    X_test, y_test = circles(400, noise=0.1, seed=506)
    params = fn(X.copy(), y.copy())
    expect(isinstance(params, dict), f"train_circles should return a dict of parameters, got {type(params).__name__}.")
    missing = [k for k in ("W1", "b1", "W2", "b2") if k not in params]
    expect(not missing, f"the returned dict lacks {', '.join(missing)} (expected keys W1, b1, W2, b2).")
    W1, b1, W2, b2 = (_array(params[k], k) for k in ("W1", "b1", "W2", "b2"))
    hidden = W1.shape[1] if W1.ndim == 2 else None
    expect(W1.ndim == 2 and W1.shape[0] == 2, f"W1 should have shape (2, hidden), got {W1.shape}.")
    for name, arr, shape in (("b1", b1, (hidden,)), ("W2", W2, (hidden, 2)), ("b2", b2, (2,))):
        expect(arr.shape == shape, f"{name} should have shape {shape}, got {arr.shape}.")
    expect(all(np.isfinite(a).all() for a in (W1, b1, W2, b2)),
           "the parameters contain NaN or inf: training diverged; try a smaller learning rate.")

    def accuracy(X, y):
        return float(np.mean((np.maximum(X @ W1 + b1, 0) @ W2 + b2).argmax(axis=1) == y))

    test_acc, train_acc = accuracy(X_test, y_test), accuracy(X, y)
    expect(test_acc >= TARGET_ACCURACY,
           f"your network classifies {test_acc:.1%} of 400 fresh circle points correctly (training data: "
           f"{train_acc:.1%}); expected at least {TARGET_ACCURACY:.0%}. Check that every step updates all four "
           "parameters with minus the learning rate times their gradient.")
    return f"test accuracy {test_acc:.1%} on 400 fresh points (training data {train_acc:.1%}), with your own backward passes."
