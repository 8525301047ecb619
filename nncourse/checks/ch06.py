"""Self-checks for exercise 06, training failures.

Every check calls the learner's functions with plain data (numbers, arrays, lists) and compares
with nnlib's own computations (BatchNorm, the moons network of chapter 6); the mistakes seen
most often get a message of their own. ``POINTS`` are the nbgrader points of each question.
"""
from __future__ import annotations

import functools

import numpy as np

from nnlib.activations import ReLU, Sigmoid
from nnlib.data import circles, moons
from nnlib.diagnostics import dead_unit_fraction, gradient_norms as _gradient_norms
from nnlib.layers import Dense
from nnlib.losses import BinaryCrossEntropy
from nnlib.model import Sequential
from nnlib.optim import SGD
from nnlib.regularization import BatchNorm
from . import as_array, check, expect, expect_callable, expect_close, expect_tuple, is_close
from . import read_prediction
from . import progress as _progress

POINTS = {"predicted_ratio": 2, "vanishing_layer": 2, "batchnorm_forward": 2, "batchnorm_backward": 4,
          "pick_learning_rate": 2}


def progress():
    """The running total of this exercise's self-checks (the last cell of the exercise)."""
    return _progress(POINTS)


_array = as_array


def _deep_sigmoid(depth=6, width=8, seed=0):
    layers, n = [], 2
    for i in range(depth - 1):
        layers += [Dense(n, width, rng=seed + i), Sigmoid()]
        n = width
    return Sequential(layers + [Dense(n, 1, rng=seed + depth)])


# --- Question 1: predict the vanishing factor, then measure it ------------------------------------

DEPTH = 6
RATIO_BOUND = 0.25 ** (DEPTH - 1)


def _number(got, what):
    expect(got is not None, f"{what} is None: did you forget to `return` it?")
    expect(not isinstance(got, (bool, np.bool_)), f"{what} should be a number, got {got!r}.")
    arr = _array(got, what)
    expect(arr.ndim == 0 or arr.size == 1, f"{what} should be one number, got shape {arr.shape}.")
    return float(arr.reshape(()))


@check("predicted_ratio")
def predicted_ratio(fn):
    expect_callable(fn, "predicted_ratio")
    got = _number(fn(), "your predicted ratio")
    if np.isclose(got, RATIO_BOUND, rtol=1e-3):
        return (f"{got:.3g} = (1/4)^{DEPTH - 1}: one factor of at most 1/4 per sigmoid, and there are "
                f"{DEPTH - 1} sigmoids between {DEPTH} Dense layers. Run the next cell to measure it.")
    hints = [
        (0.25 ** DEPTH, f"you counted {DEPTH} sigmoid slopes: between {DEPTH} Dense layers there are {DEPTH - 1} "
                        "sigmoids (off by one), and only they shrink the signal (orthogonal W keep its norm)."),
        (0.25 ** (DEPTH - 2), f"you counted {DEPTH - 2} sigmoid slopes: between {DEPTH} Dense layers there are {DEPTH - 1} (off by one)."),
        (0.5 ** (DEPTH - 1), "the sigmoid's largest slope is sigma(0) * (1 - sigma(0)) = 1/4, not 1/2."),
        (0.25, "the factors compound: each of the sigmoids multiplies the error signal by at most 1/4."),
        (0.25 * (DEPTH - 1), "the factors multiply, they do not add: the signal passes the sigmoids one after the other."),
        (4.0 ** (DEPTH - 1), "that is the inverse: the ratio asked for is first layer / last layer, which is below 1."),
        (1.0, "orthogonal weights keep the norm, but each sigmoid's slope (at most 1/4) still shrinks the signal."),
    ]
    for value, hint in hints:
        expect(not np.isclose(got, value, rtol=1e-3), f"you predicted {got:.4g}: {hint}")
    expect(False, f"you predicted {got:.4g}; the bound is a power of the sigmoid's largest slope. "
                  "Count the sigmoids the error signal passes on its way down.")


