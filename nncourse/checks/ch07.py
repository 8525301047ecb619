"""Self-checks for exercise 07, dropout: plain arrays in, plain arrays out.

The layer question asks for masks drawn as ``self.rng.random(x.shape) >= self.rate`` (the
rule nnlib's Dropout follows, stated in the exercise), so the check can compare the layer
with nnlib's from the same seed, step by step and over a whole training run.
"""
from __future__ import annotations

import numpy as np

from nnlib.activations import ReLU
from nnlib.data import moons
from nnlib.gradcheck import numerical_gradient
from nnlib.layers import Dense
from nnlib.losses import BinaryCrossEntropy
from nnlib.model import Sequential
from nnlib.optim import Adam
from nnlib.regularization import Dropout
from . import Mismatch, as_array, check, expect, expect_callable, expect_close, expect_tuple, is_close
from . import read_prediction, two_numbers
from . import progress as _progress

POINTS = {"dropout_variance": 2, "predicted_spread": 2, "dropout_layer": 3, "dense_after_dropout_backward": 3}


def progress():
    """The running total of this exercise's self-checks (the last cell of the exercise)."""
    return _progress(POINTS)


# --- question 1: the variance of inverted dropout's output ----------------------------------

def _variance(a, rate):
    return a ** 2 * rate / (1 - rate)


@check("dropout_variance")
def dropout_variance(fn):
    expect_callable(fn, "dropout_variance")
    a = np.array([-2.0, -0.5, 0.3, 1.0, 3.0])
    for rate in (0.2, 0.5, 0.75, 0.0):
        where = f"for a = {a.tolist()} and rate {rate}"
        got = as_array(fn(a.copy(), rate), f"{where}, your variance")
        expected = _variance(a, rate)
        if not is_close(got, expected) and rate > 0:
            mistakes = [
                (a ** 2 * rate * (1 - rate), "that is the variance of a * keep without the scaling; inverted dropout "
                                             "divides the survivors by 1 - rate, which multiplies the variance by "
                                             "1 / (1 - rate)**2."),
                (a * rate / (1 - rate), "the variance grows with the square of the activation (a**2), not with a: "
                                        "your answer is negative for negative a."),
                (np.abs(a) * np.sqrt(rate / (1 - rate)), "that is the standard deviation; the question asks for the "
                                                         "variance, its square."),
                (a ** 2 * (1 - rate) / rate, "you swapped rate and 1 - rate: rate is the probability that an entry is "
                                             "dropped."),
                (a ** 2 / (1 - rate), "that is E[out**2], the second moment; the variance subtracts the squared mean, "
                                      "and the mean of inverted dropout's output is a."),
                (a ** 2 * rate / (1 - rate) ** 2, "one factor 1 / (1 - rate) too many: E[out**2] = (1 - rate) * "
                                                  "(a / (1 - rate))**2."),
            ]
            for value, hint in mistakes:
                expect(not is_close(got, value), f"{where}: {hint}")
        expect_close(got, expected, f"{where}, your variance")
    return "the variance of the output is a**2 * rate / (1 - rate): it grows without bound as the rate nears 1."


# --- question 2: predict, then measure: the spread of a sum of dropped activations -----------

SPREAD_N, SPREAD_A, SPREAD_RATE = 64, 1.5, 0.2
SPREAD = (SPREAD_N * SPREAD_A, float(np.sqrt(SPREAD_N * _variance(SPREAD_A, SPREAD_RATE))))     # (96, 6)


