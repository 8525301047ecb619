"""Self-checks for exercise 07, dropout.

A dropout mask is random, so the checks do not ask for one particular mask: they check
that the output is the input times the student's own mask divided by 1 - rate, that the
mask keeps about 1 - rate of the entries, and that each call draws a new one.
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
from . import Mismatch, check, expect, expect_callable, expect_close


def _array(got, what):
    if got is None:
        raise Mismatch(f"{what} is None: did you forget to `return` it?")
    try:
        return np.asarray(got)
    except (TypeError, ValueError):
        raise Mismatch(f"{what} should be an array, got {type(got).__name__}.") from None


def _forward_pair(result):
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"dropout_forward should return (out, keep), got {type(result).__name__}"
           f"{f' of length {len(result)}' if isinstance(result, (tuple, list)) else ''}.")
    return _array(result[0], "out"), _array(result[1], "keep")


def _check_output(a, out, keep, rate, where):
    """out must be a * keep / (1 - rate) (zeros for rate 1), with keep a boolean mask of a's shape."""
    expect(out.shape == a.shape, f"{where}: out has shape {out.shape}, expected {a.shape} (the shape of a).")
    expect(keep.shape == a.shape, f"{where}: keep has shape {keep.shape}, expected {a.shape}.")
    expect(np.isin(keep, (0, 1)).all(), f"{where}: keep should hold True/False (1/0) per entry, got values "
                                        f"like {np.unique(keep)[:4]}.")
    keep = keep.astype(bool)
    expect(np.isfinite(out.astype(float)).all(), f"{where}: out contains NaN or inf" +
           (": with rate 1.0 every entry is dropped, so return zeros without dividing by 1 - rate = 0."
            if rate == 1.0 else "."))
    if rate == 1.0:
        expect(not np.any(out), f"{where}: with rate 1.0 every activation is dropped, so out should be all zeros.")
        return
    expected = np.where(keep, a / (1 - rate), 0.0)
    if not np.allclose(out, expected):
        if np.allclose(out, np.where(keep, a, 0.0)):
            expect(False, f"{where}: the kept entries are unchanged; inverted dropout divides them by 1 - rate "
                          f"(= {1 - rate:g}) so that the expected activation stays the same.")
        if np.allclose(out, np.where(keep, a * (1 - rate), 0.0)):
            expect(False, f"{where}: you multiplied the kept entries by 1 - rate; divide by it instead.")
        if np.allclose(out, np.where(~keep, a / (1 - rate), 0.0)):
            expect(False, f"{where}: your output keeps the entries where keep is False; out must be nonzero "
                          "exactly where keep is True.")
        expect_close(out, expected, f"{where}: out (compared with a * keep / (1 - rate) for your keep)")


@check("dropout_forward")
def dropout_forward(fn):
    expect_callable(fn, "dropout_forward")
    rng = np.random.default_rng(701)
    a = rng.uniform(0.5, 2.0, (200, 50))
    for rate in (0.3, 0.5, 0.8, 0.0, 1.0):
        where = f"with rate {rate}"
        out, keep = _forward_pair(fn(a.copy(), rate, np.random.default_rng(7)))
        _check_output(a, out, keep, rate, where)
        kept = float(np.mean(keep.astype(bool)))
        if rate not in (0.0, 1.0) and abs(kept - rate) < 0.03 and abs(kept - (1 - rate)) > 0.03:
            expect(False, f"{where}: your mask keeps {kept:.0%} of the entries, about the rate; rate is the fraction "
                          f"dropped, so keep each entry with probability 1 - rate (rng.random(shape) >= rate).")
        expect(abs(kept - (1 - rate)) < 0.03, f"{where}: your mask keeps {kept:.1%} of the 10,000 entries; "
                                               f"expected about {1 - rate:.0%}.")
    again = _forward_pair(fn(a.copy(), 0.5, np.random.default_rng(7)))[1]
    same = _forward_pair(fn(a.copy(), 0.5, np.random.default_rng(7)))[1]
    expect(np.array_equal(again, same), "two calls with generators of the same seed gave different masks: draw the "
                                        "mask from the rng argument (rng.random(a.shape)), not from np.random.")
    gen = np.random.default_rng(8)
    first = _forward_pair(fn(a.copy(), 0.5, gen))[1]
    second = _forward_pair(fn(a.copy(), 0.5, gen))[1]
    expect(not np.array_equal(first, second), "two calls with the same generator gave the same mask: draw a new "
                                              "mask at every call from rng (rng.random(a.shape)), do not reseed it.")
    return "the output is a * keep / (1 - rate), the mask keeps 1 - rate of the entries, and every call draws a new one."


