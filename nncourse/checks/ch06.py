"""Self-checks for exercise 06, training failures.

The answers are compared with nnlib's own measurements (nnlib.diagnostics, BatchNorm);
the mistakes seen most often get a message of their own.
"""
from __future__ import annotations

import numpy as np

from nnlib.activations import ReLU, Sigmoid
from nnlib.data import circles, moons
from nnlib.diagnostics import dead_unit_fraction, gradient_norms as _gradient_norms
from nnlib.layers import Dense
from nnlib.losses import BinaryCrossEntropy
from nnlib.model import Sequential
from nnlib.optim import SGD
from nnlib.regularization import BatchNorm
from . import as_array, check, expect, expect_callable, expect_close


_array = as_array


def _deep_sigmoid(depth=6, width=8, seed=0):
    layers, n = [], 2
    for i in range(depth - 1):
        layers += [Dense(n, width, rng=seed + i), Sigmoid()]
        n = width
    return Sequential(layers + [Dense(n, 1, rng=seed + depth)])


# --- Question 1: per-layer gradient norms ----------------------------------------------------

@check("gradient_norms")
def gradient_norms(fn):
    expect_callable(fn, "gradient_norms")
    X, y = circles(40, noise=0.05, seed=601)
    cases = [("a 6-layer sigmoid network", _deep_sigmoid()),
             ("a ReLU network", Sequential([Dense(2, 5, init="he", rng=1), ReLU(), Dense(5, 4, init="he", rng=2),
                                            ReLU(), Dense(4, 1, rng=3)]))]
    for name, model in cases:
        expected = _gradient_norms(model, X, y, BinaryCrossEntropy())
        dense = [layer for layer in model.layers if isinstance(layer, Dense)]
        got = _array(fn(model, X.copy(), y.copy()), f"for {name}, your result")
        expect(got.ndim == 1 and got.size == expected.size,
               f"for {name} ({len(model.layers)} layers, {len(dense)} of them Dense) you returned "
               f"{got.size} numbers (shape {got.shape}); expected one per Dense layer, {expected.size}.")
        if not np.allclose(got, expected, rtol=1e-6):
            weights = np.array([np.linalg.norm(layer.W) for layer in dense])
            with_bias = np.array([np.sqrt(np.sum(layer.grads["W"] ** 2) + np.sum(layer.grads["b"] ** 2))
                                  for layer in dense])
            if np.allclose(got, expected[::-1], rtol=1e-6):
                expect(False, f"for {name} your norms are in reverse order: list them from the input side "
                              "(model.layers[0]) to the output.")
            if np.allclose(got, weights, rtol=1e-6):
                expect(False, f"for {name} you returned the norms of the weights W, not of their gradients "
                              "layer.grads['W'].")
            if not np.any(got):
                expect(False, f"for {name} all your norms are 0: run the forward pass, loss.forward, then "
                              "model.backward(loss.backward()) before reading layer.grads.")
            expect(not np.allclose(got, with_bias, rtol=1e-6),
                   f"for {name} your norms include the bias gradients; take the norm of layer.grads['W'] only.")
            expect_close(got, expected, f"for {name}, the gradient norm of Dense layer", rtol=1e-6, atol=1e-12)
    sig = _gradient_norms(cases[0][1], X, y, BinaryCrossEntropy())
    return (f"both networks match; in the sigmoid one the first layer gets {sig[0] / sig[-1]:.1e} "
            f"times the last layer's gradient.")


# --- Question 2: the vanishing layer ---------------------------------------------------------

def _vanishing(norms, ratio):
    norms = np.asarray(norms, dtype=float)
    below = np.flatnonzero(norms < ratio * norms[-1])
    return int(below[-1]) + 1 if below.size else None


