"""Self-checks for exercise 02, hidden layers."""
from __future__ import annotations

import numpy as np

from . import Mismatch, as_array, check, expect, expect_callable, expect_close, expect_tuple, is_close
from . import progress as _progress

POINTS = {"dense_forward": 2, "two_layer_forward": 3, "fold_standardization": 3, "count_parameters": 2,
          "xor_prediction": 2}


def progress():
    """The running total of this exercise's self-checks (the exercise's last cell)."""
    return _progress(POINTS)


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
        if got is not None and len(b) > 1 and _close(got, X @ W + b[0]):
            raise Mismatch(f"{what} adds b[0] to every neuron: each neuron j has its own bias b_j, so add the "
                           "whole vector b (numpy adds it to every row).")
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


ACTIVATIONS = {"none": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}


@check("two_layer_forward")
def two_layer_forward(fn):
    expect_callable(fn, "two_layer_forward")
    X, W1, b1, W2, b2 = _two_layer_case()
    args = lambda: (X.copy(), W1.copy(), b1.copy(), W2.copy(), b2.copy())  # noqa: E731
    linear = (X @ W1 + b1) @ W2 + b2
    got = fn(*args())
    expect_close(got, linear, "with the default activation=\"none\", two_layer_forward(X, W1, b1, W2, b2)")
    for name in ("none", "relu", "tanh"):
        f = ACTIVATIONS[name]
        expected = f(X @ W1 + b1) @ W2 + b2
        got = fn(*args(), activation=name)
        what = f"with activation={name!r}, two_layer_forward(...)"
        if name != "none":
            if _close(got, linear):
                raise Mismatch(f"{what} gives the same output as without an activation: apply it to the "
                               "hidden values, h = f(X @ W1 + b1), before the second layer.")
            if _close(got, f(expected)) and not _close(got, expected):
                raise Mismatch(f"{what}: the output went through the activation too. The activation sits between "
                               "the layers; the output layer stays a weighted sum here.")
            if _close(got, f(X @ W1) @ W2 + b2):
                raise Mismatch(f"{what}: the first bias b1 is missing inside the activation: h = f(X @ W1 + b1).")
            if _close(got, f(X @ W1 + b1) @ W2):
                raise Mismatch(f"{what}: the second layer's bias b2 is missing.")
            other = "tanh" if name == "relu" else "relu"
            if _close(got, ACTIVATIONS[other](X @ W1 + b1) @ W2 + b2):
                raise Mismatch(f"{what} applies {other}, not {name}: look at how you pick the function from its name.")
        expect_close(got, expected, what)
    return "the hidden layer gets its activation (none, relu or tanh), the output stays a weighted sum."


# --- fold a standardisation into the first layer ------------------------------------------------

@check("fold_standardization")
def fold_standardization(fn):
    expect_callable(fn, "fold_standardization")
    rng = np.random.default_rng(203)
    for i, (n_in, n_out) in enumerate([(3, 3), (2, 4), (4, 1)], 1):
        mu, sigma = rng.normal(0, 3, n_in), rng.uniform(0.5, 4, n_in)
        W, b = rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)
        result = expect_tuple(fn(mu.copy(), sigma.copy(), W.copy(), b.copy()), ("W_new", "b_new"),
                              "fold_standardization")
        Wn, bn = as_array(result[0], "W_new"), as_array(result[1], "b_new")
        what = f"for {n_in} features and {n_out} neurons"
        W_true, b_true = W / sigma[:, None], b - (mu / sigma) @ W
        expect(Wn.shape == W.shape, f"{what}, W_new has shape {Wn.shape}, expected {W.shape}, the shape of W.")
        if _close(Wn, W):
            raise Mismatch(f"{what}, W_new is W unchanged: the layer now sees x, not (x - mu) / sigma, so each "
                           "feature's row of weights has to take over the division by its sigma.")
        if _close(Wn, W * sigma[:, None]):
            raise Mismatch(f"{what}, W_new multiplies each row by sigma; standardising divides by sigma.")
        if n_in == n_out and _close(Wn, W / sigma[None, :]):
            raise Mismatch(f"{what}, W_new divides each column by a sigma: sigma belongs to the features, which "
                           "are the rows of W (shape (n_in, n_out)); divide row k by sigma[k].")
        expect_close(Wn, W_true, f"{what}, W_new")
        expect(bn.shape == b.shape, f"{what}, b_new has shape {bn.shape}, expected {b.shape}, one per neuron.")
        if _close(bn, b):
            raise Mismatch(f"{what}, b_new is b unchanged: subtracting mu shifts every weighted sum, and that "
                           "shift must move into the bias.")
        if _close(bn, b + (mu / sigma) @ W):
            raise Mismatch(f"{what}, b_new has the shift with the wrong sign: the layer subtracted mu.")
        if _close(bn, b - mu @ W):
            raise Mismatch(f"{what}, b_new = b - mu @ W forgets that mu was divided by sigma too: the shift is "
                           "(mu / sigma) @ W.")
        expect_close(bn, b_true, f"{what}, b_new")
        X = rng.normal(0, 3, (10, n_in))
        expect_close(X @ Wn + bn, ((X - mu) / sigma) @ W + b, f"{what}, the folded layer's output")
    return "one layer on the raw features computes exactly what the layer did on standardised ones."


