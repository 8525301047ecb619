"""Self-checks for exercise 02, hidden layers."""
from __future__ import annotations

import numpy as np

from nnlib.activations import relu
from . import Mismatch, check, expect, expect_callable, expect_close, is_close


def _layer_cases():
    rng = np.random.default_rng(201)
    return [
        (np.array([[2.0, -1.0]]), np.array([[0.5, -1.0, 0.8], [0.25, 0.5, -0.6]]), np.array([0.25, 0.0, -0.5])),
        (rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)),
        (rng.standard_normal((4, 2)), rng.standard_normal((2, 1)), np.array([1.5])),
    ]


_close = is_close


@check("dense_forward")
def dense_forward(fn):
    expect_callable(fn, "dense_forward")
    for i, (X, W, b) in enumerate(_layer_cases(), 1):
        got = fn(X.copy(), W.copy(), b.copy())
        expected = X @ W + b
        what = f"for case {i} (X {X.shape}, W {W.shape}, b {b.shape}), dense_forward(X, W, b)"
        if got is not None and _close(got, X @ W):
            raise Mismatch(f"{what} equals X @ W: the bias is missing; every neuron adds its own b_j.")
        if got is not None and np.shape(got) == (W.shape[1], X.shape[0]):
            raise Mismatch(f"{what} has shape {np.shape(got)}, expected {expected.shape}: one row per example "
                           "and one column per neuron, i.e. X @ W, not W.T @ X.T.")
        expect_close(got, expected, what)
    return f"all {len(_layer_cases())} cases match X @ W + b: one row per example, one column per neuron."


def _two_layer_case():
    rng = np.random.default_rng(202)
    X = rng.standard_normal((6, 2))
    W1, b1 = rng.standard_normal((2, 4)), rng.standard_normal(4)
    W2, b2 = rng.standard_normal((4, 3)), rng.standard_normal(3)
    return X, W1, b1, W2, b2


@check("two_layer_forward")
def two_layer_forward(fn):
    expect_callable(fn, "two_layer_forward")
    X, W1, b1, W2, b2 = _two_layer_case()
    args = lambda: (X.copy(), W1.copy(), b1.copy(), W2.copy(), b2.copy())  # noqa: E731
    linear = (X @ W1 + b1) @ W2 + b2
    got = fn(*args())
    expect_close(got, linear, "without an activation, two_layer_forward(X, W1, b1, W2, b2)")
    expected = relu(X @ W1 + b1) @ W2 + b2
    got = fn(*args(), activation=relu)
    what = "with activation=relu, two_layer_forward(...)"
    if _close(got, linear):
        raise Mismatch(f"{what} gives the same output as without an activation: apply `activation` to the "
                       "hidden values, h = activation(X @ W1 + b1), before the second layer.")
    if _close(got, relu(expected)) and not _close(got, expected):
        raise Mismatch(f"{what}: the output went through the activation too (it has no negative values). "
                       "The activation sits between the layers; the output layer stays linear here.")
    if _close(got, relu(X @ W1) @ W2 + b2):
        raise Mismatch(f"{what}: the first bias b1 is missing inside the activation: h = activation(X @ W1 + b1).")
    expect_close(got, expected, what)
    return "the hidden layer gets its activation, the output stays a weighted sum."


@check("collapse")
def collapse(fn):
    expect_callable(fn, "collapse")
    rng = np.random.default_rng(203)
    for i, (n_in, n_hid, n_out) in enumerate([(2, 3, 3), (3, 5, 2), (2, 3, 1)], 1):
        W1, b1 = rng.standard_normal((n_in, n_hid)), rng.standard_normal(n_hid)
        W2, b2 = rng.standard_normal((n_hid, n_out)), rng.standard_normal(n_out)
        result = fn(W1.copy(), b1.copy(), W2.copy(), b2.copy())
        expect(isinstance(result, tuple) and len(result) == 2,
               f"collapse should return a pair (W, b), got {type(result).__name__}.")
        W, b = result
        what = f"for layers {n_in} -> {n_hid} -> {n_out}"
        expect_close(W, W1 @ W2, f"{what}, your W (expected W1 @ W2, shape {(n_in, n_out)})")
        if b is not None and n_hid == n_out and _close(b, b1 + b2):
            raise Mismatch(f"{what}, your b is b1 + b2; but b1 is added before the second layer, so it is "
                           "multiplied by W2 too: b = b1 @ W2 + b2.")
        if b is not None and _close(b, b2):
            raise Mismatch(f"{what}, your b is just b2: the first layer's bias b1 also reaches the output, "
                           "through W2: b = b1 @ W2 + b2.")
        expect_close(b, b1 @ W2 + b2, f"{what}, your b (expected b1 @ W2 + b2)")
        X = rng.standard_normal((10, n_in))
        expect_close(X @ np.asarray(W) + np.asarray(b), (X @ W1 + b1) @ W2 + b2,
                     f"{what}, the single layer's output")
    return "W = W1 @ W2 and b = b1 @ W2 + b2: one layer computes exactly what the two did."


@check("count_parameters")
def count_parameters(fn):
    expect_callable(fn, "count_parameters")
    for sizes in ([3, 1], [2, 3, 1], [2, 8, 8, 1], [784, 128, 10]):
        got = fn(list(sizes))
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        biases = sum(sizes[1:])
        expected = weights + biases
        what = f"count_parameters({list(sizes)})"
        expect(got is not None, f"{what} is None: did you forget to `return` it?")
        expect(np.ndim(got) == 0, f"{what} should be one number, got {np.shape(got)}.")
        if got == weights:
            raise Mismatch(f"{what} is {got}: that counts the weights only; every neuron after the input "
                           f"layer also has a bias ({biases} more), so the total is {expected}.")
        if got == expected + sizes[0]:
            raise Mismatch(f"{what} is {got}: the input layer has no bias (its nodes are the features), "
                           f"so the total is {expected}.")
        expect(got == expected, f"{what} is {got}, expected {expected} "
                                f"({weights} weights + {biases} biases).")
    return "weights (n_in x n_out per layer) plus one bias per neuron."