@check("vanishing_layer")
def vanishing_layer(fn):
    expect_callable(fn, "vanishing_layer")
    X, y = circles(40, noise=0.05, seed=602)
    deep = _gradient_norms(_deep_sigmoid(depth=10, width=8, seed=10), X, y, BinaryCrossEntropy())
    cases = [
        ("the 10-layer sigmoid network", deep, 1e-3),
        ("norms [1e-06, 0.05, 0.06, 1e-05, 0.1, 1.0]", np.array([1e-6, 0.05, 0.06, 1e-5, 0.1, 1.0]), 1e-3),
        ("norms [5e-4, 0.5, 2.0, 0.3] (a healthy network)", np.array([5e-4, 0.5, 2.0, 0.3]), 1e-3),
        ("norms [1e-4, 2e-3, 0.03, 1.0] with ratio 0.01", np.array([1e-4, 2e-3, 0.03, 1.0]), 1e-2),
    ]
    for name, norms, ratio in cases:
        expected = _vanishing(norms, ratio)
        got = fn(norms.copy(), ratio)
        by_max = np.flatnonzero(norms < ratio * norms.max())
        if got is not None and got != expected and by_max.size and got == by_max[-1] + 1:
            expect(False, f"for {name} you returned {got}: you compared with the largest norm; compare with the "
                          f"last layer's (the output layer's), {norms[-1]:.3g}.")
        if expected is None:
            expect(got is None, f"for {name} no layer is below {ratio:g} times the last one: expected None, got {got!r}.")
            continue
        expect(got is not None, f"for {name} you returned None, expected layer {expected}.")
        expect(isinstance(got, (int, np.integer)) and not isinstance(got, bool),
               f"for {name} return the layer's number as an int, got {type(got).__name__} {got!r}.")
        if got == expected - 1:
            expect(False, f"for {name} you returned {got}, expected {expected}: number the layers from 1 "
                          "(the one next to the input), not from 0.")
        below = int(np.sum(norms < ratio * norms[-1]))
        if got == below and below != expected:
            expect(False, f"for {name} you returned {got}, the number of layers below the threshold; "
                          f"expected the number of the highest such layer, {expected}.")
        expect(got == expected, f"for {name} (threshold {ratio:g} x the last layer's {norms[-1]:.3g}) "
                                f"you returned layer {got}, expected layer {expected}.")
    return f"all {len(cases)} cases match; in the 10-layer sigmoid network layers 1 to {_vanishing(deep, 1e-3)} barely train."


# --- Question 3: batch normalization forward ---------------------------------------------------

def _bn_reference(x, gamma, beta, mean, var, training, momentum, eps):
    layer = BatchNorm(x.shape[1], momentum=momentum, eps=eps)
    layer.params["gamma"][...] = gamma
    layer.params["beta"][...] = beta
    layer.running_mean[...] = mean
    layer.running_var[...] = var
    out = layer.forward(x, training=training)
    return out, layer.running_mean.copy(), layer.running_var.copy()


@check("batchnorm_forward")
def batchnorm_forward(fn):
    expect_callable(fn, "batchnorm_forward")
    rng = np.random.default_rng(603)
    x = rng.standard_normal((8, 3)) * [1.0, 5.0, 0.001] + [0.0, 3.0, -2.0]
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 0.3])
    mean, var = np.array([0.5, 2.0, -1.0]), np.array([2.0, 10.0, 0.5])
    for training in (True, False):
        mode = "training" if training else "inference"
        result = fn(x.copy(), gamma.copy(), beta.copy(), mean.copy(), var.copy(), training, momentum=0.9, eps=1e-5)
        expect(isinstance(result, (tuple, list)) and len(result) == 3,
               f"batchnorm_forward should return (out, running_mean, running_var), got {type(result).__name__}"
               f"{f' of length {len(result)}' if isinstance(result, (tuple, list)) else ''}.")
        out, new_mean, new_var = (_array(r, name) for r, name in zip(result, ("out", "running_mean", "running_var")))
        exp_out, exp_mean, exp_var = _bn_reference(x, gamma, beta, mean, var, training, 0.9, 1e-5)
        expect(out.shape == x.shape, f"in {mode}, out has shape {out.shape}, expected {x.shape} (the shape of x).")
        if not np.allclose(out, exp_out, rtol=1e-5, atol=1e-6):
            if training:
                n = x.shape[0]
                unbiased = (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + 1e-5) * gamma + beta
                by_rows = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5) * gamma + beta
                running = (x - mean) / np.sqrt(var + 1e-5) * gamma + beta
                no_eps = (x - x.mean(0)) / np.sqrt(x.var(0)) * gamma + beta
                expect(not np.allclose(out, unbiased, rtol=1e-5), "in training your variance divides by "
                       f"{n - 1} (np.var with ddof=1); batch normalization divides by the batch size, {n}.")
                expect(not np.allclose(out, by_rows, rtol=1e-5), "in training you normalised each example "
                       "(axis=1); normalise each feature over the batch: mean and var along axis=0.")
                expect(not np.allclose(out, running, rtol=1e-5), "in training you used the running statistics; "
                       "training normalises with the batch's own mean and variance.")
                expect(not np.allclose(out[:, :2], no_eps[:, :2], rtol=1e-5),
                       "in training your feature 2 (variance about 1e-6) is off: add eps inside the square root, "
                       "sqrt(var + eps).")
            else:
                batch = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) * gamma + beta
                expect(not np.allclose(out, batch, rtol=1e-5), "at inference you used the batch's statistics; "
                       "use running_mean and running_var, so one example's output does not depend on the batch.")
            expect_close(out, exp_out, f"in {mode}, out", rtol=1e-5, atol=1e-6)
        if training and not np.allclose(new_mean, exp_mean, rtol=1e-6):
            swapped = 0.1 * mean + 0.9 * x.mean(0)
            expect(not np.allclose(new_mean, swapped, rtol=1e-6), "your running mean is 0.1 x old + 0.9 x batch; "
                   "with momentum 0.9 it is 0.9 x old + 0.1 x batch (the old value changes slowly).")
            expect(not np.allclose(new_mean, mean), "in training the running mean must move towards the batch mean: "
                   "running_mean = momentum * running_mean + (1 - momentum) * batch_mean.")
        if not training:
            expect(np.allclose(new_mean, mean) and np.allclose(new_var, var),
                   "at inference the running statistics must come back unchanged: only training updates them.")
        expect_close(new_mean, exp_mean, f"in {mode}, your running_mean", rtol=1e-6, atol=1e-9)
        if training and not np.allclose(new_var, exp_var, rtol=1e-6):
            unbiased = 0.9 * var + 0.1 * x.var(0, ddof=1)
            expect(not np.allclose(new_var, unbiased, rtol=1e-6), "your running variance uses np.var with ddof=1; "
                   "use the same batch variance as the normalisation (divide by the batch size).")
        expect_close(new_var, exp_var, f"in {mode}, your running_var", rtol=1e-6, atol=1e-9)
    return "training (batch statistics, running averages updated) and inference (running statistics) both match."