# --- predict then verify: which networks fit XOR --------------------------------------------------

XOR_NETWORKS = {"A": "2 -> 1, no hidden layer", "B": "2 -> 16 -> 16 -> 1, no activation",
                "C": "2 -> 16 -> 1, ReLU", "D": "2 -> 8 -> 1, tanh"}
XOR_FITS = {"C", "D"}


def _letters(answer):
    if isinstance(answer, str):
        answer = [c for c in answer if not c.isspace() and c not in ",;"]
    expect(isinstance(answer, (list, tuple, set, frozenset)),
           f"give the networks as a string of letters such as \"AB\" or a list of letters, got {type(answer).__name__}.")
    letters = set()
    for a in answer:
        expect(isinstance(a, str) and a.strip().upper() in XOR_NETWORKS,
               f"{a!r} is not one of the networks A, B, C, D.")
        letters.add(a.strip().upper())
    return letters


@check("xor_prediction")
def xor_prediction(fn):
    expect_callable(fn, "xor_prediction")
    got = _letters(fn())
    shown = "".join(sorted(got)) or "none"
    if "A" in got:
        raise Mismatch(f"you predicted {shown}: A is a linear model, and its border is a straight line; no straight "
                       "line separates XOR (chapter 1).")
    if "B" in got:
        raise Mismatch(f"you predicted {shown}: B has three layers but no activation, so its layers fold into one "
                       "(question 3, chapter 2): it is a linear model with a straight border, however deep.")
    if "D" not in got and "C" in got:
        raise Mismatch(f"you predicted {shown}: what breaks the collapse is any nonlinear activation, not ReLU in "
                       "particular; tanh bends the border too.")
    if "C" not in got:
        raise Mismatch(f"you predicted {shown}: a hidden layer with a nonlinear activation (C and D) is what a "
                       "network needs for XOR, and 16 ReLU units are plenty.")
    expect(got == XOR_FITS, f"you predicted {shown}.")
    return "C and D: the activation, not the depth, lets a network bend its border."


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
        last = sizes[-2] * sizes[-1] + sizes[-1]
        if got == expected - last:
            raise Mismatch(f"{what} is {got}: the last layer ({sizes[-2]} -> {sizes[-1]}, {last} parameters) is "
                           "missing; a list of k sizes has k - 1 layers, pair each size with the next.")
        if got == weights + len(sizes) - 1 and biases != len(sizes) - 1:
            raise Mismatch(f"{what} is {got}: one bias per layer; every neuron has its own bias, so a layer of "
                           f"n_out neurons has n_out of them ({biases} in all).")
        expect(got == expected, f"{what} is {got}, expected {expected} "
                                f"({weights} weights + {biases} biases).")
    return "weights (n_in x n_out per layer) plus one bias per neuron."
