"""Self-checks for exercise 08, optimizers: plain arrays in, plain arrays out."""
from __future__ import annotations

import numpy as np

from nnlib.optim import Momentum
from . import check, expect, expect_callable, expect_close, expect_tuple, is_close
from . import read_prediction, two_numbers
from . import progress as _progress

POINTS = {"momentum_step": 2, "predicted_first_steps": 2, "adam_step": 3, "accumulate": 2, "minibatches": 2}


def progress():
    """The running total of this exercise's self-checks (the last cell of the exercise)."""
    return _progress(POINTS)


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


def _adam_ref(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True, sqrt=True, t_shift=0):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    tt = t + t_shift
    m_hat = m / (1 - beta1 ** tt) if bias_correction else m
    v_hat = v / (1 - beta2 ** tt) if bias_correction else v
    denom = np.sqrt(v_hat) if sqrt else v_hat
    return w - lr * m_hat / (denom + eps), m, v


def _adam_mistakes(w, w_before, g, m_before, v_before, t, lr, bias_correction, where):
    """Name the usual slips in Adam's weight step, if w matches one (m and v are right here)."""
    def close(**kw):
        with np.errstate(all="ignore"):
            ref = _adam_ref(w_before, g, m_before, v_before, t, lr, **kw)[0]
        return bool(np.all(np.isfinite(ref))) and is_close(w, ref, atol=1e-8, rtol=1e-5)
    bc = bias_correction
    if close(bias_correction=bc, sqrt=False):
        expect(False, f"{where}: you divided by v_hat itself; Adam divides by its square root, sqrt(v_hat) + eps "
                      "(v is an average of g**2, so its root has g's units and the step has lr's).")
    if bc and (close(t_shift=1) or close(t_shift=-1) if t > 1 else close(t_shift=1)):
        expect(False, f"{where}: your bias correction uses the wrong step number (off by one): at the first "
                      "step t = 1, and the correction divides by 1 - beta^t with that t.")
    if bc and close(bias_correction=False):
        expect(False, f"{where}: with bias_correction=True you left out the correction (m and v are biased "
                      "towards 0 by their zero start; divide them by 1 - beta^t).")
    if not bc and close(bias_correction=True):
        expect(False, f"{where}: with bias_correction=False you still corrected m and v; the uncorrected step "
                      "uses the running averages themselves.")
    if close(bias_correction=bc, eps=0.0) and not close(bias_correction=bc):
        expect(False, f"{where}: add eps to the denominator, sqrt(v_hat) + eps.")
    if is_close(w, 2 * w_before - _adam_ref(w_before, g, m_before, v_before, t, lr, bias_correction=bc)[0],
                atol=1e-8, rtol=1e-5):
        expect(False, f"{where}: your w moved uphill: subtract the step.")


