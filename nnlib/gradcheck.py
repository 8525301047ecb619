"""Gradient checking: compare a backward pass with finite differences.

A backward pass is easy to get subtly wrong. The numerical gradient needs no
calculus: nudge one number by +-eps, see how the loss moves,

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

(centered differences, error O(eps^2)). It is far too slow to train with (two
forward passes per number), but perfect to test with. Use float64: in float32
the rounding error of f swamps the difference for any useful eps.

    check_layer(Dense(3, 4, rng=0), x)       -> max relative error (about 1e-10 when right)
    check_loss(CrossEntropy(), logits, y)    -> the same for a loss
"""
from __future__ import annotations

import numpy as np

from ._validate import as_generator

__all__ = ["numerical_gradient", "relative_error", "check_layer", "check_loss", "check_model"]


def numerical_gradient(f, x, eps=1e-5):
    """Centered-difference gradient of the scalar function f() with respect to the array x.

    x is changed in place, one entry at a time, and restored; f takes no
    arguments and must read x (e.g. a closure over a layer's weights). x must be
    a float array: an integer array would round x + eps back to x.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient: x must be a float numpy array (it is nudged by eps={eps:g} in place), "
                        f"got {type(x).__name__}{' of dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}; "
                        f"use x = x.astype(float) and let f read that array")
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        old = x[i].copy()
        x[i] = old + eps
        f_plus = f()
        x[i] = old - eps
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric, floor=1e-8):
    """max_i |a_i - n_i| / max(|a_i| + |n_i|, floor): 0 when equal, 1 when unrelated.

    The floor keeps entries where both gradients are ~0 from dividing by ~0.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {n.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), floor)))


def _require_float64(arrays, who):
    for name, arr in arrays.items():
        if arr.dtype != np.float64:
            raise ValueError(f"{who}: {name} is {arr.dtype}; gradient checks need float64 (make the layer with dtype=np.float64)")


def check_layer(layer, x, *, seed=0, eps=1e-5, training=True, details=False):
    """Max relative error between layer.backward and numerical gradients.

    Checks dL/dx and dL/d(every parameter) for L = sum(layer(x) * R), R a fixed
    random array (so every output gets a different upstream gradient).
    details=True returns {"x": err, "W": err, ...} instead of the max.
    """
    x = np.array(x, dtype=np.float64)      # a copy we may nudge
    _require_float64(layer.params, f"check_layer({layer!r})")
    R = as_generator(seed).standard_normal(layer.forward(x, training=training).shape)

    def f():
        return float(np.sum(layer.forward(x, training=training) * R))

    layer.forward(x, training=training)
    dx = layer.backward(R.copy())
    analytic = {"x": dx}
    analytic.update({name: g.copy() for name, g in layer.grads.items()})
    errors = {"x": relative_error(dx, numerical_gradient(f, x, eps))}
    for name, p in layer.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(f, p, eps))
    return errors if details else max(errors.values())


def check_loss(loss, pred, target, *, eps=1e-5):
    """Max relative error between loss.backward() and the numerical gradient w.r.t. pred."""
    pred = np.array(pred, dtype=np.float64)
    loss.forward(pred, target)
    analytic = loss.backward().copy()
    numeric = numerical_gradient(lambda: loss.forward(pred, target), pred, eps)
    return relative_error(analytic, numeric)


def check_model(model, loss, X, y, *, eps=1e-5, training=True, details=False):
    """Gradient check of a whole network: every parameter of model under loss(model(X), y)."""
    X = np.asarray(X, dtype=np.float64)
    params = model.parameters()
    _require_float64({f"parameter {i}": p for i, p in enumerate(params)}, "check_model")

    def f():
        return loss.forward(model.forward(X, training=training), y)

    f()
    model.backward(loss.backward())
    analytic = [g.copy() for g in model.gradients()]
    errors = [relative_error(a, numerical_gradient(f, p, eps)) for a, p in zip(analytic, params)]
    return errors if details else max(errors)
