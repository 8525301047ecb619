"""Self-checks for exercise 03, activation functions.

Each check states its whole rule in its messages; the hidden tests of the solution
notebook only add cases of the same rules.
"""
from __future__ import annotations

import warnings

import numpy as np

from nnlib.activations import sigmoid as _sigmoid
from . import Mismatch, as_array, check, expect, expect_callable, expect_close, expect_tuple, is_close
from . import progress as _progress

POINTS = {"silu_slope": 3, "softplus": 3, "circle_features": 3, "chain_slope": 2}


def progress():
    """The running total of this exercise's self-checks (the exercise's last cell)."""
    return _progress(POINTS)


_Z = np.array([-1000.0, -30.0, -5.0, -2.0, -0.5, 0.0, 0.5, 2.0, 5.0, 30.0, 1000.0])
_Z_MODERATE = np.array([-4.0, -2.0, -0.5, 0.0, 0.5, 2.0, 4.0])


def _call(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)    # overflow in exp is judged by the result
        return fn(*(a.copy() if isinstance(a, np.ndarray) else a for a in args))


_same = is_close


def _first_difference(got, expected, z):
    got = np.asarray(got, dtype=np.float64)
    bad = np.flatnonzero(~np.isclose(got, expected, atol=1e-6, rtol=1e-5, equal_nan=False))
    i = int(bad[0])
    return f"at z = {z[i]:g} it is {got[i]:.6g}, expected {expected[i]:.6g}"


def _no_overflow(got, name, expected_far):
    got = np.asarray(got, dtype=np.float64)
    if not np.isfinite(got).all():
        i = int(np.flatnonzero(~np.isfinite(got))[0])
        raise Mismatch(f"{name} gives {got[i]} for z = {_Z[i]:g}, expected {expected_far[i]:.6g}: "
                       "e^z overflows to inf for large z (inf / inf is NaN). Write it with e^(-|z|), "
                       "which never exceeds 1, or with nnlib-style 1 / (1 + e^(-z)).")


# --- SiLU's slope ------------------------------------------------------------------------------

@check("silu_slope")
def silu_slope(fn):
    expect_callable(fn, "silu_slope")
    z = _Z_MODERATE
    s = _sigmoid(z)
    expected = s + z * s * (1 - s)
    got = as_array(_call(fn, z), "silu_slope(z)")
    what = "silu_slope(z) for z = [-4, -2, -0.5, 0, 0.5, 2, 4]"
    expect(got.shape == z.shape, f"{what} has shape {got.shape}, expected {z.shape}: one slope per entry of z.")
    if _same(got, s):
        raise Mismatch(f"{_first_difference(got, expected, z)}: your slope is sigmoid(z) alone; z * sigmoid(z) is "
                       "a product of two functions of z, and the product rule gives two terms.")
    if _same(got, z * s * (1 - s)):
        raise Mismatch(f"{_first_difference(got, expected, z)}: your slope is z times the sigmoid's slope alone; the "
                       "product rule also gives the term (dz/dz) * sigmoid(z).")
    if _same(got, s * (1 - s)):
        raise Mismatch(f"{_first_difference(got, expected, z)}: that is the sigmoid's slope; SiLU is z * sigmoid(z), "
                       "so differentiate the product.")
    if _same(got, z * s):
        raise Mismatch(f"{_first_difference(got, expected, z)}: that is SiLU itself, not its slope.")
    if _same(got, s + z * s * s):
        raise Mismatch(f"{_first_difference(got, expected, z)}: the sigmoid's slope is sigmoid(z) (1 - sigmoid(z)); "
                       "you wrote sigmoid(z)^2.")
    expect_close(got, expected, what)
    far = _sigmoid(_Z) + _Z * _sigmoid(_Z) * (1 - _sigmoid(_Z))
    got = _call(fn, _Z)
    _no_overflow(got, "silu_slope", far)
    expect_close(got, far, "silu_slope(z) for large |z| (up to 1000)")
    return "sigmoid(z) + z sigmoid(z) (1 - sigmoid(z)): near 0 far left, near 1 far right, and above 1 in between."


# --- softplus, exact for large |z| ------------------------------------------------------------------

def _softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


@check("softplus")
def softplus(fn):
    expect_callable(fn, "softplus")
    for z, label in ((_Z_MODERATE, "z = [-4, -2, -0.5, 0, 0.5, 2, 4]"), (_Z, "large |z| (up to 1000)")):
        value, slope = (as_array(v, n) for v, n in zip(expect_tuple(_call(fn, z), ("value", "slope"), "softplus"),
                                                      ("the value", "the slope")))
        expected, expected_slope = _softplus(z), _sigmoid(z)
        if not np.isfinite(value).all():
            i = int(np.flatnonzero(~np.isfinite(value))[0])
            raise Mismatch(f"softplus({z[i]:g}) is {value[i]}, expected {expected[i]:.6g}: log(1 + e^z) overflows "
                           "at e^1000. For z > 0 take z out: log(1 + e^z) = z + log(1 + e^(-z)); in general "
                           "max(z, 0) + log1p(e^(-|z|)).")
        if _same(value, np.maximum(z, 0)) and not _same(value, expected):
            raise Mismatch(f"{_first_difference(value, expected, z)}: your softplus is max(z, 0), relu; the log term "
                           "log1p(e^(-|z|)) is missing (softplus(0) = log 2).")
        expect_close(value, expected, f"softplus's value for {label}")
        if _same(slope, value):
            raise Mismatch(f"{_first_difference(slope, expected_slope, z)}: your slope is softplus itself; "
                           "differentiate log(1 + e^z) with the chain rule.")
        if _same(slope, 1 / (1 + np.exp(np.clip(z, -700, 700)))):
            raise Mismatch(f"{_first_difference(slope, expected_slope, z)}: your slope has the exponent's sign "
                           "flipped: softplus grows with z, so its slope goes to 1 for large z.")
        if _same(slope, (z > 0).astype(float)) and not _same(slope, expected_slope):
            raise Mismatch(f"{_first_difference(slope, expected_slope, z)}: that is relu's slope; softplus is smooth "
                           "and its slope at 0 is 1/2.")
        if not np.isfinite(slope).all():
            i = int(np.flatnonzero(~np.isfinite(slope))[0])
            raise Mismatch(f"the slope at z = {z[i]:g} is {slope[i]}, expected {expected_slope[i]:.6g}: e^z / (1 + e^z) "
                           "is inf / inf there. Simplify the fraction first (divide top and bottom by e^z).")
        expect_close(slope, expected_slope, f"softplus's slope for {label}")
    return "log(1 + e^z) without overflow, and its slope, the sigmoid: exact up to |z| = 1000."


