"""Self-checks for exercise 09, many classes: plain arrays in, plain arrays out."""
from __future__ import annotations

import numpy as np

from nnlib.activations import log_softmax as _log_softmax
from nnlib.activations import softmax as _softmax
from . import as_array, check, expect, expect_callable, expect_close, expect_tuple, is_close
from . import read_prediction
from . import progress as _progress

POINTS = {"smoothed_cross_entropy": 4, "predicted_gap": 2, "multilabel_predict": 2, "pairwise_cost": 2}


def progress():
    """The running total of this exercise's self-checks (the last cell of the exercise)."""
    return _progress(POINTS)


# --- question 1: cross-entropy with label smoothing, exact for any logits -------------------

def _targets(y, k, smoothing):
    return (1 - smoothing) * np.eye(k)[y] + smoothing / k


def _smoothed_ref(z, y, smoothing):
    n, k = z.shape
    t = _targets(y, k, smoothing)
    loss = -np.sum(t * _log_softmax(z)) / n
    return loss, (_softmax(z) - t) / n


def _loss_mistakes(loss, z, y, smoothing, where):
    n, k = z.shape
    logp = _log_softmax(z)
    onehot = np.eye(k)[y]
    if smoothing and is_close(loss, -np.sum(onehot * logp) / n):
        expect(False, f"{where}, your loss is the plain cross-entropy -log p_y: with smoothing the targets are "
                      f"t = (1 - smoothing) * onehot + smoothing / K, and the loss is -sum(t * log p).")
    if smoothing and is_close(loss, -np.sum(((1 - smoothing) * onehot + smoothing / (k - 1) * (1 - onehot)) * logp) / n):
        expect(False, f"{where}, you spread the smoothing over the K - 1 wrong classes; this exercise spreads it over "
                      "all K classes, smoothing / K each (the true class gets 1 - smoothing + smoothing / K).")
    expect(not is_close(loss, -np.sum(_targets(y, k, smoothing) * logp)),
           f"{where}, your loss is the sum over the batch; return the mean over the {n} examples.")


def _grad_mistakes(grad, z, y, smoothing, where):
    n, k = z.shape
    p, t = _softmax(z), _targets(y, k, smoothing)
    with np.errstate(all="ignore"):
        wrt_p = -t / p / n
    if is_close(grad, wrt_p, rtol=1e-4):
        expect(False, f"{where}, your gradient is -t / p / N, the gradient with respect to the probabilities p; "
                      "the question asks for dL/dz, with respect to the logits: chain it through the softmax "
                      "(its Jacobian), and almost everything cancels.")
    if is_close(grad, (t - p) / n):
        expect(False, f"{where}, your gradient has the wrong sign: the loss falls when the true class's logit rises.")
    if is_close(grad, p - t):
        expect(False, f"{where}, your gradient is {n} times too large: the loss is a mean over {n} examples.")
    if smoothing and is_close(grad, (p - np.eye(k)[y]) / n):
        expect(False, f"{where}, your gradient ignores the smoothing: the targets are t, not the one-hot labels.")
    if is_close(grad, p / n):
        expect(False, f"{where}, your gradient is p / N: the targets are missing from it.")