# --- Question 4: a learning rate that keeps the units alive ----------------------------------------

def _pick(candidates, results, max_dead=0.1, min_accuracy=0.95):
    ok = [lr for lr in candidates if results[lr][0] <= max_dead and results[lr][1] >= min_accuracy]
    return max(ok) if ok else None


def _moons_relu_net():
    return Sequential([Dense(2, 32, init="he", rng=0), ReLU(), Dense(32, 32, init="he", rng=1), ReLU(),
                       Dense(32, 32, init="he", rng=2), ReLU(), Dense(32, 1, rng=9)])


def train_relu_net(lr, epochs=30):
    """The chapter's moons network trained at lr: returns (fraction of dead units, accuracy)."""
    X, y = moons(300, noise=0.1, seed=0)
    net = _moons_relu_net()
    net.fit(X, y, loss=BinaryCrossEntropy(), optimizer=SGD(lr), epochs=epochs, batch_size=32, verbose=False)
    return dead_unit_fraction(net, X), net.evaluate(X, y)["accuracy"]


@check("pick_learning_rate")
def pick_learning_rate(fn):
    expect_callable(fn, "pick_learning_rate")
    fake_sets = [
        {0.01: (0.05, 0.80), 0.1: (0.06, 0.96), 0.3: (0.08, 0.97), 0.6: (0.09, 0.90), 1.0: (0.15, 0.99), 3.0: (0.8, 0.5)},
        {0.05: (0.10, 0.95), 0.5: (0.11, 0.99), 2.0: (0.9, 0.5)},
        {1.0: (0.5, 0.99), 2.0: (0.7, 0.5)},
    ]
    for i, results in enumerate(fake_sets, 1):
        candidates = list(results)[::-1] if i == 1 else list(results)
        calls = []

        def train(lr, results=results, calls=calls):
            calls.append(lr)
            return results[lr]

        got = fn(list(candidates), train)
        expected = _pick(candidates, results)
        table = ", ".join(f"lr {lr}: {d:.0%} dead, accuracy {a:.2f}" for lr, (d, a) in results.items())
        if got != expected:
            ok_dead = [lr for lr in candidates if results[lr][0] <= 0.1]
            ok_acc = [lr for lr in candidates if results[lr][1] >= 0.95]
            ok = [lr for lr in ok_dead if lr in ok_acc]
            if ok and got == min(ok):
                expect(False, f"for results {table} you picked {got}, the smallest good rate; pick the largest "
                              f"one that passes ({expected}): it trains fastest.")
            if ok_dead and got == max(ok_dead):
                expect(False, f"for results {table} you picked {got}: it keeps the units alive but reaches only "
                              f"accuracy {results[got][1]:.2f}; the rate must also reach accuracy 0.95.")
            if ok_acc and got == max(ok_acc):
                expect(False, f"for results {table} you picked {got}: accurate, but {results[got][0]:.0%} of its "
                              "units are dead; at most 10% may be.")
            expect(False, f"for results {table} you picked {got!r}, expected {expected!r} "
                          "(the largest rate with at most 10% dead units and accuracy at least 0.95; None if none).")
        expect(len(calls) <= len(candidates), f"your function trained {len(calls)} times for {len(candidates)} "
                                              "candidates: train each rate once.")
    candidates = [0.01, 0.1, 0.3, 1.0, 3.0]
    real = {lr: train_relu_net(lr) for lr in candidates}
    got = fn(list(candidates), lambda lr: real[lr])
    expected = _pick(candidates, real)
    expect(got == expected, f"on the chapter's network you picked {got!r}, expected {expected!r}.")
    return (f"on the chapter's network you pick lr {got}: {real[got][0]:.0%} dead units, accuracy "
            f"{real[got][1]:.2f} (lr 3.0 left {real[3.0][0]:.0%} dead and accuracy {real[3.0][1]:.2f}).")
