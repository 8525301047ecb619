"""k-fold splitting and cross_validate: bad input is named."""
import numpy as np
import pytest

from nnlib import Adam, CrossEntropy, Dense, Sequential, data, validation


def test_k_fold_is_seeded():
    a = data.k_fold(30, 3, seed=1)
    b = data.k_fold(30, 3, seed=1)
    c = data.k_fold(30, 3, seed=2)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, c))


@pytest.mark.parametrize("call, match", [
    (lambda: data.k_fold(3, 5), "k=5 folds need at least 5 examples, got n=3"),
    (lambda: data.k_fold(10, 1), "k must be an integer >= 2"),
    (lambda: validation.cross_validate(lambda: None, np.zeros((4, 2)), np.zeros(3), optimizer=lambda: Adam()),
     "X has 4 examples but y has 3"),
    (lambda: validation.cross_validate(lambda: None, np.zeros((4, 2)), np.zeros(4), optimizer=Adam()),
     "optimizer=a function returning a new optimizer"),
])
def test_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_cross_validate_uses_a_new_model_per_fold():
    built = []

    def build():
        built.append(Sequential([Dense(2, 2, rng=0)]))
        return built[-1]
    X, y = data.blobs(60, k=2, seed=0)
    r = validation.cross_validate(build, X, y, k=3, loss=CrossEntropy(), optimizer=lambda: Adam(0.1), epochs=5)
    assert len(built) == 3 and len({id(m) for m in built}) == 3 and len(r["scores"]) == 3


def test_stratified_folds_keep_each_class_share_and_partition():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    folds = data.k_fold(100, 5, seed=0, labels=y)
    val = np.concatenate([va for _, va in folds])
    assert np.array_equal(np.sort(val), np.arange(100))
    for tr, va in folds:
        assert np.array_equal(np.bincount(y[va], minlength=3), [10, 6, 4])
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 100
    uneven = data.k_fold(23, 4, seed=1, labels=np.arange(23) % 3)
    for c in range(3):
        counts = [np.sum(np.arange(23)[va] % 3 == c) for _, va in uneven]
        assert max(counts) - min(counts) <= 1
    with pytest.raises(ValueError, match=r"labels must have shape \(10,\)"):
        data.k_fold(10, 2, labels=np.zeros(9))


def test_cross_validate_fits_preprocess_on_each_training_part_only():
    X = np.random.default_rng(0).standard_normal((60, 3)) + 5.0
    y = np.arange(60) % 2
    seen = []

    def preprocess(X_tr, y_tr):
        seen.append(len(X_tr))
        scaler = data.Standardizer().fit(X_tr)
        return scaler.transform

    r = validation.cross_validate(lambda: Sequential([Dense(3, 2, rng=0)]), X, y, k=3, preprocess=preprocess,
                                  stratify=True, loss=CrossEntropy(), optimizer=lambda: Adam(0.1), epochs=2)
    assert seen == [40, 40, 40]
    for _, va in r["folds"]:
        assert np.bincount(y[va]).tolist() == [10, 10]
    with pytest.raises(TypeError, match="preprocess must be a function"):
        validation.cross_validate(lambda: None, X, y, preprocess="scale", optimizer=lambda: Adam())
    with pytest.raises(ValueError, match="stratify=True needs class labels"):
        validation.cross_validate(lambda: None, X, y * 0.5, stratify=True, optimizer=lambda: Adam())
