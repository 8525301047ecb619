"""Exercise 05's self-checks: right answers pass, typical wrong backward passes get a message that
says what is wrong, with numbers, and nothing crashes."""
import re

import numpy as np
import pytest

from nnlib.activations import log_softmax, sigmoid
from nncourse.checks import CheckFailed, ch05


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def dense_ok(x, W, G):
    return G @ W.T, x.T @ G, G.sum(axis=0)


def sce_ok(z, labels):
    n = len(labels)
    log_p = log_softmax(z, axis=1)
    return -np.mean(log_p[np.arange(n), labels]), (np.exp(log_p) - np.eye(z.shape[1])[labels]) / n


def relu_ok(z, G):
    return G * (z > 0)


def train_ok(X, y, hidden=16, lr=0.5, epochs=500, seed=0, dense=dense_ok, relu=relu_ok, sce=sce_ok):
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(0, 1, (2, hidden)), np.zeros(hidden)
    W2, b2 = rng.normal(0, hidden ** -0.5, (hidden, 2)), np.zeros(2)
    for _ in range(epochs):
        Z1 = X @ W1 + b1
        A1 = np.maximum(Z1, 0)
        _, dZ2 = sce(A1 @ W2 + b2, y)
        dA1, dW2, db2 = dense(A1, W2, dZ2)
        _, dW1, db1 = dense(X, W1, relu(Z1, dA1))
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def test_correct_answers_pass_with_the_relative_error(capsys):
    assert ch05.dense_backward(dense_ok).passed
    assert ch05.sigmoid_backward(lambda z, G: G * sigmoid(z) * (1 - sigmoid(z))).passed
    assert ch05.relu_backward(relu_ok).passed
    assert ch05.softmax_cross_entropy(sce_ok).passed
    result = ch05.train_circles(train_ok)
    assert result.passed and "test accuracy" in result.message
    out = capsys.readouterr().out
    assert "✅ dense_backward" in out and "max relative error" in out


def test_not_done_is_reported_for_every_question():
    def stub(*args):
        raise NotImplementedError("replace this line with your code")
    for name in ("dense_backward", "sigmoid_backward", "relu_backward", "softmax_cross_entropy", "train_circles"):
        assert getattr(ch05, name)(stub).status == "not done"


@pytest.mark.parametrize("wrong, expected", [
    (lambda x, W, G: (G @ W.T, G.T @ x, G.sum(0)), "dW has shape (2, 3), the shape of W.T"),
    (lambda x, W, G: (G @ W.T, x.T @ G, G), "db has shape (4, 2), one row per example"),
    (lambda x, W, G: (G @ W.T, x.T @ G, G.mean(0)), "db is 4 times too small: it is the mean of grad_out"),
    (lambda x, W, G: (G @ W, x.T @ G, G.sum(0)), "ValueError"),                     # crashes on shapes
    (lambda x, W, G: (G @ W.T, x.T @ G), "should return 3 values (dx, dW, db), got tuple of length 2"),
    (lambda x, W, G: (G @ W.T, x.T @ G, None), "db is None: did you forget to `return` it?"),
])
def test_dense_mistakes_are_named(wrong, expected):
    result = ch05.dense_backward(wrong)
    assert not result.passed and expected in result.message, result.message


def test_a_wrong_gradient_is_reported_against_the_numerical_one():
    result = ch05.dense_backward(lambda x, W, G: (G @ W.T, x.T @ G * 1.01, G.sum(0)))
    assert re.search(r"case 1 .*, dW at index \(\d, \d\) is -?[\d.]+, but the numerical gradient is -?[\d.]+ "
                     r"\(max relative error 0.005; a correct backward pass stays below 1e-06\)", result.message), result.message


@pytest.mark.parametrize("wrong, expected", [
    (lambda z, G: sigmoid(z) * (1 - sigmoid(z)), "is sigmoid'(z) alone: multiply it by grad_out"),
    (lambda z, G: G * z * (1 - z), "uses z (1 - z); the slope is s (1 - s)"),
    (lambda z, G: G * sigmoid(z), "but the numerical gradient is"),
])
def test_sigmoid_mistakes_are_named(wrong, expected):
    result = ch05.sigmoid_backward(wrong)
    assert result.status == "failed" and expected in result.message, result.message


@pytest.mark.parametrize("wrong, expected", [
    (lambda z, G: (z > 0).astype(float), "is the slope (z > 0) alone"),
    (lambda z, G: np.maximum(G, 0), "keeps the positive entries of grad_out; the gate is the sign of the input z"),
    (lambda z, G: G * np.maximum(z, 0), "multiplies grad_out by relu(z)"),
    (lambda z, G: G, "dz at index (0, 0) is 1, but the numerical gradient is 0"),
])
def test_relu_mistakes_are_named(wrong, expected):
    result = ch05.relu_backward(wrong)
    assert result.status == "failed" and expected in result.message, result.message


def naive_sce(z, labels):
    n = len(labels)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(n), labels])), (p - np.eye(z.shape[1])[labels]) / n


@pytest.mark.parametrize("wrong, expected", [
    (lambda z, l: (sce_ok(z, l)[0], sce_ok(z, l)[1] * len(l)), "dlogits is P - Y, 2 times too large"),
    (lambda z, l: (sce_ok(z, l)[0] * len(l), sce_ok(z, l)[1]), "that is the sum over the 2 examples; take the mean"),
    (lambda z, l: (sce_ok(z, l)[0], np.exp(log_softmax(z, axis=1)) / len(l)), "is the softmax itself; subtract the one-hot"),
    (lambda z, l: (np.full(len(l), sce_ok(z, l)[0]), sce_ok(z, l)[1]), "the loss should be one number"),
    (naive_sce, "for logits of 1000 your function returns NaN or inf: exp(1000) overflows"),
])
def test_softmax_cross_entropy_mistakes_are_named(wrong, expected):
    result = ch05.softmax_cross_entropy(wrong)
    assert result.status == "failed" and expected in result.message, result.message


def test_training_that_does_not_learn_reports_the_accuracy():
    def lazy(X, y, **kwargs):
        return train_ok(X, y, epochs=1, lr=0.01)
    result = ch05.train_circles(lazy)
    assert result.status == "failed" and "correctly (training data:" in result.message
    assert "expected at least 95%" in result.message


def test_training_result_of_the_wrong_form():
    assert "should return a dict of parameters, got tuple" in ch05.train_circles(lambda X, y: (1, 2)).message
    assert "lacks b2" in ch05.train_circles(lambda X, y: {"W1": np.zeros((2, 3)), "b1": np.zeros(3),
                                                         "W2": np.zeros((3, 2))}).message
    bad = lambda X, y: {"W1": np.zeros((2, 3)), "b1": np.zeros(3), "W2": np.zeros((4, 2)), "b2": np.zeros(2)}
    assert "W2 should have shape (3, 2), got (4, 2)" in ch05.train_circles(bad).message


def test_strict_mode_raises_for_graders(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECKS_STRICT", "1")
    with pytest.raises(CheckFailed, match="db is 4 times too small"):
        ch05.dense_backward(lambda x, W, G: (G @ W.T, x.T @ G, G.mean(0)))
    assert ch05.dense_backward(dense_ok).passed
