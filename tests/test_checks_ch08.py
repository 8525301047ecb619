"""Exercise 08's checks explain typical mistakes."""
import numpy as np
import pytest

from nnlib.checks import ch08


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def test_momentum_with_dampening_is_caught():
    r = ch08.momentum_step(lambda w, g, v, lr, beta: (w - lr * (beta * v + (1 - beta) * g), beta * v + (1 - beta) * g))
    assert r.status == "failed" and "after step 1, your velocity v" in r.message


def test_adam_without_bias_correction_gets_a_hint():
    def adam(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        return w - lr * m / (np.sqrt(v) + eps), m, v
    r = ch08.adam_step(adam)
    assert r.status == "failed" and "at step t=1" in r.message and "(1 - beta^t)" in r.message


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
    assert r.status == "failed" and "expected 4" in r.message