@check("adam_step")
def adam_step(fn):
    expect_callable(fn, "adam_step")
    rng = np.random.default_rng(802)
    for bias_correction in (True, False):
        w = rng.standard_normal(3)
        m, v = np.zeros(3), np.zeros(3)
        ref_w, ref_m, ref_v = w.copy(), m.copy(), v.copy()
        for t in range(1, 5):
            where = f"with bias_correction={bias_correction}, at step t={t}"
            g = rng.standard_normal(3) * 10 ** rng.uniform(-2, 2, 3)      # very different scales per entry
            w_before, m_before, v_before = (np.asarray(a, dtype=float).copy() for a in (w, m, v))
            w, m, v = _pair(fn(w.copy(), g.copy(), m.copy(), v.copy(), t, lr=0.01, bias_correction=bias_correction),
                            ("w", "m", "v"), "adam_step")
            ref_w, ref_m, ref_v = _adam_ref(ref_w, g, ref_m, ref_v, t, 0.01, bias_correction=bias_correction)
            w_ok = is_close(w, ref_w, atol=1e-8, rtol=1e-5)
            whole = not is_close(m, ref_m) and is_close(m, 0.9 * m_before + g)
            if whole and (not w_ok or not is_close(m, ref_m / (1 - 0.9 ** t))):
                expect(False, f"{where}, your m adds the whole gradient (beta1 m + g); Adam's m is an average: "
                              "beta1 m + (1 - beta1) g.")
            if not is_close(m, ref_m) and bias_correction and is_close(m, ref_m / (1 - 0.9 ** t)):
                expect(False, f"{where}, you returned the bias-corrected m_hat as m. Return the plain running "
                              "average m (and v); the correction 1 / (1 - beta^t) is applied afresh at every step.")
            if not is_close(m, ref_m) and is_close(m, 0.9 * m_before + g):
                expect(False, f"{where}, your m adds the whole gradient (beta1 m + g); Adam's m is an average: "
                              "beta1 m + (1 - beta1) g.")
            expect_close(m, ref_m, f"{where}, your first moment m")
            if not is_close(v, ref_v) and bias_correction and is_close(v, ref_v / (1 - 0.999 ** t)):
                expect(False, f"{where}, you returned the bias-corrected v_hat as v. Return the plain running "
                              "average v; the correction is applied afresh at every step.")
            if not is_close(v, ref_v) and is_close(v, 0.999 * v_before + 0.001 * g):
                expect(False, f"{where}, your v averages g, not its square g**2.")
            expect_close(v, ref_v, f"{where}, your second moment v")
            if not np.allclose(np.asarray(w, dtype=float), ref_w, rtol=1e-5, atol=1e-8):
                _adam_mistakes(w, w_before, g, m_before, v_before, t, 0.01, bias_correction, where)
            expect_close(w, ref_w, f"{where}, your weights w", atol=1e-8, rtol=1e-5)
    return "four steps with and four without bias correction match Adam."


# --- predict, then measure: Adam's first step ---------------------------------------------------

FIRST_LR = 0.01
FIRST_STEPS = (FIRST_LR, FIRST_LR * 0.1 / np.sqrt(0.001))       # with, without bias correction


@check("predicted_first_steps")
def predicted_first_steps(fn):
    expect_callable(fn, "predicted_first_steps")
    got = _pair(fn(), ("with_correction", "without_correction"), "predicted_first_steps")
    try:
        got = [float(x) for x in got]
    except (TypeError, ValueError):
        expect(False, f"predicted_first_steps should return two numbers, got {got!r}.")
    with_c, without = got
    lr = FIRST_LR
    if not np.isclose(with_c, FIRST_STEPS[0], rtol=1e-3):
        expect(not np.isclose(with_c, lr * 0.1, rtol=1e-3),
               f"with bias correction you predicted {with_c:.4g}: m_hat = m / (1 - beta1) undoes the factor "
               "1 - beta1 = 0.1, and v_hat does the same for v: m_hat / sqrt(v_hat) = g / |g|.")
        expect(False, f"with bias correction you predicted {with_c:.4g}, expected a size that does not depend on g: "
                      "at t = 1, m_hat = g and v_hat = g**2.")
    if not np.isclose(without, FIRST_STEPS[1], rtol=1e-3):
        hints = [(lr * 0.1 / 0.001, "you forgot the square root: the step divides by sqrt(v), and "
                                    "sqrt(1 - beta2) = sqrt(0.001) = 0.0316."),
                 (lr * 0.1, "you shrank m by 1 - beta1 but forgot that v shrinks too (by 1 - beta2, under a square root)."),
                 (lr, "without the correction m = 0.1 g and v = 0.001 g**2 at t = 1: they no longer cancel to g / |g|."),
                 (lr * np.sqrt(0.001) / 0.1, "that is the inverse factor: m / sqrt(v) = 0.1 / sqrt(0.001) = 3.16."),]
        for value, hint in hints:
            expect(not np.isclose(without, value, rtol=1e-3), f"without bias correction you predicted {without:.4g}: {hint}")
        expect(False, f"without bias correction you predicted {without:.4g}; write m and v after one step from zero, "
                      "then lr * m / sqrt(v).")
    return (f"with correction every entry moves by lr = {with_c:.3g}; without, by {without:.3g}, "
            f"{without / with_c:.2f} times more. Run the next cell to measure it.")


