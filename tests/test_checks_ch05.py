"""Exercise 05's self-checks: right answers pass, wrong backward passes are reported against the
numerical gradient, and nothing crashes. (Each typical mistake has its own case in
test_wrong_answers_ch01_05.py.)"""
import numpy as np
import pytest

from nnlib.autograd import Value
from nncourse.checks import CheckFailed, ch05


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def softmax_backward(z, G):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    return s * (G - np.sum(G * s, axis=1, keepdims=True))


def scaled_tanh_backward(x, W, b, gamma, G):
    a = np.tanh(x @ W + b)
    dz = G * gamma * (1 - a ** 2)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0), np.sum(G * a, axis=0)


def engine_gradients():
    """Question 1's gradients from the autograd engine, not from the check's own formula."""
    m = ch05.MANUAL
    W1 = [[Value(v) for v in row] for row in m["W1"]]
    b1, w2, b2 = [Value(v) for v in m["b1"]], [Value(v) for v in m["w2"]], Value(m["b2"])
    z = [sum((W1[i][j] * m["x"][i] for i in range(2)), b1[j]) for j in range(2)]
    loss = (sum((zj.relu() * w for zj, w in zip(z, w2)), b2) - m["y"]) ** 2
    loss.backward()
    return {"W1": np.array([[v.grad for v in row] for row in W1]), "b1": np.array([v.grad for v in b1]),
            "w2": np.array([v.grad for v in w2]), "b2": b2.grad}


def scaled_sigmoid_backward(x, W, b, gamma, G):
    z = x @ W + b
    s = 1 / (1 + np.exp(-gamma * z))
    du = G * s * (1 - s)
    return (du * gamma) @ W.T, x.T @ (du * gamma), (du * gamma).sum(axis=0), np.sum(du * z, axis=0)


def test_correct_answers_pass_with_the_relative_error(capsys):
    assert ch05.manual_gradients(engine_gradients).passed
    assert ch05.softmax_backward(softmax_backward).passed
    assert ch05.which_gradient_is_wrong(lambda: "dx").passed
    assert ch05.scaled_sigmoid_backward(scaled_sigmoid_backward).passed
    out = capsys.readouterr().out
    assert out.count("✅") == 4 and "max relative error" in out


def test_the_planted_bug_is_the_only_wrong_gradient():
    errors = ch05.buggy_errors()
    assert errors["dx"] > 0.1 and all(errors[k] < 1e-8 for k in ("dW", "db", "dgamma")), errors
    x, W, b, gamma, G = ch05._tanh_case()
    assert W.shape[0] == W.shape[1], "square: the bug does not show as a shape error"
    right = scaled_tanh_backward(x, W, b, gamma, G)
    buggy = ch05.scaled_tanh_backward_buggy(x, W, b, gamma, G)
    assert [np.allclose(r, g) for r, g in zip(right, buggy)] == [False, True, True, True]


def test_not_done_is_reported_for_every_question():
    def stub(*args):
        raise NotImplementedError
    for name in ch05.POINTS:
        assert getattr(ch05, name)(stub).status == "not done", name


def test_a_wrong_gradient_is_reported_against_the_numerical_one():
    def off(z, G):
        return 1.01 * softmax_backward(z, G)
    result = ch05.softmax_backward(off)
    assert result.status == "failed" and "numerical gradient" in result.message and "relative error" in result.message


def test_a_crash_is_reported_not_raised():
    result = ch05.scaled_sigmoid_backward(lambda x, W, b, gamma, G: x @ W @ W @ np.ones((7, 7)))
    assert result.status == "error" and "ValueError" in result.message


def test_strict_mode_raises_for_graders(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECKS_STRICT", "1")
    def db_as_mean(x, W, b, gamma, G):
        dx, dW, db, dgamma = scaled_sigmoid_backward(x, W, b, gamma, G)
        return dx, dW, db / len(x), dgamma
    with pytest.raises(CheckFailed, match="5 times too small"):
        ch05.scaled_sigmoid_backward(db_as_mean)
    assert ch05.scaled_sigmoid_backward(scaled_sigmoid_backward).passed