@check("predicted_spread")
def predicted_spread(fn):
    expect_callable(fn, "predicted_spread")
    got = expect_tuple(fn(), ("mean", "std"), "predicted_spread")
    try:
        mean, std = (float(x) for x in got)
    except (TypeError, ValueError):
        expect(False, f"predicted_spread should return two numbers, got {got!r}.")
    n, a, p = SPREAD_N, SPREAD_A, SPREAD_RATE
    if not np.isclose(mean, SPREAD[0], rtol=1e-3):
        expect(not np.isclose(mean, n * a * (1 - p), rtol=1e-3),
               f"you predicted the mean {mean:.4g}: that is the mean without the scaling; inverted dropout divides the "
               f"survivors by 1 - rate, so each entry keeps its mean {a} and the sum its mean {n} * {a}.")
        expect(False, f"you predicted the mean {mean:.4g}; each of the {n} entries has mean {a} after inverted dropout.")
    if not np.isclose(std, SPREAD[1], rtol=1e-3):
        var1 = _variance(a, p)
        hints = [(n * var1, "that is the variance of z; the standard deviation is its square root."),
                 (n * np.sqrt(var1), "you added the standard deviations of the entries; the masks are independent, "
                                     "so their variances add, and the standard deviation grows like sqrt(n)."),
                 (np.sqrt(var1), f"that is the standard deviation of one entry; z is the sum of {n} of them."),
                 (np.sqrt(n * a ** 2 * p * (1 - p)), "that is the spread without the scaling by 1 / (1 - rate)."),
                 (np.sqrt(n * a * p / (1 - p)), "the variance of one entry grows with a**2, not a."),
                 (np.sqrt(n * a ** 2 * (1 - p) / p), "you swapped rate and 1 - rate.")]
        for value, hint in hints:
            expect(not np.isclose(std, value, rtol=1e-3), f"you predicted the standard deviation {std:.4g}: {hint}")
        expect(False, f"you predicted the standard deviation {std:.4g}; use your variance from question 1 for one "
                      f"entry, then add the {n} independent variances.")
    return (f"z has mean {mean:.4g} and standard deviation {std:.4g} in training, and exactly {SPREAD[0]:g} at "
            "inference. Run the next cell to measure it.")


def verify_spread(fn, seeds=10, passes=4000):
    """The experiment after the prediction: z = sum of 64 dropped activations, 4000 training passes per seed.
    It waits for the prediction: the measurement is shown once there is one to compare it with."""
    guess = read_prediction(fn, two_numbers, "two numbers")
    if guess is None:
        return None
    means, stds = [], []
    for seed in range(seeds):
        keep = np.random.default_rng(700 + seed).random((passes, SPREAD_N)) >= SPREAD_RATE
        z = (SPREAD_A * keep / (1 - SPREAD_RATE)).sum(axis=1)
        means.append(z.mean())
        stds.append(z.std())
    means, stds = np.array(means), np.array(stds)
    print(f"z = sum of {SPREAD_N} activations of {SPREAD_A} after inverted dropout (rate {SPREAD_RATE}), "
          f"{passes} training passes, {seeds} seeds:\n"
          f"  mean {means.mean():.3f} ± {means.std(ddof=1):.3f}   standard deviation {stds.mean():.3f} ± "
          f"{stds.std(ddof=1):.3f}   (± : spread over the seeds)")
    for name, g, measured in (("mean", guess[0], means), ("standard deviation", guess[1], stds)):
        held = abs(g - measured.mean()) <= 0.05 * abs(measured.mean())
        print(f"{name}: you predicted {g:.4g}, measured {measured.mean():.3f}: "
              f"{'✅ held' if held else '❌ did not hold'} (held = within 5%).")
    return means, stds


# --- question 3: a layer, compared with nnlib's Dropout from the same seed ------------------

def _array(got, what):
    if got is None:
        raise Mismatch(f"{what} is None: did you forget to `return` it?")
    try:
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"{what} should be an array, got {type(got).__name__}.") from None


def _compare_training_forward(out, x, ref_out, ref_keep, rate, where):
    expect(out.shape == x.shape, f"{where}: out has shape {out.shape}, expected {x.shape} (the shape of x).")
    expect(np.isfinite(out).all(), f"{where}: out contains NaN or inf" +
           (": with rate 1.0 every entry is dropped, so return zeros without dividing by 1 - rate = 0."
            if rate == 1.0 else "."))
    if is_close(out, ref_out):
        return
    if rate < 1.0:
        s = 1 / (1 - rate)
        if is_close(out, x * ref_keep):
            expect(False, f"{where}: the kept entries are unchanged; inverted dropout divides them by 1 - rate "
                          f"(= {1 - rate:g}) so that their expected value stays x.")
        if is_close(out, x * ref_keep * (1 - rate)):
            expect(False, f"{where}: you multiplied the kept entries by 1 - rate; divide by it instead.")
        if is_close(out, x * ~ref_keep * s):
            expect(False, f"{where}: your mask keeps the entries where rng.random(x.shape) < rate; keep those where "
                          "it is >= rate (each is kept with probability 1 - rate).")
        kept = float(np.mean(out != 0))
        if np.allclose(out[out != 0], (x * s)[out != 0]) and abs(kept - (1 - rate)) < 0.05:
            expect(False, f"{where}: your mask keeps {kept:.0%} of the entries, as it should, but not the entries "
                          "nnlib's Dropout keeps with the same seed: draw it as self.rng.random(x.shape) >= self.rate "
                          "from the layer's own rng, once per training forward pass.")
    expect_close(out, ref_out, f"{where}: out (compared with nnlib's Dropout from the same seed)")


