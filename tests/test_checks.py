"""The self-checks: right answers pass, wrong ones are explained with numbers, nothing crashes."""
import numpy as np
import pytest

from nncourse.checks import CheckFailed, ch01


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def test_correct_answers_pass(capsys):
    assert ch01.predict(lambda X, w, b: X @ w + b).passed
    assert ch01.predicted_refit(lambda: (2 / 1.8, 3 - 64 / 1.8)).passed
    assert "✅ predict" in capsys.readouterr().out


def test_not_done_is_reported_not_raised(capsys):
    def predict(X, w, b):
        raise NotImplementedError("replace this line with your code")
    result = ch01.predict(predict)
    assert result.status == "not done" and "not done yet" in capsys.readouterr().out


def test_wrong_values_are_explained_with_numbers(capsys):
    result = ch01.predict(lambda X, w, b: X @ w)          # forgot the bias
    assert result.status == "failed"
    assert "for case 1" in result.message and "is 4.5, expected 4.75" in result.message


def test_a_gradient_off_by_a_factor_names_the_entry_and_the_numerical_gradient():
    def grads(X, y, w, b, lam):
        e = X @ w + b - y
        return X.T @ e / len(y) + 2 * lam * w, 2 * e.mean()        # forgot the 2 in dw
    result = ch01.ridge_gradients(grads)
    assert result.status == "failed" and "dw" in result.message and "numerical" in result.message


def test_wrong_shape_and_missing_return():
    assert "has shape (1, 1), a column" in ch01.predict(lambda X, w, b: (X @ w + b)[:, None]).message
    assert "did you forget to `return`" in ch01.predict(lambda X, w, b: None).message


def test_a_crash_in_student_code_is_reported_with_its_line():
    def predict(X, w, b):
        return X @ w.T @ np.ones(7) + b
    result = ch01.predict(predict)
    assert result.status == "error" and "ValueError" in result.message and "in predict, line" in result.message


def test_training_check_accepts_any_keyword_order_and_reports_r2():
    def fit(X, y, lr=0.1, steps=500, lam=0.0):
        w, b = np.zeros(X.shape[1]), 0.0
        for _ in range(steps):
            e = X @ w + b - y
            w, b = w - lr * (2 * X.T @ e / len(y) + 2 * lam * w), b - lr * 2 * e.mean()
        return w, b
    result = ch01.fit_linear(fit)
    assert result.passed and "R^2 = " in result.message


def test_strict_mode_raises_for_graders(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECKS_STRICT", "1")
    with pytest.raises(CheckFailed, match="is 4.5, expected 4.75"):
        ch01.predict(lambda X, w, b: X @ w)
    assert ch01.predict(lambda X, w, b: X @ w + b).passed


def test_missing_return_is_named():
    assert "did you forget to `return`" in ch01.ridge_gradients(lambda X, y, w, b, lam: None).message


def test_training_check_names_a_loop_that_never_updates():
    result = ch01.fit_linear(lambda X, y, lr, steps, lam: (np.zeros(2), 0.0))
    assert result.status == "failed" and "never changes them" in result.message
