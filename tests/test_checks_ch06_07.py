"""Self-checks of exercises 06 and 07: right answers pass, typical wrong ones get a specific message."""
import numpy as np
import pytest

from nncourse.checks import CheckFailed, ch06, ch07


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


# --- exercise 06 ------------------------------------------------------------------------------

def test_predicted_ratio_right_answer_passes():
    assert ch06.predicted_ratio(lambda: 1 / 1024).passed


def test_predicted_ratio_bound_holds_and_is_tight_when_measured():
    ratios = ch06.sigmoid_ratios(seeds=5, n=200)
    assert (ratios <= ch06.RATIO_BOUND).all() and ratios.max() > 0.99 * ch06.RATIO_BOUND


def test_predicted_ratio_must_be_a_number():
    result = ch06.predicted_ratio(lambda: True)
    assert result.status == "failed" and "should be a number" in result.message


def vanishing_right(norms, ratio=1e-3):
    below = np.flatnonzero(np.asarray(norms) < ratio * norms[-1])
    return int(below[-1]) + 1 if below.size else None


def test_vanishing_layer_right_answer_passes():
    assert ch06.vanishing_layer(vanishing_right).passed


@pytest.mark.parametrize("wrong, message", [
    (lambda n, r=1e-3: (vanishing_right(n, r) - 1) if vanishing_right(n, r) else None, "number the layers from 1"),
    (lambda n, r=1e-3: int(np.sum(np.asarray(n) < r * n[-1])) or None, "the number of layers below the threshold"),
    (lambda n, r=1e-3: vanishing_right(n, r) or 0, "expected None, got 0"),
    (lambda n, r=1e-3: float(vanishing_right(n, r) or 0) or None, "as an int, got float"),
    (lambda n, r=1e-3: (int(np.flatnonzero(np.asarray(n) < r * max(n))[-1]) + 1
                        if (np.asarray(n) < r * max(n)).any() else None), "compared with the largest norm"),
])
def test_vanishing_layer_wrong_answers_are_explained(wrong, message):
    result = ch06.vanishing_layer(wrong)
    assert result.status == "failed" and message in result.message, result.message


def bn_right(x, gamma, beta, rm, rv, training, momentum=0.9, eps=1e-5, ddof=0, axis=0, swap=False, use_eps=True,
             inference_batch=False, update_at_inference=False):
    if training or inference_batch:
        mu, var = x.mean(axis=axis, keepdims=axis == 1), x.var(axis=axis, ddof=ddof, keepdims=axis == 1)
    else:
        mu, var = rm, rv
    if training or update_at_inference:
        m = (1 - momentum) if swap else momentum
        rm = m * rm + (1 - m) * x.mean(axis=0)
        rv = m * rv + (1 - m) * x.var(axis=0, ddof=ddof)
    out = gamma * (x - mu) / np.sqrt(var + (eps if use_eps else 0)) + beta
    return out, rm, rv


def test_batchnorm_forward_right_answer_passes():
    assert ch06.batchnorm_forward(bn_right).passed


@pytest.mark.parametrize("options, message", [
    ({"ddof": 1}, "divides by 7 (np.var with ddof=1)"),
    ({"axis": 1}, "normalised each example (axis=1)"),
    ({"use_eps": False}, "add eps inside the square root"),
    ({"swap": True}, "0.1 x old + 0.9 x batch"),
    ({"inference_batch": True}, "at inference you used the batch's statistics"),
    ({"update_at_inference": True}, "at inference the running statistics must come back unchanged"),
])
def test_batchnorm_forward_wrong_answers_are_explained(options, message):
    result = ch06.batchnorm_forward(lambda *a, **k: bn_right(*a, **k, **options))
    assert result.status == "failed" and message in result.message, result.message


def test_batchnorm_forward_missing_running_statistics():
    result = ch06.batchnorm_forward(lambda x, g, b, rm, rv, training, momentum=0.9, eps=1e-5: bn_right(x, g, b, rm, rv, training)[0])
    assert result.status == "failed" and "should return (out, running_mean, running_var)" in result.message


def bn_backward_right(dout, x, gamma, eps=1e-5):
    return ch06._bn_backward_reference(dout, x, gamma, eps)


def test_batchnorm_backward_right_answer_passes():
    assert ch06.batchnorm_backward(bn_backward_right).passed


def test_batchnorm_backward_reference_matches_a_numerical_gradient(rng):
    x, dout, gamma = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.uniform(0.5, 2, 3)

    def loss(x):
        return np.sum(dout * gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))
    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = 1e-6
        numeric[idx] = (loss(x + e) - loss(x - e)) / 2e-6
    assert np.allclose(bn_backward_right(dout, x, gamma)[0], numeric, atol=1e-6)


