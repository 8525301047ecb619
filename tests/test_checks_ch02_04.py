"""Self-checks of exercises 2-4: right answers pass, typical wrong ones get a specific message with numbers."""
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

def mse_and_gradient(pred, y):
    return np.mean((pred - y) ** 2), 2 * (pred - y) / len(y)


def cross_entropy_and_gradient(z, y):
    p = sigmoid(z)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), (p - y) / len(y)


def train_until(X, y, lr, threshold, max_epochs=1000):
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(1, max_epochs + 1):
        loss, g = mse_and_gradient(X @ w + b, y)
        w, b = w - lr * X.T @ g, b - lr * np.sum(g)
        if loss <= threshold:
            break
    return w, b, epoch


def test_ch04_correct_answers_pass(capsys):
    assert ch04.mse_and_gradient(mse_and_gradient).passed
    assert ch04.cross_entropy_and_gradient(cross_entropy_and_gradient).passed
    assert ch04.gradient_descent_step(lambda ps, gs, lr: [p - lr * g for p, g in zip(ps, gs)]).passed
    assert ch04.train_until(train_until).passed
    out = capsys.readouterr().out
    assert out.count("✅") == 4 and "stopped at epoch" in out


def test_ch04_mse_mistakes():
    result = ch04.mse_and_gradient(lambda p, y: (np.sum((p - y) ** 2), 2 * (p - y) / len(y)))
    assert "your loss is 5: the sum of squared errors; divide by N = 3 for the mean, 1.667." in result.message
    result = ch04.mse_and_gradient(lambda p, y: (np.mean((p - y) ** 2), (p - y) / len(y)))
    assert "factor 2 from the square is missing" in result.message
    result = ch04.mse_and_gradient(lambda p, y: (np.mean((p - y) ** 2), 2 * (p - y)))
    assert "divide by N = 3" in result.message
    result = ch04.mse_and_gradient(lambda p, y: (np.mean((p - y) ** 2), 2 * (y - p) / len(y)))
    assert "wrong sign" in result.message


def test_ch04_cross_entropy_mistakes():
    def no_minus(z, y):
        loss, grad = cross_entropy_and_gradient(z, y)
        return -loss, grad
    assert "the minus sign in front is missing" in ch04.cross_entropy_and_gradient(no_minus).message

    def no_mean(z, y):
        loss, grad = cross_entropy_and_gradient(z, y)
        return loss * len(y), grad
    assert "that is the sum; divide by N = 3" in ch04.cross_entropy_and_gradient(no_mean).message

    def mse_like_gradient(z, y):
        p = sigmoid(z)
        return cross_entropy_and_gradient(z, y)[0], (p - y) * p * (1 - p) / len(y)
    assert "extra factor p (1 - p)" in ch04.cross_entropy_and_gradient(mse_like_gradient).message

    def wrong_sign(z, y):
        loss, grad = cross_entropy_and_gradient(z, y)
        return loss, -grad
    assert "wrong sign" in ch04.cross_entropy_and_gradient(wrong_sign).message

    def clipped(z, y):                                    # a clip that changes the confident, wrong logits of case 3
        p = np.clip(sigmoid(z), 1e-7, 1 - 1e-7)
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), (p - y) / len(y)
    result = ch04.cross_entropy_and_gradient(clipped)
    assert result.status == "failed" and "for case 3 (z [30.0, -30.0, 30.0], y [0.0, 1.0, 1.0]), the loss is" in result.message

    def nan_loss(z, y):
        return np.log(-1.0), (sigmoid(z) - y) / len(y)
    assert "contains nan" in ch04.cross_entropy_and_gradient(nan_loss).message


def test_ch04_gradient_step_uphill_is_explained():
    result = ch04.gradient_descent_step(lambda ps, gs, lr: [p + lr * g for p, g in zip(ps, gs)])
    assert "you added the gradient: the loss went up from 15.31 to 22.05" in result.message
    result = ch04.gradient_descent_step(lambda ps, gs, lr: [p - g for p, g in zip(ps, gs)])
    assert "multiply it by the learning rate" in result.message
    result = ch04.gradient_descent_step(lambda ps, gs, lr: None)
    assert "did you forget to `return`" in result.message


def test_ch04_training_loop_mistakes():
    def never_stops(X, y, lr, threshold, max_epochs=1000):
        w, b, _ = train_until(X, y, lr, threshold=-1.0, max_epochs=max_epochs)
        return w, b, max_epochs
    result = ch04.train_until(never_stops)
    assert "ran all 1000 epochs; it should stop at epoch" in result.message

    def off_by_one(X, y, lr, threshold, max_epochs=1000):
        w, b, epoch = train_until(X, y, lr, threshold, max_epochs)
        return w, b, epoch - 1
    result = ch04.train_until(off_by_one)
    assert "off by one" in result.message

    def no_descent(X, y, lr, threshold, max_epochs=1000):
        return np.zeros(2), 0.0, 5
    result = ch04.train_until(no_descent)
    assert "did not descend" in result.message and "far above the threshold 0.01" in result.message
