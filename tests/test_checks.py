"""The self-checks: right answers pass, wrong ones are explained with numbers, nothing crashes."""
import numpy as np
import pytest

from nncourse.checks import CheckFailed, ch01


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def test_correct_answers_pass(capsys):
    assert ch01.predict(lambda X, w, b: X @ w + b).passed
    assert ch01.mse(lambda p, y: np.mean((p - y) ** 2)).passed
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


def test_sum_instead_of_mean_gets_a_specific_hint():
    result = ch01.mse(lambda p, y: np.sum((p - y) ** 2))
    assert "sum of squared errors" in result.message and "divide by the number of examples (2)" in result.message


def test_wrong_gradient_names_the_entry():
    def grads(X, y, w, b):
        e = X @ w + b - y
        return X.T @ e / len(y), 2 * e.mean()        # forgot the 2 in dw
    result = ch01.mse_gradients(grads)
    assert result.status == "failed" and "dw" in result.message and "numerical" in result.message


def test_wrong_shape_and_missing_return():
    assert "has shape (1, 1), expected (1,)" in ch01.predict(lambda X, w, b: (X @ w + b)[:, None]).message
    assert "did you forget to `return`" in ch01.predict(lambda X, w, b: None).message


def test_a_crash_in_student_code_is_reported_with_its_line():
    def predict(X, w, b):
        return X @ w.T @ np.ones(7) + b
    result = ch01.predict(predict)
    assert result.status == "error" and "ValueError" in result.message and "in predict, line" in result.message


def test_training_check_reports_r2():
    result = ch01.fit_linear(lambda X, y: (np.zeros(2), 0.0))
    assert result.status == "failed" and "R^2 = " in result.message and "expected above 0.99" in result.message


def test_strict_mode_raises_for_graders(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECKS_STRICT", "1")
    with pytest.raises(CheckFailed, match="is 4.5, expected 4.75"):
        ch01.predict(lambda X, w, b: X @ w)
    assert ch01.predict(lambda X, w, b: X @ w + b).passed


def test_missing_return_in_mse_is_named():
    assert "did you forget to `return`" in ch01.mse(lambda p, y: None).message


def test_typical_gradient_mistakes_are_named():
    def grads(X, y, w, b, mistake):
        e, n = X @ w + b - y, len(y)
        dw, db = 2 / n * X.T @ e, 2 / n * e.sum()
        return {"no 2": (dw / 2, db), "sum": (dw * n, db), "sign": (-dw, -db), "sum db": (dw, db * n / 2)}[mistake]
    expected = {"no 2": "factor 2 from the square is missing", "sum": "6 times too large",
                "sign": "sign flipped", "sum db": "not the sum"}
    for mistake, hint in expected.items():
        result = ch01.mse_gradients(lambda X, y, w, b, m=mistake: grads(X, y, w, b, m))
        assert result.status == "failed" and hint in result.message, (mistake, result.message)


def test_training_check_names_uphill_steps_and_a_loop_that_never_updates():
    def fit(X, y, lr=0.1, steps=500):
        w, b = np.zeros(X.shape[1]), 0.0
        for _ in range(steps):
            e = X @ w + b - y
            w, b = w + lr * 2 * X.T @ e / len(y), b + lr * 2 * e.mean()     # uphill
        return w, b
    with np.errstate(all="ignore"):
        result = ch01.fit_linear(fit)
    assert result.status == "failed" and "uphill" in result.message
    result = ch01.fit_linear(lambda X, y: (np.zeros(2), 0.0))
    assert "still 0" in result.message and "R^2 = " in result.message
