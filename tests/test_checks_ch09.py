"""Exercise 09's checks explain typical mistakes."""
import numpy as np
import pytest

from nncourse.checks import ch09


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def test_columns_instead_of_rows():
    r = ch09.softmax(lambda z: np.exp(z) / np.exp(z).sum(axis=0, keepdims=True))
    assert r.status == "failed" and "columns sum to 1, not your rows" in r.message


def test_unstable_softmax_gets_the_max_hint():
    r = ch09.softmax(lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    assert r.status == "failed" and "subtract each row's maximum" in r.message


def test_summed_loss_and_gradient_are_explained():
    def ce(z, y):
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        g = p.copy()
        g[np.arange(len(y)), y] -= 1
        return -np.sum(np.log(p[np.arange(len(y)), y])), g
    r = ch09.cross_entropy(ce)
    assert r.status == "failed" and "the sum over the batch" in r.message


def test_argmax_for_multilabel_is_explained():
    r = ch09.multilabel_predict(lambda z: np.eye(z.shape[1], dtype=int)[z.argmax(1)])
    assert r.status == "failed" and "its own yes/no question" in r.message


def test_wrong_f1_is_compared():
    r = ch09.f1_per_label(lambda pred, true: np.mean(pred == true, axis=0))
    assert r.status == "failed" and "your per-label F1" in r.message


def _ce_with(grad_fn):
    def ce(z, y):
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        onehot = np.eye(z.shape[1])[y]
        return -np.mean(np.log(p[np.arange(len(y)), y])), grad_fn(p, onehot) / len(y)
    return ce


def test_gradient_with_the_wrong_sign_is_explained():
    r = ch09.cross_entropy(_ce_with(lambda p, onehot: onehot - p))
    assert r.status == "failed" and "wrong sign" in r.message


def test_gradient_without_subtracting_the_label_is_explained():
    r = ch09.cross_entropy(_ce_with(lambda p, onehot: p))
    assert r.status == "failed" and "subtract 1 at each example's true class" in r.message


def test_probabilities_instead_of_decisions_are_explained():
    r = ch09.multilabel_predict(lambda z: 1 / (1 + np.exp(-z)))
    assert r.status == "failed" and "not probabilities" in r.message


def test_greater_or_equal_at_zero_logit_is_explained():
    r = ch09.multilabel_predict(lambda z: (z >= 0).astype(int))
    assert r.status == "failed" and "not *above* 0.5" in r.message