@check("dropout_layer")
def dropout_layer(cls):
    expect(isinstance(cls, type) or callable(cls), f"pass the class itself (MyDropout), got {type(cls).__name__}.")
    rng = np.random.default_rng(703)
    x = rng.uniform(0.5, 2.0, (100, 40))
    for rate in (0.4, 0.75):
        layer, ref = cls(rate, np.random.default_rng(9)), Dropout(rate, rng=9)
        out = _array(layer.forward(x.copy()), "forward(x) (inference)")
        expect(out.shape == x.shape and np.array_equal(out, x), "forward(x) without training=True must return x "
                                                                 "unchanged: there is no dropout at inference.")
        out = _array(layer.forward(x.copy(), training=False), "forward(x, training=False)")
        expect(np.array_equal(out, x), "forward(x, training=False) must return x unchanged.")
        for step in (1, 2):
            where = f"rate {rate}, training forward pass {step}"
            out = _array(layer.forward(x.copy(), training=True), f"{where}: forward(x, training=True)")
            ref_out = ref.forward(x, training=True)
            if step == 2 and is_close(out, first) and not is_close(ref_out, first):
                expect(False, f"{where}: two training passes used the same mask: draw a new one at every "
                              "forward pass.")
            _compare_training_forward(out, x, ref_out, ref.mask, rate, where)
            first = out
            g = rng.standard_normal(x.shape)
            grad = _array(layer.backward(g.copy()), f"{where}: backward(grad_out)")
            expected = ref.backward(g)
            expect(grad.shape == x.shape, f"{where}: backward returned shape {grad.shape}, expected {x.shape}.")
            if not is_close(grad, expected):
                expect(not is_close(grad, g), f"{where}: backward passed the gradient through unchanged; after a "
                                              "training pass it must go through the same mask: grad_out * keep / "
                                              "(1 - rate).")
                expect(not is_close(grad, g * ref.mask), f"{where}: backward masked the gradient but did not divide by "
                                                         "1 - rate: the forward pass scaled the kept entries, so their "
                                                         "gradient is scaled too.")
                expect(not is_close(grad, g / (1 - rate)), f"{where}: backward gives a gradient to dropped entries: "
                                                           "they did not affect the loss, so theirs is 0.")
            expect_close(grad, expected, f"{where}: backward(grad_out)")
        # a training pass, then an inference pass (e.g. to evaluate), then backward
        layer.forward(x.copy(), training=True)
        layer.forward(x.copy(), training=False)
        g = rng.standard_normal(x.shape)
        grad = _array(layer.backward(g.copy()), "backward after an inference forward pass")
        if not is_close(grad, g):
            stale = bool(np.any(grad == 0)) and grad.shape == g.shape
            expect(not stale, "after forward(x, training=True) then forward(x, training=False), your backward reused "
                              "the stale mask of the training pass; the last forward pass was the identity, so its "
                              "gradient is grad_out unchanged (forget the mask at inference).")
            expect_close(grad, g, "backward after an inference forward pass (it should be grad_out unchanged)")
    everything = cls(1.0, np.random.default_rng(1))
    with np.errstate(all="ignore"):
        out = _array(everything.forward(x.copy(), training=True), "rate 1.0, forward(x, training=True)")
    _compare_training_forward(out, x, np.zeros_like(x), np.zeros(x.shape, bool), 1.0, "rate 1.0")
    with np.errstate(all="ignore"):
        grad = _array(everything.backward(np.ones_like(x)), "rate 1.0, backward")
    expect(np.isfinite(grad).all() and not np.any(grad), "with rate 1.0 nothing was kept, so the gradient is all "
                                                         "zeros (do not divide by 1 - rate = 0).")
    zero = cls(0.0, np.random.default_rng(1))
    expect(np.array_equal(_array(zero.forward(x.copy(), training=True), "rate 0.0 forward"), x),
           "with rate 0.0 the layer must be the identity, in training too.")

    # a whole training run against the same network with nnlib's Dropout, from the same seeds
    X, y = moons(60, noise=0.3, seed=7)
    nets = []
    for drop in (cls(0.5, np.random.default_rng(2)), Dropout(0.5, rng=2)):
        net = Sequential([Dense(2, 16, init="he", rng=0), ReLU(), drop, Dense(16, 1, rng=1)])
        history = net.fit(X, y, loss=BinaryCrossEntropy(), optimizer=Adam(0.01), epochs=40, batch_size=None,
                          verbose=False)
        nets.append((net, history))
    (net, history), (ref_net, ref_history) = nets
    expect(np.array_equal(net.predict(X), net.predict(X)), "inside a model, predict gave two different answers "
                                                           "for the same input: dropout must be off at inference.")
    same = all(np.allclose(a, b, atol=1e-8) for a, b in zip(net.parameters(), ref_net.parameters()))
    expect(same, f"40 epochs with your layer ended with other weights than the same network with nnlib's Dropout "
                 f"from the same seeds (loss {history['loss'][-1]:.4f}, nnlib's {ref_history['loss'][-1]:.4f}).")
    return ("your layer matches nnlib's Dropout mask for mask and gradient for gradient, forgets its mask at "
            "inference, and trains a network to the same weights.")