def sigmoid_ratios(depth=DEPTH, width=8, seeds=20, n=500, centred=True):
    """Measured max over examples of |delta_1| / |delta_depth|, one per seed, in sigmoid networks with orthogonal W."""
    ratios = []
    for seed in range(seeds):
        rng = np.random.default_rng(600 + seed)
        Ws = [np.linalg.qr(rng.standard_normal((width, width)))[0] for _ in range(depth)]
        a, zs = rng.standard_normal((n, width)) * 0.1, []
        for W in Ws[:-1]:
            z = a @ W - (0.5 * W.sum(0) if zs and centred else 0.0)   # a bias that centres z near 0: slopes near 1/4
            zs.append(z)
            a = 1 / (1 + np.exp(-z))
        delta = rng.standard_normal((n, width))                # dL/dz of the last layer
        top = np.linalg.norm(delta, axis=1)
        for W, z in zip(Ws[:0:-1], zs[::-1]):
            s = 1 / (1 + np.exp(-z))
            delta = (delta @ W.T) * s * (1 - s)
        ratios.append(float(np.max(np.linalg.norm(delta, axis=1) / top)))
    return np.array(ratios)


def verify_ratio(fn):
    """The experiment after the prediction: measure the ratio over 20 seeds, say whether the prediction held.
    It waits for the prediction: the measurement is shown once there is one to compare it with."""
    guess = read_prediction(fn, lambda raw: float(np.asarray(raw, dtype=float).reshape(())), "a number")
    if guess is None:
        return None
    ratios = sigmoid_ratios()
    plain = sigmoid_ratios(centred=False, n=100)
    print(f"largest |delta_1| / |delta_{DEPTH}| over 500 examples, 20 seeds (orthogonal W):\n"
          f"  biases that centre every z near 0:  {ratios.min():.4g} to {ratios.max():.4g}\n"
          f"  no biases (z away from 0):           {plain.min():.3g} to {plain.max():.3g}")
    ratios = np.concatenate([ratios, plain])
    held = bool(np.all(ratios <= guess * (1 + 1e-9)))
    if held:
        print(f"your bound {guess:.3g} holds on every seed; the largest measured ratio is "
              f"{ratios.max() / guess:.0%} of it.")
    else:
        print(f"your bound {guess:.3g} does not hold: {int(np.sum(ratios > guess))} of {ratios.size} seeds exceed it.")
    return ratios


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
            expect(not np.allclose(new_mean, swapped, rtol=1e-6), "your running mean is 0.1 x old + 0.9 x batch: "
                   "that is PyTorch's convention, where momentum (0.1 there) is the weight of the NEW batch. Not wrong "
                   "in itself, but this exercise and nnlib use Keras's: momentum 0.9 is the weight the OLD running "
                   "value keeps, so the running mean is 0.9 x old + 0.1 x batch.")
            expect(not np.allclose(new_mean, mean), "in training the running mean must move towards the batch mean: "
                   "running_mean = momentum * running_mean + (1 - momentum) * batch_mean.")
        if not training:
            expect(np.allclose(new_mean, mean) and np.allclose(new_var, var),
                   "at inference the running statistics must come back unchanged: only training updates them.")
        expect_close(new_mean, exp_mean, f"in {mode}, your running_mean", rtol=1e-6, atol=1e-9)
        if training and not np.allclose(new_var, exp_var, rtol=1e-6):
            unbiased = 0.9 * var + 0.1 * x.var(0, ddof=1)
            expect(not np.allclose(new_var, unbiased, rtol=1e-6), "your running variance uses the unbiased batch "
                   "variance (ddof=1): that is PyTorch's convention, not a mistake in general, but this exercise and "
                   "nnlib keep in running_var the same variance you normalised with (divide by the batch size).")
        expect_close(new_var, exp_var, f"in {mode}, your running_var", rtol=1e-6, atol=1e-9)
    return "training (batch statistics, running averages updated) and inference (running statistics) both match."


# --- Question 4: batch normalization, backward in training mode -----------------------------------

def _bn_backward_reference(dout, x, gamma, eps):
    layer = BatchNorm(x.shape[1], eps=eps)
    layer.params["gamma"][...] = gamma
    layer.forward(x, training=True)
    dx = layer.backward(dout)
    return dx, layer.grads["gamma"].copy(), layer.grads["beta"].copy()


