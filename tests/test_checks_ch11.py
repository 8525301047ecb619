"""Exercise 11's checks explain typical mistakes."""
import numpy as np
import pytest

from nnlib.checks import ch11


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def test_unshuffled_folds_are_caught():
    def folds(n, k, rng):
        parts = np.array_split(np.arange(n), k)
        return [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(k)]
    r = ch11.k_fold_indices(folds)
    assert r.status == "failed" and "shuffle first" in r.message


def test_validation_leaking_into_training_is_caught():
    def folds(n, k, rng):
        parts = np.array_split(rng.permutation(n), k)
        return [(np.arange(n), parts[i]) for i in range(k)]
    r = ch11.k_fold_indices(folds)
    assert r.status == "failed" and "in both train and validation" in r.message


def test_test_set_scaled_with_its_own_statistics_is_caught():
    def standardize(tr, te):
        return (tr - tr.mean(0)) / tr.std(0), (te - te.mean(0)) / te.std(0)
    r = ch11.standardize_train_test(standardize)
    assert r.status == "failed" and "with its own mean and std" in r.message


def test_cross_validation_on_the_training_data_is_caught():
    r = ch11.cross_val_scores(lambda X, y, k: [1.0] * k)
    assert r.status == "failed" and "all 4 folds scored exactly 1.0000" in r.message