# --- question 4: the backward pass of a Dense layer that follows dropout --------------------

@check("dense_after_dropout_backward")
def dense_after_dropout_backward(fn):
    expect_callable(fn, "dense_after_dropout_backward")
    rng = np.random.default_rng(704)
    for rate in (0.25, 0.6):
        n, d, k = 5, 4, 3
        x, W, b = rng.standard_normal((n, d)), rng.standard_normal((d, k)), rng.standard_normal(k)
        keep = rng.random((n, d)) >= rate
        while keep.all() or not keep.any():
            keep = rng.random((n, d)) >= rate
        R = rng.standard_normal((n, k))
        s = 1 / (1 - rate)

        def f():
            return float(np.sum(((x * keep * s) @ W + b) * R))

        dx_ref = numerical_gradient(f, x)
        dW_ref = numerical_gradient(f, W)
        db_ref = numerical_gradient(f, b)
        where = f"with rate {rate}"
        dx, dW, db = (as_array(v, f"{where}, your {name}") for v, name in zip(
            expect_tuple(fn(x.copy(), keep.copy(), rate, W.copy(), R.copy()), ("dx", "dW", "db"),
                         "dense_after_dropout_backward"), ("dx", "dW", "db")))
        h = x * keep * s
        if not is_close(dW, dW_ref):
            expect(not is_close(dW, dW_ref.T), f"{where}, your dW has shape {dW.shape}, transposed: dW must have W's "
                                               f"shape {W.shape}, (input of the Dense layer).T @ grad_out.")
            expect(not is_close(dW, x.T @ R), f"{where}, your dW uses x, the input before dropout: the Dense layer saw "
                                              "the dropped and scaled input h = x * keep / (1 - rate), so dW = h.T @ "
                                              "grad_out.")
            expect(not is_close(dW, (x * keep).T @ R), f"{where}, your dW uses x * keep but misses the factor "
                                                       "1 / (1 - rate) that the forward pass applied.")
            expect(not is_close(dW, h.T @ R / n), f"{where}, your dW has an extra 1/N: grad_out is already the "
                                                  "gradient of the mean loss, so dW = h.T @ grad_out.")
        expect_close(dW, dW_ref, f"{where}, your dW")
        if not is_close(db, db_ref):
            expect(not is_close(db, R.mean(0)), f"{where}, your db is the mean of grad_out over the batch; it is the "
                                                "sum (axis=0): every example's output had the same b added.")
            expect(not is_close(db, R.sum(1)), f"{where}, you summed grad_out over the wrong axis: db has one entry per "
                                               "output unit, the sum over the batch (axis=0).")
        expect_close(db, db_ref, f"{where}, your db")
        if not is_close(dx, dx_ref):
            expect(not is_close(dx, R @ W.T), f"{where}, your dx ignores the dropout: the gradient flows back through "
                                              "the same mask and scale, dx = (grad_out @ W.T) * keep / (1 - rate).")
            expect(not is_close(dx, (R @ W.T) * keep), f"{where}, your dx is masked but misses the factor "
                                                       "1 / (1 - rate).")
            expect(not is_close(dx, (R @ W.T) * ~keep * s), f"{where}, your dx flows to the dropped entries instead "
                                                            "of the kept ones.")
        expect_close(dx, dx_ref, f"{where}, your dx (compared with the numerical gradient)")
    return "dx, dW and db match the numerical gradients: dW sees the dropped input, dx goes back through the mask."
