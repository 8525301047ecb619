"""Claims of chapter 11 (complete project), measured with nnlib."""
import subprocess
import sys

import numpy as np

from nnlib import Adam, CrossEntropy, Dense, ReLU, Sequential, data, saving, validation
from nnlib.layers import BatchNorm, Dropout


def test_C23_saved_model_predicts_identically_in_a_fresh_process(tmp_path):
    X, y = data.spirals(300, k=3, seed=2)
    model = Sequential([Dense(2, 24, rng=0), BatchNorm(24), ReLU(), Dropout(0.2, rng=1), Dense(24, 3, rng=2)])
    model.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.01), epochs=20, verbose=False)
    path = saving.save(model, tmp_path / "model.npz")
    np.save(tmp_path / "X.npy", X)
    script = (f"import numpy as np; from nnlib import saving; m = saving.load({str(path)!r}); "
              f"np.save({str(tmp_path / 'pred.npy')!r}, m.predict(np.load({str(tmp_path / 'X.npy')!r})))")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    fresh = np.load(tmp_path / "pred.npy")
    assert fresh.tobytes() == model.predict(X).tobytes()          # bitwise
    assert model.evaluate(X, y)["accuracy"] > 0.5                  # a trained model, not a trivial one


def test_C24_k_folds_partition_the_data_exactly_once():
    for n, k in [(100, 5), (101, 7), (10, 10)]:
        folds = data.k_fold(n, k, seed=3)
        assert len(folds) == k
        vals = np.concatenate([va for _, va in folds])
        assert np.array_equal(np.sort(vals), np.arange(n))
        sizes = [len(va) for _, va in folds]
        assert max(sizes) - min(sizes) <= 1
        for tr, va in folds:
            assert np.intersect1d(tr, va).size == 0 and len(tr) + len(va) == n


def test_C24_cross_validation_reports_mean_and_spread_that_track_generalisation():
    X, y = data.spirals(400, k=3, noise=0.03, seed=5)
    common = dict(k=5, seed=0, loss=CrossEntropy(), optimizer=lambda: Adam(0.01), epochs=40, batch_size=32)
    small = validation.cross_validate(lambda: Sequential([Dense(2, 3, rng=0), ReLU(), Dense(3, 3, rng=1)]), X, y, **common)
    big = validation.cross_validate(
        lambda: Sequential([Dense(2, 48, rng=0), ReLU(), Dense(48, 48, rng=1), ReLU(), Dense(48, 3, rng=2)]), X, y, **common)
    for r in (small, big):
        assert len(r["scores"]) == 5
        assert np.isclose(r["mean"], np.mean(r["scores"])) and np.isclose(r["std"], np.std(r["scores"], ddof=1))
        assert r["std"] > 0
    assert big["mean"] > small["mean"] + 2 * max(big["std"], small["std"])
    # the estimate agrees with a held-out test set
    Xt, yt = data.spirals(400, k=3, noise=0.03, seed=6)
    model = Sequential([Dense(2, 48, rng=0), ReLU(), Dense(48, 48, rng=1), ReLU(), Dense(48, 3, rng=2)])
    model.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.01), epochs=40, batch_size=32, verbose=False)
    assert abs(model.evaluate(Xt, yt)["accuracy"] - big["mean"]) < 3 * big["std"] + 0.03


def _top_features(X, y, m=20):
    Xc, yc = (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()
    return np.argsort(-np.abs(Xc.T @ yc))[:m]


def test_C29_feature_selection_outside_the_folds_makes_noise_look_predictable():
    def select(X, y):
        keep = _top_features(X, y)
        return lambda Z: Z[:, keep]
    common = dict(k=5, stratify=True, loss=CrossEntropy(), optimizer=lambda: Adam(0.05), epochs=50, batch_size=None)
    leaky, honest = [], []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        X, y = rng.standard_normal((100, 2000)), rng.integers(0, 2, 100)     # labels are coin flips
        build = lambda: Sequential([Dense(20, 2, rng=0)])
        leaky.append(validation.cross_validate(build, X[:, _top_features(X, y)], y, seed=seed, **common)["mean"])
        honest.append(validation.cross_validate(build, X, y, seed=seed, preprocess=select, **common)["mean"])
    assert np.mean(leaky) >= 0.7, leaky
    assert abs(np.mean(honest) - 0.5) <= 0.1, honest
    assert min(leaky) > max(honest)
