"""Self-checks for exercise 03, activation functions."""
from __future__ import annotations

import warnings

import numpy as np

from nnlib.activations import sigmoid as _sigmoid
from . import Mismatch, check, expect, expect_callable, expect_close, is_close

_Z = np.array([-1000.0, -30.0, -5.0, -2.0, -0.5, 0.0, 0.5, 2.0, 5.0, 30.0, 1000.0])
_Z_MODERATE = np.array([-4.0, -2.0, -0.5, 0.0, 0.5, 2.0, 4.0])


def _call(fn, z):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)    # overflow in exp is judged by the result
        return fn(z.copy())


_same = is_close


def _first_difference(got, expected, z):
    got = np.asarray(got, dtype=np.float64)
    bad = np.flatnonzero(~np.isclose(got, expected, atol=1e-6, rtol=1e-5, equal_nan=False))
    i = int(bad[0])
    return f"at z = {z[i]:g} it is {got[i]:.6g}, expected {expected[i]:.6g}"


@check("sigmoid")
def sigmoid(fn):
    expect_callable(fn, "sigmoid")
    z = _Z_MODERATE
    got = _call(fn, z)
    expected = _sigmoid(z)
    if _same(got, 1.0 / (1.0 + np.exp(z))):
        raise Mismatch(f"your sigmoid(2) is {float(np.asarray(got)[5]):.4f}, expected {expected[5]:.4f}: "
                       "the exponent has the wrong sign; it is e^(-z), so large z gives values near 1.")
    if _same(got, np.tanh(z)):
        raise Mismatch("your function is tanh (it goes below 0); the sigmoid is 1 / (1 + e^(-z)), between 0 and 1.")
    expect_close(got, expected, "sigmoid(z) for z = [-4, -2, -0.5, 0, 0.5, 2, 4]")
    got = np.asarray(_call(fn, _Z), dtype=np.float64)
    if not np.isfinite(got).all():
        raise Mismatch(f"sigmoid gives {got[~np.isfinite(got)][0]} for z = {_Z[~np.isfinite(got)][0]:g}: "
                       "a form like e^z / (1 + e^z) becomes inf / inf there. Write it as 1 / (1 + e^(-z)): "
                       "numpy turns e^1000 into inf and 1 / (1 + inf) into 0, which is the right limit.")
    expect_close(got, _sigmoid(_Z), "sigmoid(z) for large |z| (up to 1000)")
    return "1 / (1 + e^(-z)): 0.5 at 0, near 0 far left, near 1 far right."


@check("sigmoid_slope")
def sigmoid_slope(fn):
    expect_callable(fn, "sigmoid_slope")
    z = _Z_MODERATE
    s = _sigmoid(z)
    expected = s * (1 - s)
    got = _call(fn, z)
    if _same(got, s):
        raise Mismatch(f"at z = 0 your slope is {float(np.asarray(got)[3]):.4f}, expected 0.25: that is the "
                       "sigmoid itself, not its slope sigmoid(z) * (1 - sigmoid(z)).")
    if _same(got, s * (1 - z)):
        raise Mismatch(f"{_first_difference(got, expected, z)}: you multiplied by (1 - z); the rule is "
                       "sigmoid(z) * (1 - sigmoid(z)), with the sigmoid in both places.")
    if _same(got, 1 - s ** 2):
        raise Mismatch(f"{_first_difference(got, expected, z)}: 1 - sigmoid(z)^2 is tanh's rule written with "
                       "the sigmoid; the sigmoid's slope is sigmoid(z) * (1 - sigmoid(z)).")
    expect_close(got, expected, "sigmoid_slope(z) for z = [-4, -2, -0.5, 0, 0.5, 2, 4]")
    got = np.asarray(_call(fn, _Z), dtype=np.float64)
    if not np.isfinite(got).all():
        raise Mismatch(f"sigmoid_slope gives {got[~np.isfinite(got)][0]} for "
                       f"z = {_Z[~np.isfinite(got)][0]:g}; it should be close to 0 there.")
    expect(got.max() <= 0.25 + 1e-12, f"your slope reaches {got.max():.4g}; the sigmoid's slope is never above 1/4.")
    return "sigmoid(z) * (1 - sigmoid(z)): 0.25 at 0, fading on both sides."


@check("relu")
def relu(relu_fn, slope_fn):
    expect_callable(relu_fn, "relu")
    expect_callable(slope_fn, "relu_slope")
    z = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    got = _call(relu_fn, z)
    if _same(got, np.minimum(z, 0)):
        raise Mismatch("your relu keeps the negative values and zeroes the positive ones: it is max(0, z).")
    expect_close(got, np.maximum(z, 0), "relu(z) for z = [-3, -0.5, 0, 0.5, 3]")
    expected = (z > 0).astype(float)
    got = _call(slope_fn, z)
    if _same(got, np.maximum(z, 0)):
        raise Mismatch(f"{_first_difference(got, expected, z)}: relu_slope returns relu itself; "
                       "the slope is 1 where z > 0 and 0 elsewhere.")
    if _same(got, (z >= 0).astype(float)):
        raise Mismatch("relu_slope(0) is 1, expected 0: at exactly 0 take the slope to be 0 (use z > 0), "
                       "as nnlib does.")
    expect_close(got, expected, "relu_slope(z) for z = [-3, -0.5, 0, 0.5, 3]")
    return "max(0, z), with slope 1 for z > 0 and 0 otherwise."


@check("add_cross_feature")
def add_cross_feature(fn):
    expect_callable(fn, "add_cross_feature")
    X = np.array([[1.0, 2.0], [-0.5, 0.5], [3.0, -1.0]])
    got = fn(X.copy())
    expected = np.column_stack([X, X[:, 0] * X[:, 1]])
    expect(got is not None, "add_cross_feature returned None: did you forget to `return` it?")
    got = np.asarray(got, dtype=np.float64)
    expect(got.shape == (3, 3), f"for X of shape (3, 2) your result has shape {got.shape}, expected (3, 3): "
                                "the two original columns followed by x1 * x2.")
    if np.allclose(got[:, 2], X.sum(axis=1)):
        raise Mismatch("your third column is x1 + x2; a feature cross is the product x1 * x2.")
    if np.allclose(got[:, 2], X[:, 0] ** 2):
        raise Mismatch("your third column is x1 * x1; the cross multiplies the two different features, x1 * x2.")
    expect_close(got, expected, "add_cross_feature(X) for X = [[1, 2], [-0.5, 0.5], [3, -1]]")
    # the point of it: a linear model on the crossed features fits XOR
    from nnlib.data import xor
    from nnlib.layers import Dense
    from nnlib.losses import BinaryCrossEntropy
    from nnlib.model import Sequential
    from nnlib.optim import SGD

    Xx, yx = xor(300, seed=301)
    model = Sequential([Dense(3, 1, rng=0)])
    Xc = np.asarray(fn(Xx.copy()), dtype=np.float64)
    model.fit(Xc, yx, loss=BinaryCrossEntropy(), optimizer=SGD(1.0), epochs=300, batch_size=None, verbose=False)
    acc = model.evaluate(Xc, yx)["accuracy"]
    expect(acc >= 0.97, f"a linear model on your features reaches only {acc:.1%} on XOR, expected at least 97%.")
    return f"a linear model on (x1, x2, x1*x2) fits XOR with accuracy {acc:.1%}."
