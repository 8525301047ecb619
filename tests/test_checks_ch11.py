"""Exercise 11's checks explain typical mistakes."""
import numpy as np
import pytest

from nncourse.checks import ch11


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


def _cross_val(how):
    from nnlib import Sequential, Dense, ReLU, CrossEntropy, Adam

    def scores(X, y, k):
        parts = np.array_split(np.random.default_rng(0).permutation(len(X)), k)
        out, model = [], None
        for i in range(k):
            tr, va = np.concatenate(parts[:i] + parts[i + 1:]), parts[i]
            if model is None or how != "reuse":
                model = Sequential([Dense(2, 32, rng=0), ReLU(), Dense(32, 2, rng=1)])
            fit_on = np.arange(len(X)) if how == "all" else tr
            model.fit(X[fit_on], y[fit_on], loss=CrossEntropy(), optimizer=Adam(0.02), epochs=40, batch_size=32, verbose=False)
            on = tr if how == "train" else va
            out.append(model.evaluate(X[on], y[on])["accuracy"])
        return out
    return scores


@pytest.mark.parametrize("how, words", [("train", "on its training part"), ("all", "on all of X"),
                                        ("reuse", "keep training one model")])
def test_typical_cross_validation_mistakes_are_named(how, words):
    r = ch11.cross_val_scores(_cross_val(how))
    assert r.status == "failed" and words in r.message, r.message


def test_honest_cross_validation_passes():
    assert ch11.cross_val_scores(_cross_val("honest")).passed
