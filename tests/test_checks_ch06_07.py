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

def forward_right(a, rate, rng, keep_rule=lambda r, p: r >= p, scale=lambda p: 1 / (1 - p), guard=True):
    keep = keep_rule(rng.random(a.shape), rate)
    if rate == 1.0 and guard:
        return np.zeros_like(a), keep
    if not guard:
        with np.errstate(divide="ignore", invalid="ignore"):
            return a * keep / np.float64(1 - rate), keep          # 0 / 0 = nan where rate is 1
    return a * keep * scale(rate), keep


def test_dropout_forward_right_answer_passes():
    assert ch07.dropout_forward(forward_right).passed


@pytest.mark.parametrize("wrong, message", [
    (lambda a, p, rng: forward_right(a, p, rng, scale=lambda p: 1.0), "divides them by 1 - rate"),
    (lambda a, p, rng: forward_right(a, p, rng, scale=lambda p: 1 - p), "multiplied the kept entries by 1 - rate"),
    (lambda a, p, rng: forward_right(a, p, rng, keep_rule=lambda r, p: r < p), "keep each entry with probability 1 - rate"),
    (lambda a, p, rng: forward_right(a, p, rng, guard=False), "without dividing by 1 - rate = 0"),
    (lambda a, p, rng: forward_right(a, p, np.random.default_rng(0)), "draw a new mask at every call"),
    (lambda a, p, rng: (lambda keep: (a * keep / (1 - p) if p < 1 else 0 * a, keep))(np.random.random(a.shape) >= p),
     "not from np.random"),
    (lambda a, p, rng: forward_right(a, p, rng)[0], "should return (out, keep)"),
])
def test_dropout_forward_wrong_answers_are_explained(wrong, message):
    result = ch07.dropout_forward(wrong)
    assert result.status == "failed" and message in result.message, result.message


def test_dropout_backward_right_and_wrong():
    right = lambda g, keep, p: np.zeros_like(g) if p == 1 else g * keep / (1 - p)
    assert ch07.dropout_backward(right).passed
    no_scale = ch07.dropout_backward(lambda g, keep, p: g * keep)
    assert no_scale.status == "failed" and "did not divide by 1 - rate" in no_scale.message
    no_mask = ch07.dropout_backward(lambda g, keep, p: np.zeros_like(g) if p == 1 else g / (1 - p))
    assert no_mask.status == "failed" and "multiply by keep" in no_mask.message
    with np.errstate(divide="ignore", invalid="ignore"):
        nan = ch07.dropout_backward(lambda g, keep, p: g * keep / np.float64(1 - p))
    assert nan.status == "failed" and "do not divide by 0" in nan.message


def make_layer(reuse_mask=False, drop_at_inference=False, backward_ignores_mask=False):
    class Layer:
        def __init__(self, rate, rng):
            self.rate, self.rng, self.keep = rate, rng, None
            self.params, self.grads = {}, {}
            self.fixed = None

        def forward(self, x, training=False):
            if not training and not drop_at_inference:
                self.keep = None
                return x
            if reuse_mask and self.fixed is not None and self.fixed.shape == x.shape:
                self.keep = self.fixed
            else:
                self.keep = self.rng.random(x.shape) >= self.rate
                self.fixed = self.keep
            return x * self.keep / (1 - self.rate)

        def backward(self, grad_out):
            if self.keep is None or backward_ignores_mask:
                return grad_out
            return grad_out * self.keep / (1 - self.rate)
    return Layer


def test_dropout_layer_right_answer_passes():
    result = ch07.dropout_layer(make_layer())
    assert result.passed and "trains to accuracy" in result.message


@pytest.mark.parametrize("options, message", [
    ({"drop_at_inference": True}, "there is no dropout at inference"),
    ({"reuse_mask": True}, "draw a new one at every forward pass"),
    ({"backward_ignores_mask": True}, "backward must use the mask of the last forward pass"),
])
def test_dropout_layer_wrong_answers_are_explained(options, message):
    result = ch07.dropout_layer(make_layer(**options))
    assert result.status == "failed" and message in result.message, result.message


def test_not_done_and_strict_mode(monkeypatch):
    def todo(*args, **kwargs):
        raise NotImplementedError
    assert ch07.dropout_forward(todo).status == "not done"
    assert ch06.batchnorm_forward(todo).status == "not done"
    monkeypatch.setenv("NNLIB_CHECKS_STRICT", "1")
    with pytest.raises(CheckFailed, match="multiplied the kept entries"):
        ch07.dropout_forward(lambda a, p, rng: forward_right(a, p, rng, scale=lambda p: 1 - p))
