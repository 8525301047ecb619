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