def _bn_backward_variants(dout, x, gamma, eps):
    """The classic wrong backward passes, with what each one got wrong."""
    n = x.shape[0]
    mu, var = x.mean(0), x.var(0)
    inv = 1 / np.sqrt(var + eps)
    xh = (x - mu) * inv
    g = dout * gamma
    inv1 = 1 / np.sqrt(x.var(0, ddof=1) + eps)
    xh1 = (x - mu) * inv1
    return [
        (g * inv, "you treated the batch mean and variance as constants: g * gamma / sqrt(var + eps) is "
                  "inference mode's backward. In training mu and sigma^2 are computed from x, so every x_i "
                  "also moves them: two more terms, one through the mean and one through the variance."),
        (inv * (g - g.mean(0)), "you kept the term through the batch mean but not the one through the "
                                "variance (- x_hat * mean(g * x_hat))."),
        (inv * (g - xh * (g * xh).mean(0)), "you kept the term through the variance but not the one through "
                                            "the batch mean (- mean(g))."),
        (inv * (g - g.sum(0) - xh * (g * xh).sum(0)), "your correction terms are sums over the batch; they are "
                                                      f"means (divide by the batch size, {n})."),
        (inv * (n * g - g.sum(0) - xh * (g * xh).sum(0)), "your dx is the batch size times too large: the "
                                                          f"1/N of the mean and variance appears once, here 1/{n}."),
        (inv1 * (g - g.mean(0) - xh1 * (g * xh1).mean(0)), "you used the unbiased variance (ddof=1); batch "
                                                           "normalization's forward divides by the batch size."),
        (-(inv * (g - g.mean(0) - xh * (g * xh).mean(0))), "your dx has the wrong sign."),
        (inv * (dout - dout.mean(0) - xh * (dout * xh).mean(0)), "you forgot the factor gamma: dL/dx_hat = dL/dy * gamma."),
    ]


@check("batchnorm_backward")
def batchnorm_backward(fn):
    expect_callable(fn, "batchnorm_backward")
    rng = np.random.default_rng(604)
    cases = []
    for n, f in ((8, 3), (5, 4)):
        x = rng.standard_normal((n, f)) * rng.uniform(0.5, 4, f) + rng.uniform(-3, 3, f)
        cases.append((rng.standard_normal((n, f)), x, rng.uniform(0.5, 2.0, f)))
    for i, (dout, x, gamma) in enumerate(cases, 1):
        where = f"for case {i} (batch {x.shape[0]}, {x.shape[1]} features)"
        result = fn(dout.copy(), x.copy(), gamma.copy(), 1e-5)
        dx, dgamma, dbeta = expect_tuple(result, ("dx", "dgamma", "dbeta"), "batchnorm_backward")
        exp_dx, exp_dgamma, exp_dbeta = _bn_backward_reference(dout, x, gamma, 1e-5)
        dbeta_arr = _array(dbeta, f"{where}, dbeta")
        if dbeta_arr.shape == x.shape and is_close(dbeta_arr, dout):
            expect(False, f"{where} your dbeta has shape {dbeta_arr.shape}: beta is shared by the whole batch, so "
                          "its gradient sums dL/dy over the examples (axis=0).")
        if dbeta_arr.shape == (x.shape[0],):
            expect(False, f"{where} your dbeta has one entry per example: sum over the batch (axis=0), not over the features.")
        expect_close(dbeta, exp_dbeta, f"{where}, dbeta", rtol=1e-6, atol=1e-9)
        dgamma_arr = _array(dgamma, f"{where}, dgamma")
        if dgamma_arr.shape == (x.shape[1],) and is_close(dgamma_arr, exp_dbeta):
            expect(False, f"{where} your dgamma equals dbeta: gamma multiplies x_hat, so dgamma = sum of dL/dy * x_hat.")
        if dgamma_arr.shape == (x.shape[1],) and is_close(dgamma_arr, (dout * x).sum(0)):
            expect(False, f"{where} your dgamma sums dL/dy * x; gamma multiplies the normalised x_hat, not x.")
        if dgamma_arr.shape == x.shape:
            expect(False, f"{where} your dgamma has shape {dgamma_arr.shape}: sum over the batch (axis=0).")
        expect_close(dgamma, exp_dgamma, f"{where}, dgamma", rtol=1e-6, atol=1e-9)
        dx_arr = _array(dx, f"{where}, dx")
        expect(dx_arr.shape == x.shape, f"{where} dx has shape {dx_arr.shape}, expected {x.shape} (the shape of x).")
        if not np.allclose(dx_arr, exp_dx, rtol=1e-5, atol=1e-8):
            for value, hint in _bn_backward_variants(dout, x, gamma, 1e-5):
                expect(not np.allclose(dx_arr, value, rtol=1e-5, atol=1e-8), f"{where}: {hint}")
            expect_close(dx, exp_dx, f"{where}, dx", rtol=1e-5, atol=1e-8)
    dout, x, gamma = cases[0]
    dx = _bn_backward_reference(dout, x, gamma, 1e-5)[0]
    return (f"dx, dgamma and dbeta match in both cases. Note that each column of dx sums to "
            f"{np.abs(dx.sum(0)).max():.0e}: shifting a whole feature changes nothing after normalization.")


# --- Question 5: a learning rate that keeps the units alive ----------------------------------------

