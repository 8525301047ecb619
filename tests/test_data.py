"""Synthetic data sets: seeded, shaped as documented, with a working noise knob."""
import numpy as np
import pytest

from nnlib import data

CLASSIFICATION = ["xor", "circles", "blobs", "moons", "spirals"]


@pytest.mark.parametrize("name", CLASSIFICATION + ["linear", "plane"])
def test_same_seed_same_data_other_seed_other_data(name):
    make = data.DATASETS[name]
    X1, y1 = make(100, seed=7)
    X2, y2 = make(100, seed=7)
    X3, _ = make(100, seed=8)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_are_balanced_integer_labels(name):
    X, y = data.DATASETS[name](300, seed=0)
    assert X.shape == (300, 2) and X.dtype == np.float64
    assert y.shape == (300,) and y.dtype.kind == "i"
    counts = np.bincount(y)
    assert counts.min() >= counts.max() - 1 or counts.min() / counts.max() > 0.8


@pytest.mark.parametrize("name", ["xor", "circles", "moons", "spirals"])
def test_noise_knob_moves_points(name):
    X0, y0 = data.DATASETS[name](200, noise=0.0, seed=1)
    X1, y1 = data.DATASETS[name](200, noise=0.3, seed=1)
    assert np.array_equal(y0, y1)
    spread = np.abs(X1 - X0).mean()
    assert 0.1 < spread < 0.5


def test_generators_use_no_global_random_state():
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    data.spirals(50, seed=3)
    assert np.random.random() == before


def test_xor_labels_follow_the_quadrants():
    X, y = data.xor(500, seed=0)
    assert np.array_equal(y, (np.sign(X[:, 0]) == np.sign(X[:, 1])).astype(int))


def test_circles_have_two_radii():
    X, y = data.circles(200, factor=0.4, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 1], 0.4) and np.allclose(r[y == 0], 1.0)


def test_spirals_k_classes():
    _, y = data.spirals(300, k=5, seed=0)
    assert set(np.unique(y)) == {0, 1, 2, 3, 4}


def test_linear_data_follow_the_given_line():
    X, y = data.linear(500, n_features=2, weights=[2.0, -1.0], bias=3.0, noise=0.0, seed=0)
    assert np.allclose(y, X @ [2.0, -1.0] + 3.0)


def test_train_test_split_partitions():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(yte) == 5 and len(ytr) == 15
    assert sorted(np.concatenate([ytr, yte])) == list(range(20))
    assert np.array_equal(Xtr[:, 0] / 2, ytr)         # rows stay with their labels


def test_stratified_split_keeps_class_shares():
    y = np.array([0] * 80 + [1] * 20)
    X = np.zeros((100, 2))
    _, _, ytr, yte = data.train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    assert yte.sum() == 5 and ytr.sum() == 15


def test_one_hot_and_standardize():
    assert np.array_equal(data.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    rng = np.random.default_rng(0)
    Xtr, Xte = rng.normal(5, 3, (100, 2)), rng.normal(5, 3, (20, 2))
    Ztr, Zte = data.standardize(Xtr, Xte)
    assert np.allclose(Ztr.mean(0), 0) and np.allclose(Ztr.std(0), 1)
    s = data.Standardizer().fit(Xtr)
    assert np.allclose(s.transform(Xte), Zte) and np.allclose(s.inverse_transform(Zte), Xte)
    const = np.ones((5, 1))
    assert np.array_equal(data.standardize(const), np.zeros((5, 1)))