@check("dropout_backward")
def dropout_backward(fn):
    expect_callable(fn, "dropout_backward")
    rng = np.random.default_rng(702)
    for rate in (0.25, 0.5, 1.0):
        a = rng.standard_normal((5, 4))
        keep = rng.random(a.shape) >= rate
        R = rng.standard_normal(a.shape)
        scale = 0.0 if rate == 1.0 else 1.0 / (1 - rate)

        def f():
            return float(np.sum(a * keep * scale * R))

        numeric = numerical_gradient(f, a)
        got = _array(fn(R.copy(), keep.copy(), rate), f"with rate {rate}, your gradient")
        expect(got.shape == a.shape, f"with rate {rate}, your gradient has shape {got.shape}, expected {a.shape}.")
        expect(np.isfinite(got.astype(float)).all(), f"with rate {rate}, your gradient contains NaN or inf" +
               (": with rate 1.0 nothing was kept, so the gradient is all zeros (do not divide by 0)."
                if rate == 1.0 else "."))
        if not np.allclose(got, numeric, atol=1e-6):
            if rate < 1.0 and np.allclose(got, R * keep):
                expect(False, f"with rate {rate}, you masked the gradient but did not divide by 1 - rate: the "
                              "forward pass scaled the kept entries, so their gradient is scaled too.")
            if rate < 1.0 and np.allclose(got, R * scale):
                expect(False, f"with rate {rate}, your gradient is nonzero where entries were dropped: a dropped "
                              "activation did not affect the loss, so its gradient is 0 (multiply by keep).")
            expect_close(got, numeric, f"with rate {rate}, your gradient (compared with the numerical gradient)",
                         atol=1e-6, rtol=1e-5)
    return "the gradient is grad_out * keep / (1 - rate), as the numerical gradient says."


@check("dropout_layer")
def dropout_layer(cls):
    expect(isinstance(cls, type), f"pass the class itself (MyDropout), got {type(cls).__name__}.")
    rng = np.random.default_rng(703)
    x = rng.uniform(0.5, 2.0, (100, 40))
    layer = cls(0.4, np.random.default_rng(9))
    out = _array(layer.forward(x.copy()), "forward(x) (inference)")
    expect(out.shape == x.shape and np.array_equal(out, x), "forward(x) without training=True must return x "
                                                             "unchanged: there is no dropout at inference.")
    out = _array(layer.forward(x.copy(), training=False), "forward(x, training=False)")
    expect(np.array_equal(out, x), "forward(x, training=False) must return x unchanged.")
    first = _array(layer.forward(x.copy(), training=True), "forward(x, training=True)")
    keep = first != 0
    _check_output(x, first, keep, 0.4, "in training")
    expect(abs(np.mean(keep) - 0.6) < 0.03, f"in training with rate 0.4 your layer kept {np.mean(keep):.1%} of the "
                                             "entries, expected about 60%.")
    grad = _array(layer.backward(np.ones_like(x)), "backward(grad_out)")
    expect(grad.shape == x.shape, f"backward returned shape {grad.shape}, expected {x.shape}.")
    expect(np.allclose(grad, keep / 0.6), "backward must use the mask of the last forward pass: the gradient "
                                          "should be grad_out * keep / (1 - rate) with that mask.")
    second = _array(layer.forward(x.copy(), training=True), "a second forward(x, training=True)")
    expect(not np.array_equal(second != 0, keep), "two training steps used the same mask: draw a new one at every "
                                                  "forward pass.")
    zero = cls(0.0, np.random.default_rng(1))
    expect(np.array_equal(_array(zero.forward(x.copy(), training=True), "rate 0.0 forward"), x),
           "with rate 0.0 the layer must be the identity, in training too.")

    X, y = moons(60, noise=0.3, seed=7)
    model = Sequential([Dense(2, 16, init="he", rng=0), ReLU(), cls(0.5, np.random.default_rng(2)), Dense(16, 1, rng=1)])
    history = model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=Adam(0.01), epochs=100, batch_size=None,
                        verbose=False)
    expect(np.array_equal(model.predict(X), model.predict(X)), "inside a model, predict gave two different answers "
                                                                "for the same input: dropout must be off at inference.")
    acc = model.evaluate(X, y)["accuracy"]
    expect(history["loss"][-1] < history["loss"][0] and acc >= 0.8,
           f"a small network with your dropout layer did not learn (loss {history['loss'][0]:.3f} -> "
           f"{history['loss'][-1]:.3f}, accuracy {acc:.2f}).")
    return f"your layer works inside nnlib: a network with it trains to accuracy {acc:.2f} and predicts deterministically."
