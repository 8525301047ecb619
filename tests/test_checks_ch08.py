"""Exercise 08's checks explain typical mistakes."""
import numpy as np
import pytest

from nncourse.checks import ch08


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def test_momentum_with_dampening_is_caught():
    r = ch08.momentum_step(lambda w, g, v, lr, beta: (w - lr * (beta * v + (1 - beta) * g), beta * v + (1 - beta) * g))
    assert r.status == "failed" and "after step 1" in r.message and "(1 - beta) g" in r.message


def test_learning_rate_inside_the_velocity_is_explained():
    r = ch08.momentum_step(lambda w, g, v, lr, beta: (w - (beta * v + lr * g), beta * v + lr * g))
    assert r.status == "failed" and "beta v + lr g" in r.message


def test_stepping_with_the_old_velocity_is_explained():
    r = ch08.momentum_step(lambda w, g, v, lr, beta: (w - lr * v, beta * v + g))
    assert r.status == "failed" and "after step 1" in r.message and "old velocity" in r.message


def test_plain_gradient_step_is_explained():
    r = ch08.momentum_step(lambda w, g, v, lr, beta: (w - lr * g, beta * v + g))
    assert r.status == "failed" and "plain gradient step" in r.message


def test_correct_momentum_passes():
    def momentum(w, g, v, lr, beta):
        v = beta * v + g
        return w - lr * v, v
    assert ch08.momentum_step(momentum).passed


def test_adam_without_bias_correction_gets_a_hint():
    def adam(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        return w - lr * m / (np.sqrt(v) + eps), m, v
    r = ch08.adam_step(adam)
    assert r.status == "failed" and "at step t=1" in r.message and "1 - beta^t" in r.message


def test_adam_reference_with_bias_correction_is_nnlibs():
    from nnlib.optim import Adam
    rng = np.random.default_rng(0)
    w, m, v = rng.normal(size=3), np.zeros(3), np.zeros(3)
    ref, p = Adam(lr=0.01), w.copy()
    for t in range(1, 6):
        g = rng.normal(size=3)
        w, m, v = ch08._adam_ref(w, g, m, v, t, 0.01)
        ref.step([p], [g])
        assert np.allclose(w, p, rtol=1e-10, atol=1e-12)


def test_predicted_first_steps_right_answer_passes():
    assert ch08.predicted_first_steps(lambda: (0.01, 0.01 * 0.1 / np.sqrt(0.001))).passed


def _adam_variant(return_hats=False, square=True):
    def adam(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * (g ** 2 if square else g)
        m_hat, v_hat = (m / (1 - beta1 ** t), v / (1 - beta2 ** t)) if bias_correction else (m, v)
        w = w - lr * m_hat / (np.sqrt(np.abs(v_hat)) + eps)
        return (w, m_hat, v_hat) if return_hats else (w, m, v)
    return adam


def test_correct_adam_passes():
    assert ch08.adam_step(_adam_variant()).passed


def test_returning_the_bias_corrected_moments_is_explained():
    r = ch08.adam_step(_adam_variant(return_hats=True))
    assert r.status == "failed" and "m_hat" in r.message


def test_averaging_g_instead_of_its_square_is_explained():
    r = ch08.adam_step(_adam_variant(square=False))
    assert r.status == "failed" and "not its square" in r.message


def test_equal_weight_average_is_explained():
    r = ch08.accumulate(lambda grads, sizes: sum(grads) / len(grads))
    assert r.status == "failed" and "in proportion to their size" in r.message


def test_unshuffled_batches_are_caught():
    r = ch08.minibatches(lambda n, size, rng: [np.arange(n)[i:i + size] for i in range(0, n, size)])
    assert r.status == "failed" and "shuffle" in r.message


def test_dropping_the_last_partial_batch_is_caught():
    def batches(n, size, rng):
        order = rng.permutation(n)
        return [order[i:i + size] for i in range(0, n - size + 1, size)]
    r = ch08.minibatches(batches)
    assert r.status == "failed" and "dropped the last, smaller batch" in r.message


def test_verify_first_steps_measures_only_once_there_is_a_prediction(capsys):
    def not_yet():
        raise NotImplementedError
    assert ch08.verify_first_steps(not_yet) is None
    out = capsys.readouterr().out
    assert "⏳ make your prediction" in out and "first step of Adam" not in out     # nothing measured to copy from
    with_c, without = ch08.verify_first_steps(lambda: (0.01, 0.01 * 0.1 / np.sqrt(0.001)))
    out = capsys.readouterr().out
    assert "with correction: you predicted 0.01: ✅ held" in out and "without correction" in out and "did not" not in out, out
    assert "could not be read as two numbers" in (ch08.verify_first_steps(lambda: (1.0,)), capsys.readouterr().out)[1]