# --- a feature for the circles -----------------------------------------------------------------------

TARGET_ACCURACY = 0.97


@check("circle_features")
def circle_features(fn):
    expect_callable(fn, "circle_features")
    from nnlib.data import circles
    from nnlib.layers import Dense
    from nnlib.losses import BinaryCrossEntropy
    from nnlib.model import Sequential
    from nnlib.optim import Adam

    X, y = circles(400, noise=0.05, seed=301)
    F = as_array(_call(fn, X), "circle_features(X)")
    expect(F.ndim == 2 and F.shape[0] == len(X),
           f"for X of shape {X.shape} your result has shape {F.shape}, expected ({len(X)}, 3): one row per "
           "point" + (" (did you stack the columns as rows? use np.column_stack)" if F.shape[-1:] == (len(X),) else "")
           + ".")
    expect(F.shape[1] == 3, f"your result has {F.shape[1]} columns, expected 3: x1, x2 and the one feature you add.")
    expect(np.allclose(F[:, :2], X), "the first two columns should be x1 and x2 unchanged; add your feature as the "
                                     "third column.")
    expect(np.isfinite(F).all(), "your feature contains NaN or inf.")
    new = F[:, 2]
    if np.allclose(new, X[:, 0] * X[:, 1]):
        hint = "x1 * x2 is XOR's cross (class by the signs of x1 and x2); the circles' class depends on the distance from the centre."
    elif np.allclose(new, X[:, 0] ** 2) or np.allclose(new, X[:, 1] ** 2):
        hint = "a square of one coordinate measures how far a point is to the side or up, not how far from the centre."
    elif np.linalg.matrix_rank(np.column_stack([X, np.ones(len(X)), new]), tol=1e-8) <= 3:
        hint = "your feature is a weighted sum of x1 and x2: it adds nothing a linear model could not already do."
    else:
        hint = ""
    model = Sequential([Dense(3, 1, rng=0)])
    model.fit(F, y, loss=BinaryCrossEntropy(), optimizer=Adam(0.05), epochs=300, batch_size=None, verbose=False)
    acc = model.evaluate(F, y)["accuracy"]
    expect(acc >= TARGET_ACCURACY, f"a linear model on your features reaches {acc:.1%} on the circles, expected at "
                                   f"least {TARGET_ACCURACY:.0%}" + (f": {hint}" if hint else "."))
    return f"a linear model on (x1, x2, your feature) separates the circles with accuracy {acc:.1%}."


# --- predict then verify: the slope through 10 sigmoids ------------------------------------------

CHAIN_LAYERS = 10


@check("chain_slope")
def chain_slope(fn):
    expect_callable(fn, "chain_slope")
    got = as_array(_call(fn), "your predicted slope")
    expect(got.size == 1, f"your prediction should be one number, got shape {got.shape}.")
    got = float(got.reshape(()))
    truth = 0.25 ** CHAIN_LAYERS
    near = lambda c: abs(got - c) <= 0.02 * abs(c)  # noqa: E731
    if near(0.25 * CHAIN_LAYERS):
        raise Mismatch(f"you predicted {got:.4g} = 10 * 0.25: the chain rule multiplies the slopes of the layers; "
                       "it does not add them.")
    if near(0.5 ** CHAIN_LAYERS):
        raise Mismatch(f"you predicted {got:.4g} = 0.5^10: 0.5 is the sigmoid's value at 0, not its slope there.")
    if near(0.25):
        raise Mismatch(f"you predicted {got:.4g}, one layer's slope; the slope of the chain is the product of all "
                       "10 layers' slopes.")
    if near(0.25 ** (CHAIN_LAYERS - 1)) or near(0.25 ** (CHAIN_LAYERS + 1)):
        raise Mismatch(f"you predicted {got:.4g}: off by one layer; count the sigmoids (10).")
    if near(1.0) or near(0.0):
        raise Mismatch(f"you predicted {got:.4g}: every layer has input 0 (sigmoid(0) - 1/2 = 0), so every layer "
                       "has the sigmoid's slope at 0, and they multiply.")
    expect(abs(got - truth) <= 0.06 * truth, f"you predicted {got:.4g}: what is the sigmoid's slope at 0, and how do the 10 layers' "
                        "slopes combine?")
    return f"{got:.3g}: the slope at 0 is 1/4, and ten of them multiply to about one millionth."
