"""Exercise 09's checks: right answers pass, the predictions' theory holds when measured.

The named wrong answers are in the catalogue (tests/wrong_answers_ch07_09.py), run through the
self-check and the grader by tests/test_wrong_answers_ch06_11.py.
"""
import numpy as np
import pytest

from nncourse.checks import CheckFailed, ch09


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def smoothed_right(z, y, smoothing):
    n, k = z.shape
    t = (1 - smoothing) * np.eye(k)[y] + smoothing / k
    s = z - z.max(1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(1, keepdims=True))
    return -np.sum(t * log_p) / n, (np.exp(log_p) - t) / n


def test_exercise_09_right_answers_pass():
    assert ch09.smoothed_cross_entropy(smoothed_right).passed
    assert ch09.predicted_gap(lambda: np.log(91)).passed
    assert ch09.multilabel_predict(lambda z, t: (z > np.log(t / (1 - t))).astype(int)).passed
    assert ch09.pairwise_cost(lambda K, n: (K, K * K * n, K * (K - 1) // 2, K * (K - 1) * n)).passed


def test_a_numerically_safe_sigmoid_also_passes_multilabel():
    def via_sigmoid(z, t):
        with np.errstate(over="ignore"):
            return (1 / (1 + np.exp(-z)) > t).astype(int)
    assert ch09.multilabel_predict(via_sigmoid).passed


def test_smoothed_reference_gradient_matches_a_numerical_gradient():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((3, 5)), np.array([0, 4, 2])
    loss, grad = ch09._smoothed_ref(z, y, 0.2)
    num = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        d = np.zeros_like(z)
        d[idx] = 1e-6
        num[idx] = (ch09._smoothed_ref(z + d, y, 0.2)[0] - ch09._smoothed_ref(z - d, y, 0.2)[0]) / 2e-6
    assert np.allclose(grad, num, atol=1e-8)


def test_smoothed_reference_is_exact_for_logits_of_1e4():
    loss, grad = ch09._smoothed_ref(np.array([[1e4, 0.0, -1e4]]), np.array([2]), 0.0)
    assert loss == 2e4 and np.allclose(grad, [[1.0, 0.0, -1.0]])


def test_predicted_gap_is_where_gradient_descent_stops(capsys):
    gaps = ch09.verify_gap(lambda: ch09.GAP)
    assert ch09.GAP == pytest.approx(np.log(91))
    final = gaps[ch09.GAP_SMOOTHING, 3000]
    assert np.allclose(final, ch09.GAP, atol=1e-3)
    assert gaps[0.0, 3000].mean() > gaps[0.0, 300].mean() > gaps[0.0, 30].mean()      # no limit without smoothing
    assert "✅ held" in capsys.readouterr().out


def test_verify_gap_waits_for_a_prediction(capsys):
    def todo():
        raise NotImplementedError
    assert ch09.verify_gap(todo) is None
    out = capsys.readouterr().out
    assert "⏳ make your prediction" in out and "gradient descent" not in out     # nothing measured to copy from


def test_returning_the_wrong_kind_is_explained():
    r = ch09.smoothed_cross_entropy(lambda z, y, s: 1.0)
    assert r.status == "failed" and "should return 2 values" in r.message
    r = ch09.pairwise_cost(lambda K, n: (K, K))
    assert r.status == "failed" and "should return 4 values" in r.message


def test_not_done_and_strict_mode(monkeypatch):
    def todo(*args, **kwargs):
        raise NotImplementedError
    assert ch09.smoothed_cross_entropy(todo).status == "not done"
    monkeypatch.setenv("NNLIB_CHECKS_STRICT", "1")
    with pytest.raises(CheckFailed, match="counts each pair twice"):
        ch09.pairwise_cost(lambda K, n: (K, K * K * n, K * (K - 1), K * (K - 1) * 2 * n))