@check("smoothed_cross_entropy")
def smoothed_cross_entropy(fn):
    expect_callable(fn, "smoothed_cross_entropy")
    rng = np.random.default_rng(902)
    cases = [(rng.standard_normal((6, 4)) * 2, rng.integers(0, 4, 6), 0.0),
             (rng.standard_normal((5, 3)) * 2, rng.integers(0, 3, 5), 0.1),
             (rng.standard_normal((4, 10)) * 2, rng.integers(0, 10, 4), 0.3),
             (np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 2e4], [-1e4, -1e4, -1e4]]), np.array([2, 0, 1]), 0.1),
             (np.array([[800.0, 0.0], [0.0, -800.0]]), np.array([1, 1]), 0.0)]
    for z, y, smoothing in cases:
        large = np.abs(z).max() > 100
        where = (f"for logits as large as {np.abs(z).max():g}" if large else f"for logits of shape {z.shape}") + \
            f" and smoothing {smoothing}"
        with np.errstate(all="ignore"):
            result = fn(z.copy(), y.copy(), smoothing)
        loss, grad = expect_tuple(result, ("loss", "grad"), "smoothed_cross_entropy")
        exp_loss, exp_grad = _smoothed_ref(z, y, smoothing)
        loss = as_array(loss, f"{where}, your loss")
        expect(loss.shape == (), f"{where}, your loss has shape {loss.shape}: return one number, the mean over the batch.")
        if large:
            expect(np.isfinite(loss), f"{where}, your loss is {float(loss)}: the log of a computed softmax overflows or "
                                      "underflows to log(0); compute log p = z - m - log(sum(exp(z - m))) with m the "
                                      "row's maximum (log-sum-exp), never log(softmax(z)).")
            if not np.isclose(loss, exp_loss, rtol=1e-6):
                expect(False, f"{where}, your loss is {float(loss):.6g}, expected {exp_loss:.6g}: clipping or adding a "
                              "tiny number to the probabilities before the log is not exact; the log-sum-exp form "
                              "log p = z - m - log(sum(exp(z - m))) is exact for any logits.")
        if not is_close(loss, exp_loss):
            _loss_mistakes(loss, z, y, smoothing, where)
        expect_close(loss, exp_loss, f"{where}, your loss")
        grad = as_array(grad, f"{where}, your gradient")
        expect(grad.shape == z.shape, f"{where}, your gradient has shape {grad.shape}, expected {z.shape}: one entry "
                                      "per logit.")
        if large:
            expect(np.isfinite(grad).all(), f"{where}, your gradient contains NaN or inf: compute the probabilities "
                                            "with the row's maximum subtracted first.")
        if not is_close(grad, exp_grad):
            _grad_mistakes(grad, z, y, smoothing, where)
        expect_close(grad, exp_grad, f"{where}, your gradient dL/dz")
    return "the loss is exact for logits of 1e4 and its gradient with respect to the logits is right."


# --- question 2: predict, then measure: where label smoothing stops the logits ---------------

GAP_K, GAP_SMOOTHING = 10, 0.1
GAP = float(np.log((1 - GAP_SMOOTHING + GAP_SMOOTHING / GAP_K) / (GAP_SMOOTHING / GAP_K)))     # log 91


@check("predicted_gap")
def predicted_gap(fn):
    expect_callable(fn, "predicted_gap")
    got = fn()
    try:
        gap = float(got)
    except (TypeError, ValueError):
        expect(False, f"predicted_gap should return one number, got {got!r}.")
    k, s = GAP_K, GAP_SMOOTHING
    if not np.isclose(gap, GAP, rtol=1e-4):
        true, other = 1 - s + s / k, s / k
        expect(np.isfinite(gap), "without smoothing the logits would grow for ever (the minimum is at p_y = 1); with "
                                 "smoothing the targets are not 0 and 1, so the loss has a finite minimum.")
        hints = [(np.log((1 - s) / other), "the true class's target is 1 - smoothing + smoothing / K: it gets its share "
                                           "of the smoothing too."),
                 (np.log((1 - s) / (s / (k - 1))), "you spread the smoothing over the K - 1 wrong classes; here it is "
                                                   "spread over all K classes, smoothing / K each."),
                 (true / other, "that is the ratio of the probabilities; the logits differ by its log (p_y / p_k = "
                                "exp(z_y - z_k))."),
                 (np.log10(true / other), "natural log, not log10: softmax uses exp."),
                 (true - other, "that is the difference of the target probabilities; the logits differ by the log of "
                                "their ratio."),
                 (np.log((1 - s) / s), "the smoothing is spread: each wrong class gets smoothing / K, not smoothing.")]
        for value, hint in hints:
            expect(not np.isclose(gap, value, rtol=1e-4), f"you predicted {gap:.4g}: {hint}")
        expect(False, f"you predicted {gap:.4g}; the loss is smallest where the softmax equals the targets, p = t.")
    return (f"at the minimum p = t, so z_y - z_k = log(t_y / t_k) = {gap:.4g} for every wrong class k. "
            "Run the next cell to watch gradient descent get there.")