def _pick(lrs, dead, accuracy, max_dead=0.1, min_accuracy=0.95):
    ok = [lr for lr, d, a in zip(lrs, dead, accuracy) if d <= max_dead and a >= min_accuracy]
    return max(ok) if ok else None


def _moons_relu_net():
    return Sequential([Dense(2, 32, init="he", rng=0), ReLU(), Dense(32, 32, init="he", rng=1), ReLU(),
                       Dense(32, 32, init="he", rng=2), ReLU(), Dense(32, 1, rng=9)])


@functools.lru_cache(maxsize=None)
def train_relu_net(lr, epochs=30):
    """The chapter's moons network trained at lr: returns (fraction of dead units, accuracy)."""
    X, y = moons(300, noise=0.1, seed=0)
    net = _moons_relu_net()
    net.fit(X, y, loss=BinaryCrossEntropy(), optimizer=SGD(lr), epochs=epochs, batch_size=32, verbose=False)
    return float(dead_unit_fraction(net, X)), float(net.evaluate(X, y)["accuracy"])


REAL_RATES = (0.01, 0.1, 0.3, 1.0, 3.0)


@check("pick_learning_rate")
def pick_learning_rate(fn):
    expect_callable(fn, "pick_learning_rate")
    fake_sets = [
        [(3.0, 0.8, 0.5), (1.0, 0.15, 0.99), (0.6, 0.09, 0.90), (0.3, 0.08, 0.97), (0.1, 0.06, 0.96), (0.01, 0.05, 0.80)],
        [(0.05, 0.10, 0.95), (0.5, 0.11, 0.99), (2.0, 0.9, 0.5)],
        [(1.0, 0.5, 0.99), (2.0, 0.7, 0.5)],
    ]
    real = [(lr, *train_relu_net(lr)) for lr in REAL_RATES]
    for i, rows in enumerate(fake_sets + [real], 1):
        lrs, dead, acc = (list(col) for col in zip(*rows))
        name = "on the chapter's network" if i == len(fake_sets) + 1 else "for results"
        table = ", ".join(f"lr {lr}: {d:.0%} dead, accuracy {a:.2f}" for lr, d, a in rows)
        got = fn(list(lrs), list(dead), list(acc))
        expected = _pick(lrs, dead, acc)
        if got is not None and not isinstance(got, (int, float, np.integer, np.floating)) or isinstance(got, bool):
            expect(False, f"{name} {table} you returned {got!r}; return one of the learning rates (a number) or None.")
        if got == expected:
            continue
        ok_dead = [lr for lr, d in zip(lrs, dead) if d <= 0.1]
        ok_acc = [lr for lr, a in zip(lrs, acc) if a >= 0.95]
        ok = [lr for lr in ok_dead if lr in ok_acc]
        if expected is not None and isinstance(got, (int, np.integer)) and 0 <= got < len(lrs) and lrs[got] == expected:
            expect(False, f"{name} {table} you returned {got}, the position of the rate in the list; return the "
                          f"learning rate itself ({expected}).")
        if ok and got == min(ok):
            expect(False, f"{name} {table} you picked {got}, the smallest good rate; pick the largest one that "
                          f"passes ({expected}): it trains fastest.")
        if ok_dead and got == max(ok_dead):
            expect(False, f"{name} {table} you picked {got}: it keeps the units alive but reaches only accuracy "
                          f"{acc[lrs.index(got)]:.2f}; the rate must also reach accuracy 0.95.")
        if ok_acc and got == max(ok_acc):
            expect(False, f"{name} {table} you picked {got}: accurate, but {dead[lrs.index(got)]:.0%} of its units "
                          "are dead; at most 10% may be.")
        strict = [lr for lr, d, a in zip(lrs, dead, acc) if d < 0.1 and a > 0.95]
        if got == (max(strict) if strict else None):
            expect(False, f"{name} {table} you picked {got!r}, expected {expected!r}: a rate exactly at the limits "
                          "(10% dead, accuracy 0.95) passes: use <= and >=.")
        expect(False, f"{name} {table} you picked {got!r}, expected {expected!r} "
                      "(the largest rate with at most 10% dead units and accuracy at least 0.95; None if none).")
    got = _pick(*zip(*real))
    d, a = train_relu_net(got)
    return (f"all {len(fake_sets) + 1} cases match; on the chapter's network you pick lr {got}: {d:.0%} dead units, "
            f"accuracy {a:.2f} (lr 3.0 left {train_relu_net(3.0)[0]:.0%} dead and accuracy {train_relu_net(3.0)[1]:.2f}).")