def pick_right(lrs, dead, acc, max_dead=0.1, min_accuracy=0.95):
    good = [lr for lr, d, a in zip(lrs, dead, acc) if d <= max_dead and a >= min_accuracy]
    return max(good) if good else None


def test_pick_learning_rate_right_answer_passes():
    result = ch06.pick_learning_rate(pick_right)
    assert result.passed and "you pick lr 0.3" in result.message


# --- exercise 07 ------------------------------------------------------------------------------
# The catalogue of wrong answers (tests/wrong_answers_ch07_09.py) covers the named mistakes, through
# the self-check and the grader; these tests cover the right answers, the theory behind the predictions
# and the cases the catalogue cannot express as an answer cell.

def variance_right(a, rate):
    return a ** 2 * rate / (1 - rate)


class LayerRight:
    def __init__(self, rate, rng, draw=lambda rng, shape, rate: rng.random(shape) >= rate):
        self.rate, self.rng, self.keep, self.draw = rate, rng, None, draw
        self.params, self.grads = {}, {}

    def forward(self, x, training=False):
        if not training:
            self.keep = None
            return x
        self.keep = self.draw(self.rng, x.shape, self.rate)
        return np.zeros_like(x) if self.rate == 1.0 else x * self.keep / (1 - self.rate)

    def backward(self, grad_out):
        if self.keep is None:
            return grad_out
        return np.zeros_like(grad_out) if self.rate == 1.0 else grad_out * self.keep / (1 - self.rate)


def dense_right(x, keep, rate, W, grad_out):
    h = x * keep / (1 - rate)
    return (grad_out @ W.T) * keep / (1 - rate), h.T @ grad_out, grad_out.sum(0)


def test_exercise_07_right_answers_pass():
    assert ch07.dropout_variance(variance_right).passed
    assert ch07.predicted_spread(lambda: (96.0, 6.0)).passed
    assert ch07.dropout_layer(LayerRight).passed
    assert ch07.dense_after_dropout_backward(dense_right).passed


def test_dropout_variance_reference_matches_a_simulation():
    keep = np.random.default_rng(0).random((200_000, 3)) >= np.array([0.2, 0.5, 0.75])
    out = 1.5 * keep / (1 - np.array([0.2, 0.5, 0.75]))
    assert np.allclose(out.var(0), [ch07._variance(1.5, r) for r in (0.2, 0.5, 0.75)], rtol=0.02)


def test_predicted_spread_is_what_the_experiment_measures(capsys):
    means, stds = ch07.verify_spread(lambda: ch07.SPREAD)
    assert ch07.SPREAD == (96.0, 6.0)
    assert abs(means.mean() - 96.0) < 3 * means.std(ddof=1) + 0.05 and abs(stds.mean() - 6.0) < 0.1
    assert capsys.readouterr().out.count("✅ held") == 2


def test_verify_spread_waits_for_a_prediction(capsys):
    def todo():
        raise NotImplementedError
    assert ch07.verify_spread(todo) is None
    out = capsys.readouterr().out
    assert "⏳ make your prediction" in out and "z = sum of" not in out     # nothing measured to copy from


def test_dropout_layer_with_another_valid_rule_is_told_the_stated_rule():
    other = lambda rate, rng: LayerRight(rate, rng, draw=lambda g, shape, p: g.random(shape) < 1 - p)
    result = ch07.dropout_layer(other)
    assert result.status == "failed" and "self.rng.random(x.shape) >= self.rate" in result.message, result.message


def test_dropout_layer_that_ignores_its_rng_is_told_to_use_it():
    result = ch07.dropout_layer(lambda rate, rng: LayerRight(rate, np.random.default_rng(123)))
    assert result.status == "failed" and "the layer's own rng" in result.message, result.message


def test_not_done_and_strict_mode(monkeypatch):
    def todo(*args, **kwargs):
        raise NotImplementedError
    assert ch07.dropout_variance(todo).status == "not done"
    assert ch07.dense_after_dropout_backward(todo).status == "not done"
    assert ch06.batchnorm_forward(todo).status == "not done"
    monkeypatch.setenv("NNLIB_CHECKS_STRICT", "1")
    with pytest.raises(CheckFailed, match="without the scaling"):
        ch07.dropout_variance(lambda a, rate: a ** 2 * rate * (1 - rate))


def _not_yet():
    raise NotImplementedError


def test_verify_ratio_measures_only_once_there_is_a_prediction(capsys):
    assert ch06.verify_ratio(_not_yet) is None
    out = capsys.readouterr().out
    assert "⏳ make your prediction" in out and "largest" not in out          # nothing measured to copy from
    ratios = ch06.verify_ratio(lambda: 0.25 ** 5)
    out = capsys.readouterr().out
    assert ratios.size and "holds on every seed" in out, out
    assert "does not hold" in (ch06.verify_ratio(lambda: 1e-9), capsys.readouterr().out)[1]