def verify_gap(fn, seeds=8, steps=3000, lr=2.0):
    """The experiment after the prediction: gradient descent on the logits of one example, from 8 random starts.
    It waits for the prediction: the measurement is shown once there is one to compare it with."""
    guess = read_prediction(fn, float, "a number")
    if guess is None:
        return None
    k = GAP_K
    z = np.stack([np.random.default_rng(900 + s).standard_normal(k) * 3 for s in range(seeds)])   # (seeds, K)
    z0 = z.copy()
    onehot = np.eye(k)[0]
    gaps = {}
    for smoothing in (GAP_SMOOTHING, 0.0):
        z = z0.copy()
        t = (1 - smoothing) * onehot + smoothing / k
        for step in range(1, steps + 1):
            z -= lr * (_softmax(z) - t)
            if step in (steps // 100, steps // 10, steps):
                gap = z[:, 0] - np.delete(z, 0, axis=1).mean(axis=1)
                gaps[smoothing, step] = gap
    print(f"gradient descent on the logits of one example (K = {k}, true class 0), {seeds} random starts, lr {lr}:")
    for smoothing in (GAP_SMOOTHING, 0.0):
        row = "   ".join(f"{step} steps: {gaps[smoothing, step].mean():.3f} ± {gaps[smoothing, step].std(ddof=1):.3f}"
                         for step in (steps // 100, steps // 10, steps))
        print(f"  smoothing {smoothing}: gap z_y - z_k  {row}")
    measured = gaps[GAP_SMOOTHING, steps].mean()
    held = abs(guess - measured) <= 0.01 * abs(measured)
    print(f"you predicted {guess:.4g}, measured {measured:.4f}: {'✅ held' if held else '❌ did not hold'} "
          "(held = within 1%). Without smoothing the gap has no limit: it keeps growing, like log(steps).")
    return gaps


# --- question 3: multi-label decisions with a threshold per label ---------------------------

@check("multilabel_predict")
def multilabel_predict(fn):
    expect_callable(fn, "multilabel_predict")
    logits = np.array([[3.0, -2.0, 0.5], [0.0, 2.0, 1.0], [1e4, -1e4, 1.2]])      # square: rows and columns differ
    thresholds = np.array([0.5, 0.1, 0.8])
    cut = np.log(thresholds / (1 - thresholds))
    expected = (logits > cut).astype(int)
    with np.errstate(all="ignore"):
        got = fn(logits.copy(), thresholds.copy())
    got = as_array(got, "your decisions")
    expect(got.shape == logits.shape, f"multilabel_predict should return one 0/1 per example and label, shape "
                                      f"{logits.shape}, got {got.shape}.")
    if not np.isin(got, (0, 1)).all():
        expect(False, f"return decisions (0 or 1), not probabilities: you returned values like "
                      f"{got.ravel()[~np.isin(got.ravel(), (0, 1))][0]:.3g}.")
    got = got.astype(int)
    if not np.array_equal(got, expected):
        expect(not np.array_equal(got, (logits > thresholds).astype(int)),
               "you compared the logits with the probability thresholds: sigmoid(z) > t means z > log(t / (1 - t)), "
               "the logit of t.")
        expect(not np.array_equal(got, (logits >= cut).astype(int)),
               "a label is on only where its probability is *above* its threshold: use > rather than >=.")
        expect(not np.array_equal(got, (logits > np.log(thresholds)).astype(int)),
               "the logit of a probability t is log(t / (1 - t)), not log(t).")
        expect(not np.array_equal(got, (logits > 0).astype(int)),
               "you used 0.5 for every label (z > 0); each label has its own threshold, thresholds[k] for column k.")
        expect(not np.array_equal(got, (logits > cut[:, None]).astype(int)),
               "you applied thresholds[i] to row i (example i); thresholds[k] belongs to column k (label k).")
        expect(not np.array_equal(got, np.eye(3, dtype=int)[logits.argmax(1)]),
               "you picked one label per example (argmax); here each label is its own yes/no question.")
    expect(np.array_equal(got, expected), f"for logits\n{logits}\nand thresholds {thresholds} you predicted\n{got}\n"
                                           f"expected\n{expected} (label k is on where sigmoid(z) > thresholds[k]).")
    rows = np.array([[0.5, -0.5, 0.5], [2.0, 2.0, 2.0], [-3.0, 0.0, 1.0]])
    got = as_array(fn(rows.copy(), thresholds.copy()), "your decisions for a square input")
    square = (rows > cut).astype(int)
    expect(not np.array_equal(got, (rows > cut[:, None]).astype(int)) or np.array_equal(got, square),
           "for a 3 x 3 input you applied thresholds[i] to row i (example i); thresholds[k] belongs to column k "
           "(label k).")
    expect(np.array_equal(got, square), f"for logits\n{rows}\nand thresholds {thresholds} you predicted\n{got}\n"
                                         f"expected\n{square}.")
    return "every label decided on its own, against its own threshold, from the logits alone."


# --- question 4: what one-vs-one and one-vs-all cost -----------------------------------------

def _costs(k, n):
    return k, k * k * n, k * (k - 1) // 2, k * (k - 1) * n


@check("pairwise_cost")
def pairwise_cost(fn):
    expect_callable(fn, "pairwise_cost")
    names = ("ova_models", "ova_examples", "ovo_models", "ovo_examples")
    for k, n in ((4, 200), (10, 50), (2, 7), (100, 3)):
        where = f"for K = {k} classes of n = {n} examples"
        got = expect_tuple(fn(k, n), names, "pairwise_cost")
        try:
            got = [float(g) for g in got]
        except (TypeError, ValueError):
            expect(False, f"{where}, pairwise_cost should return four numbers, got {got!r}.")
        ova_m, ova_e, ovo_m, ovo_e = _costs(k, n)
        expect(got[0] == ova_m, f"{where}, you counted {got[0]:g} one-vs-all classifiers, expected one per class.")
        if got[1] != ova_e:
            expect(got[1] != k * n, f"{where}, {got[1]:g} examples for one-vs-all is one classifier's share: each of "
                                    f"the {k} classifiers trains on all {k * n} examples.")
            expect(False, f"{where}, one-vs-all trains on {got[1]:g} examples per epoch, expected {ova_e}.")
        if got[2] != ovo_m:
            expect(got[2] != k * (k - 1), f"{where}, you counted {got[2]:g} one-vs-one classifiers: that counts each "
                                          "pair twice ((a, b) and (b, a) are one classifier).")
            expect(got[2] != k * k, f"{where}, you counted {got[2]:g} one-vs-one classifiers: K * K pairs a class with "
                                    "itself and counts each pair twice.")
            expect(got[2] != k * (k + 1) // 2, f"{where}, you counted {got[2]:g}: a class is not paired with itself.")
            expect(False, f"{where}, you counted {got[2]:g} one-vs-one classifiers, expected {ovo_m}.")
        if got[3] != ovo_e:
            expect(got[3] != ovo_m * k * n, f"{where}, {got[3]:g} examples: each one-vs-one classifier trains only on "
                                            f"the examples of its two classes ({2 * n}), not on all {k * n}.")
            expect(got[3] != ovo_m * n, f"{where}, {got[3]:g} examples: each one-vs-one classifier sees both of its "
                                        f"classes, 2 * {n} examples.")
            expect(False, f"{where}, one-vs-one trains on {got[3]:g} examples per epoch, expected {ovo_e}.")
    return ("one-vs-one needs K(K-1)/2 models, but each sees 2n examples: per epoch it trains on (K-1)/K as many "
            "examples as one-vs-all, and its models are smaller problems.")
