"""Self-checks for exercise 08, optimizers."""
from __future__ import annotations

import numpy as np

from nnlib.optim import Adam, Momentum
from . import check, expect, expect_callable, expect_close, expect_tuple, is_close


def _pair(result, names, fn):
    return expect_tuple(result, names, fn)


LR, BETA = 0.05, 0.8      # 1 - BETA differs from LR, so the two common slips can be told apart


def _momentum_mistakes(w, v, w_before, v_before, g, v_expected, step):
    """Name the usual slips in v <- beta v + g, w <- w - lr v, if the answer matches one."""
    lr, beta = LR, BETA
    if is_close(v, v_expected) and is_close(w, w_before - lr * v_expected):
        return                                                   # right
    where = f"after step {step} (lr {lr}, beta {beta})"
    if is_close(v, beta * v_before + (1 - beta) * g):
        expect(False, f"{where}, your velocity is beta v + (1 - beta) g, a running average of the gradients; "
                      "this chapter's momentum adds the whole gradient: v <- beta v + g.")
    if is_close(v, beta * v_before + lr * g):
        expect(False, f"{where}, your velocity is beta v + lr g: the learning rate belongs in the weight update, "
                      "v <- beta v + g, then w <- w - lr v.")
    if is_close(v, v_expected) and is_close(w, w_before - lr * v_before):
        expect(False, f"{where}, v is right but w moved along the old velocity: update v first, then step "
                      "w <- w - lr v with the new v.")
    if is_close(v, v_expected) and is_close(w, w_before - lr * g):
        expect(False, f"{where}, v is right but w took a plain gradient step (w - lr g); step along the "
                      "velocity instead: w <- w - lr v.")
    if is_close(v, v_expected) and is_close(w, w_before + lr * v_expected):
        expect(False, f"{where}, your w moved uphill (w + lr v): subtract, w <- w - lr v.")


@check("momentum_step")
def momentum_step(fn):
    expect_callable(fn, "momentum_step")
    rng = np.random.default_rng(801)
    w = rng.standard_normal(4)
    v = np.zeros(4)
    ref_w = w.copy()
    ref = Momentum(lr=LR, beta=BETA)
    for step in range(1, 4):
        g = rng.standard_normal(4)
        w_before, v_before = np.asarray(w, dtype=float).copy(), np.asarray(v, dtype=float).copy()
        w, v = _pair(fn(w.copy(), g.copy(), v.copy(), LR, BETA), ("w", "v"), "momentum_step")
        ref.step([ref_w], [g])
        _momentum_mistakes(w, v, w_before, v_before, g, ref.v[0], step)
        expect_close(v, ref.v[0], f"after step {step}, your velocity v")
        expect_close(w, ref_w, f"after step {step}, your weights w")
    return "three steps match v <- beta v + g, w <- w - lr v."


@check("adam_step")
def adam_step(fn):
    expect_callable(fn, "adam_step")
    rng = np.random.default_rng(802)
    w = rng.standard_normal(3)
    m, v = np.zeros(3), np.zeros(3)
    ref_w = w.copy()
    ref = Adam(lr=0.01)
    for t in range(1, 5):
        g = rng.standard_normal(3) * 10 ** rng.uniform(-2, 2, 3)      # very different scales per entry
        w, m, v = _pair(fn(w.copy(), g.copy(), m.copy(), v.copy(), t, lr=0.01), ("w", "m", "v"), "adam_step")
        ref.step([ref_w], [g])
        if not is_close(m, ref.m[0]) and is_close(m, ref.m[0] / (1 - 0.9 ** t)):
            expect(False, f"at step t={t}, you returned the bias-corrected m_hat as m. Return the plain running "
                          "average m (and v); the correction 1 / (1 - beta^t) is applied afresh at every step.")
        if not is_close(m, ref.m[0]) and is_close(m, ref.m[0] + 0.9 * g):     # beta1 m + g
            expect(False, f"at step t={t}, your m adds the whole gradient (beta1 m + g); Adam's m is an average: "
                          "beta1 m + (1 - beta1) g.")
        expect_close(m, ref.m[0], f"at step t={t}, your first moment m")
        if not is_close(v, ref.v[0]) and is_close(v, ref.v[0] / (1 - 0.999 ** t)):
            expect(False, f"at step t={t}, you returned the bias-corrected v_hat as v. Return the plain running "
                          "average v; the correction is applied afresh at every step.")
        if not is_close(v, ref.v[0]) and is_close(v, ref.v[0] + 0.001 * (g - g ** 2)):
            expect(False, f"at step t={t}, your v averages g, not its square: v <- beta2 v + (1 - beta2) g**2.")
        expect_close(v, ref.v[0], f"at step t={t}, your second moment v")
        if not np.allclose(w, ref_w, rtol=1e-5, atol=1e-8) and t == 1:
            expect(False, f"at step t=1 your w differs from Adam's (expected {np.round(ref_w, 5)}, got "
                          f"{np.round(np.asarray(w), 5)}). At t=1 with bias correction every entry moves by "
                          f"about lr = 0.01; did you divide m and v by (1 - beta^t)?")
        expect_close(w, ref_w, f"at step t={t}, your weights w", atol=1e-8, rtol=1e-5)
    return "four steps match Adam, bias correction included."


@check("accumulate")
def accumulate(fn):
    expect_callable(fn, "accumulate")
    rng = np.random.default_rng(803)
    sizes = [5, 3, 8]
    grads = [rng.standard_normal((2, 3)) for _ in sizes]
    got = fn([g.copy() for g in grads], list(sizes))
    expected = sum(g * s for g, s in zip(grads, sizes)) / sum(sizes)
    plain_mean = sum(grads) / len(grads)
    if got is not None and np.shape(got) == expected.shape and np.allclose(got, plain_mean):
        expect(False, "you averaged the micro-batch gradients equally; micro-batches of different sizes "
                      f"(here {sizes}) must count in proportion to their size.")
    expect_close(got, expected, "your accumulated gradient")
    return "the weighted sum equals the gradient of the whole batch."


@check("minibatches")
def minibatches(fn):
    expect_callable(fn, "minibatches")
    for n, size in [(10, 3), (8, 8), (5, 1)]:
        batches = fn(n, size, np.random.default_rng(804))
        batches = [np.asarray(b) for b in batches]
        expect(len(batches) == -(-n // size),
               f"minibatches({n}, {size}) gave {len(batches)} batches, expected {-(-n // size)}.")
        lengths = [len(b) for b in batches]
        expected_lengths = [size] * (n // size) + ([n % size] if n % size else [])
        expect(lengths == expected_lengths, f"minibatches({n}, {size}) gave batch sizes {lengths}, expected {expected_lengths}.")
        joined = np.concatenate(batches)
        expect(sorted(joined.tolist()) == list(range(n)),
               f"minibatches({n}, {size}) should use every index 0..{n - 1} exactly once, got {sorted(joined.tolist())}.")
    again = [np.asarray(b) for b in fn(100, 10, np.random.default_rng(805))]
    expect(not np.array_equal(np.concatenate(again), np.arange(100)),
           "your batches are in order 0, 1, 2, ...: shuffle with rng.permutation(n) first.")
    return "every example once per epoch, in shuffled batches of the right sizes."