def verify_first_steps(fn, seeds=10):
    """The experiment after the prediction: the size of Adam's first step, over seeds and gradient scales.
    It waits for the prediction: the measurement is shown once there is one to compare it with."""
    got = read_prediction(fn, two_numbers, "two numbers")
    if got is None:
        return None
    with_c, without = [], []
    for seed in range(seeds):
        rng = np.random.default_rng(880 + seed)
        g = rng.standard_normal(100) * 10 ** rng.uniform(-3, 3, 100)
        w = np.zeros(100)
        for bc, out in ((True, with_c), (False, without)):
            w1 = _adam_ref(w, g, np.zeros(100), np.zeros(100), 1, FIRST_LR, bias_correction=bc)[0]
            out.append(np.abs(w1))
    with_c, without = np.concatenate(with_c), np.concatenate(without)
    print(f"first step of Adam (lr {FIRST_LR}) on 1000 entries with gradients from 1e-3 to 1e3:\n"
          f"  with bias correction:    {with_c.min():.4g} to {with_c.max():.4g}\n"
          f"  without bias correction: {without.min():.4g} to {without.max():.4g}")
    for name, guess, measured in (("with", got[0], with_c), ("without", got[1], without)):
        # the median: the few entries whose |g| is within a few eps of 0 take a slightly shorter first step
        held = abs(np.median(measured) - guess) <= 1e-3 * abs(np.median(measured))
        print(f"{name} correction: you predicted {guess:.4g}: {'✅ held' if held else '❌ did not hold'} "
              f"(measured median {np.median(measured):.4g}, range {measured.min():.4g} to {measured.max():.4g}).")
    return with_c, without


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
    if got is not None and np.shape(got) == expected.shape and np.allclose(got, sum(grads)):
        expect(False, "you added the micro-batch gradients without weights: each is a mean over its micro-batch, "
                      "so weight it by its share of the examples, size / total.")
    if got is not None and np.shape(got) == expected.shape and np.allclose(got, expected * sum(sizes)):
        expect(False, f"you weighted each gradient by its size but did not divide by the total ({sum(sizes)}): "
                      "that is the gradient of the summed loss, not of the mean.")
    expect_close(got, expected, "your accumulated gradient")
    return "the weighted sum equals the gradient of the whole batch."


@check("minibatches")
def minibatches(fn):
    expect_callable(fn, "minibatches")
    for n, size in [(10, 3), (8, 8), (5, 1)]:
        batches = fn(n, size, np.random.default_rng(804))
        batches = [np.asarray(b) for b in batches]
        expect(not (n % size and len(batches) == n // size),
               f"minibatches({n}, {size}) gave {len(batches)} batches: you dropped the last, smaller batch of "
               f"{n % size}; every example must be used once per epoch.")
        expect(len(batches) == -(-n // size),
               f"minibatches({n}, {size}) gave {len(batches)} batches, expected {-(-n // size)}.")
        lengths = [len(b) for b in batches]
        expected_lengths = [size] * (n // size) + ([n % size] if n % size else [])
        expect(lengths == expected_lengths, f"minibatches({n}, {size}) gave batch sizes {lengths}, expected {expected_lengths}.")
        joined = np.concatenate(batches)
        expect(len(set(joined.tolist())) == len(joined),
               f"minibatches({n}, {size}) repeats some indices and misses others: you sampled with replacement "
               "(rng.integers or rng.choice); a permutation uses every index exactly once.")
        expect(sorted(joined.tolist()) == list(range(n)),
               f"minibatches({n}, {size}) should use every index 0..{n - 1} exactly once, got {sorted(joined.tolist())}.")
    again = [np.asarray(b) for b in fn(100, 10, np.random.default_rng(805))]
    expect(not np.array_equal(np.concatenate(again), np.arange(100)),
           "your batches are in order 0, 1, 2, ...: shuffle with rng.permutation(n) first.")
    return "every example once per epoch, in shuffled batches of the right sizes."
