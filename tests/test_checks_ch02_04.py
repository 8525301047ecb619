"""Self-checks of exercises 2-4: right answers pass, typical wrong ones get a specific message with numbers."""
from pathlib import Path
import numpy as np
import pytest

from nncourse.checks import CheckFailed, ch02, ch03, ch04


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def relu(z):
    return np.maximum(z, 0)


# --- exercise 2 --------------------------------------------------------------------------

def dense_forward(X, W, b):
    return X @ W + b


def two_layer_forward(X, W1, b1, W2, b2, activation="none"):
    h = X @ W1 + b1
    h = {"none": h, "relu": np.maximum(h, 0), "tanh": np.tanh(h)}[activation]
    return h @ W2 + b2


def count_parameters(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def test_ch02_correct_answers_pass(capsys):
    assert ch02.dense_forward(dense_forward).passed
    assert ch02.two_layer_forward(two_layer_forward).passed
    assert ch02.fold_standardization(lambda mu, s, W, b: (W / s[:, None], b - (mu / s) @ W)).passed
    assert ch02.count_parameters(count_parameters).passed
    assert ch02.xor_prediction(lambda: "dc").passed and ch02.xor_prediction(lambda: ["C", "D"]).passed
    assert capsys.readouterr().out.count("✅") == 6


def test_ch02_not_done_is_reported():
    def dense_forward(X, W, b):
        raise NotImplementedError
    assert ch02.dense_forward(dense_forward).status == "not done"


def test_ch02_activation_is_passed_as_a_name_not_a_function():
    seen = []

    def spy(X, W1, b1, W2, b2, activation="none"):
        seen.append(activation)
        return two_layer_forward(X, W1, b1, W2, b2, activation)
    assert ch02.two_layer_forward(spy).passed
    assert seen and all(isinstance(a, str) for a in seen), seen


def test_ch02_parameter_count_states_the_split():
    result = ch02.count_parameters(lambda s: 5)
    assert "count_parameters([3, 1]) is 5, expected 4 (3 weights + 1 biases)" in result.message


def test_ch02_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECKS_STRICT", "1")
    with pytest.raises(CheckFailed, match="bias is missing"):
        ch02.dense_forward(lambda X, W, b: X @ W)


# --- exercise 3 --------------------------------------------------------------------------

def _stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1 + e)


def test_ch03_correct_answers_pass(capsys):
    assert ch03.silu_slope(lambda z: _stable_sigmoid(z) * (1 + z * (1 - _stable_sigmoid(z)))).passed
    assert ch03.softplus(lambda z: (np.logaddexp(0, z), _stable_sigmoid(z))).passed
    assert ch03.circle_features(lambda X: np.column_stack([X, np.abs(X).sum(axis=1)])).passed, "any feature that fits"
    assert ch03.chain_slope(lambda: 1e-6).passed, "two significant digits are enough"
    assert capsys.readouterr().out.count("✅") == 4


def test_ch03_not_done_and_crashes_are_reported():
    def silu_slope(z):
        raise NotImplementedError
    assert ch03.silu_slope(silu_slope).status == "not done"
    assert ch03.softplus(lambda z: z.missing).status == "error"


def test_ch03_a_clipped_softplus_is_not_exact():
    clipped = lambda z: (np.log1p(np.exp(np.clip(z, -30, 30))), _stable_sigmoid(z))  # noqa: E731
    result = ch03.softplus(clipped)
    assert result.status == "failed" and "large |z|" in result.message


# --- exercise 4 --------------------------------------------------------------------------

def _cross_entropy_exact(z, y):
    return np.mean(np.logaddexp(0, z) - z * y), (_stable_sigmoid(z) - y) / len(y)


def _train_until(X, y, lr, threshold, max_epochs=1000):
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(1, max_epochs + 1):
        e = X @ w + b - y
        g = 2 * e / len(y)
        w, b = w - lr * X.T @ g, b - lr * g.sum()
        if np.mean(e ** 2) <= threshold:
            break
    return w, b, epoch


def test_ch04_correct_answers_pass(capsys):
    def mse_after_sigmoid(z, y):
        p = _stable_sigmoid(z)
        return np.mean((p - y) ** 2), 2 * (p - y) * p * (1 - p) / len(y)
    assert ch04.mse_after_sigmoid(mse_after_sigmoid).passed
    assert ch04.cross_entropy_exact(_cross_entropy_exact).passed
    assert ch04.diverging_rates(lambda: np.array([0.7, 0.5, 0.3, 0.24])).passed, "any order, an array too"
    assert ch04.train_until(_train_until).passed
    assert capsys.readouterr().out.count("✅") == 4


def test_ch04_the_predicted_rates_are_the_ones_that_diverge():
    limit = ch04.divergence_limits()["right"]
    X, lam = ch04.DIVERGENCE_X, ch04.DIVERGENCE_LAM
    y = X @ np.array([1.0, -1.0])
    for lr in ch04.RATES:
        w = np.zeros(2)
        for _ in range(200):
            w = w - lr * (2 / len(X) * X.T @ (X @ w - y) + 2 * lam * w)
        assert (np.linalg.norm(w) > 1e3) == (lr > limit), lr


def test_ch04_a_loss_that_adds_an_epsilon_is_not_exact():
    def with_eps(z, y):
        p = _stable_sigmoid(z)
        return -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)), (p - y) / len(y)
    result = ch04.cross_entropy_exact(with_eps)
    assert result.status == "failed" and "epsilon" in result.message


def test_ch04_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECKS_STRICT", "1")
    with pytest.raises(CheckFailed, match="ran all 1000 epochs"):
        ch04.train_until(lambda X, y, lr, threshold, max_epochs: _train_until(X, y, lr, -1.0, max_epochs))


def test_exercise_4_defines_the_data_its_check_uses():
    """The graded answer runs in the grader's sandbox, which cannot see nncourse.checks: the exercise
    defines the examples and rates itself, and they must be the check's."""
    import json
    nb = json.loads((Path(__file__).resolve().parent.parent / "solutions" / "04_loss_and_gradient_descent.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["id"] == "diverging_rates-data")
    ns = {"np": np}
    exec("".join(cell["source"]), ns)
    assert np.array_equal(ns["X_div"], ch04.DIVERGENCE_X) and tuple(ns["RATES"]) == tuple(ch04.RATES)
    assert ch04.DIVERGENCE_LAM == 0.5
