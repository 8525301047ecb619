"""Self-checks for exercise 09, many classes."""
from __future__ import annotations

import numpy as np

from nnlib.activations import softmax as _softmax
from nnlib.gradcheck import numerical_gradient
from . import check, expect, expect_callable, expect_close


@check("softmax")
def softmax(fn):
    expect_callable(fn, "softmax")
    rng = np.random.default_rng(901)
    z = rng.standard_normal((4, 5)) * 3
    got = fn(z.copy())
    expect(got is not None, "softmax returned None: did you forget to `return`?")
    got = np.asarray(got, dtype=float)
    expect(got.shape == z.shape, f"softmax of logits of shape {z.shape} should have the same shape, got {got.shape}.")
    sums = got.sum(axis=1)
    if not np.allclose(sums, 1):
        row = int(np.argmax(np.abs(sums - 1)))
        if np.allclose(got.sum(axis=0), 1):
            expect(False, "your columns sum to 1, not your rows: normalise along axis=1 (each row is one example).")
        expect(False, f"row {row} of your softmax sums to {sums[row]:.4g}, expected 1.")
    expect_close(got, _softmax(z), "your softmax")
    big = np.array([[1e4, 0.0, -1e4], [500.0, 501.0, 502.0]])
    with np.errstate(all="ignore"):
        out = np.asarray(fn(big.copy()), dtype=float)
    expect(np.isfinite(out).all(), "for logits like 1e4 your softmax gives NaN or inf: subtract each row's maximum "
                                   "before taking exponentials (it does not change the result).")
    expect_close(out, _softmax(big), "your softmax of very large logits")
    return "rows sum to 1, values match, and logits of 1e4 are handled."


@check("cross_entropy")
def cross_entropy(fn):
    expect_callable(fn, "cross_entropy")
    rng = np.random.default_rng(902)
    z, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    result = fn(z.copy(), y.copy())
    expect(isinstance(result, tuple) and len(result) == 2, "cross_entropy should return (loss, grad).")
    loss, grad = result
    p = _softmax(z)
    expected = -np.mean(np.log(p[np.arange(6), y]))
    if np.isclose(float(loss), expected * 6):
        expect(False, f"your loss is {float(loss):.4g}, the sum over the batch; return the mean ({expected:.4g}).")
    expect_close(loss, expected, "your loss")
    zz = z.copy()
    numeric = numerical_gradient(lambda: -np.mean(np.log(_softmax(zz)[np.arange(6), y])), zz)
    if np.shape(grad) == z.shape and np.allclose(grad, numeric * 6):
        expect(False, "your gradient is 6 times too large: the loss is a mean over 6 examples, divide (p - y) by 6.")
    if np.shape(grad) == z.shape and np.allclose(grad, -numeric, atol=1e-6, rtol=1e-4):
        expect(False, "your gradient has the wrong sign: dL/dz is (p - Y) / N, probabilities minus one-hot labels.")
    if np.shape(grad) == z.shape and np.allclose(grad, p / 6):
        expect(False, "your gradient is p / N: subtract 1 at each example's true class, (p - Y) / N.")
    expect_close(grad, numeric, "your gradient dL/dz (compared with the numerical gradient)", atol=1e-6, rtol=1e-4)
    return "the mean loss and its gradient (p - y) / N are right."


@check("multilabel_predict")
def multilabel_predict(fn):
    expect_callable(fn, "multilabel_predict")
    logits = np.array([[3.0, -2.0, 0.5], [-1.0, -0.2, -4.0], [0.0, 2.0, 2.0]])
    got = fn(logits.copy())
    expect(got is not None, "multilabel_predict returned None: did you forget to `return`?")
    got = np.asarray(got)
    expected = (logits > 0).astype(int)
    expect(got.shape == logits.shape, f"multilabel_predict should return one 0/1 per label, shape {logits.shape}, got {got.shape}.")
    if not np.isin(got, (0, 1)).all():
        expect(False, f"return decisions (0 or 1), not probabilities: you returned values like {got.ravel()[~np.isin(got.ravel(), (0, 1))][0]:.3g}.")
    if np.array_equal(got.astype(int), (logits >= 0).astype(int)) and not np.array_equal(got.astype(int), expected):
        expect(False, "a logit of exactly 0 gives probability 0.5, which is not *above* 0.5: use > rather than >=.")
    if np.array_equal(got, np.eye(3, dtype=int)[logits.argmax(1)]) and not np.array_equal(got, expected):
        expect(False, "you picked one label per example (argmax); here each label is its own yes/no question: "
                      "sigmoid(z) > 0.5, that is z > 0.")
    expect(np.array_equal(got.astype(int), expected),
           f"for logits\n{logits}\nyou predicted\n{got}\nexpected\n{expected} (a label is on where sigmoid(z) > 0.5).")
    return "every label decided on its own."


@check("f1_per_label")
def f1_per_label(fn):
    expect_callable(fn, "f1_per_label")
    pred = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0], [1, 0, 0]])
    true = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [1, 0, 0]])
    got = np.asarray(fn(pred.copy(), true.copy()), dtype=float)
    expected = []
    for j in range(3):
        tp = np.sum((pred[:, j] == 1) & (true[:, j] == 1))
        fp = np.sum((pred[:, j] == 1) & (true[:, j] == 0))
        fn_ = np.sum((pred[:, j] == 0) & (true[:, j] == 1))
        expected.append(2 * tp / (2 * tp + fp + fn_))
    expect(got.shape == (3,), f"f1_per_label should return one F1 per label, shape (3,), got {got.shape}.")
    expect_close(got, expected, "your per-label F1")
    return f"F1 per label {np.round(expected, 3)}."
