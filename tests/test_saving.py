"""Saving and loading: exact, safe against overwriting, clear about bad files."""
import numpy as np
import pytest

from nnlib import Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Tanh, saving
from nnlib.layers import BatchNorm, Dropout


def model(dtype=np.float64):
    return Sequential([Dense(3, 5, rng=0, dtype=dtype), BatchNorm(5, dtype=dtype), LeakyReLU(0.2), Dropout(0.3, rng=0),
                       Dense(5, 4, bias=False, rng=1, dtype=dtype), Tanh(), Dense(4, 2, rng=2, dtype=dtype), Sigmoid()])


def test_roundtrip_restores_every_array_and_setting(tmp_path, rng):
    m = model()
    X = rng.standard_normal((16, 3))
    m.forward(X, training=True)                      # move BatchNorm's running statistics
    m.layers[1].running_mean[...] = rng.standard_normal(5)
    loaded = saving.load(saving.save(m, tmp_path / "m.npz"))
    assert [repr(layer) for layer in loaded.layers] == [repr(layer) for layer in m.layers]
    for a, b in zip(m.parameters(), loaded.parameters()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert np.array_equal(loaded.layers[1].running_mean, m.layers[1].running_mean)
    assert loaded.layers[2].alpha == 0.2 and loaded.layers[3].rate == 0.3 and not loaded.layers[4].use_bias
    assert np.array_equal(loaded.predict(X), m.predict(X))


def test_float32_models_stay_float32(tmp_path, rng):
    loaded = saving.load(saving.save(model(np.float32), tmp_path / "m.npz"))
    assert all(p.dtype == np.float32 for p in loaded.parameters())


def test_existing_file_is_never_overwritten_silently(tmp_path):
    path = tmp_path / "m.npz"
    saving.save(model(), path)
    before = path.read_bytes()
    other = Sequential([Dense(3, 1, rng=9)])
    with pytest.raises(FileExistsError, match="already exists; pass overwrite=True"):
        saving.save(other, path)
    assert path.read_bytes() == before
    saving.save(other, path, overwrite=True)
    assert saving.load(path).count_params() == 4


def test_a_failed_save_leaves_nothing_behind(tmp_path):
    class Custom(ReLU):
        pass
    with pytest.raises(TypeError, match="of a type nnlib cannot save"):
        saving.save(Sequential([Dense(2, 2), Custom()]), tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content, match", [
    (b"hello", "is not an nnlib model file"),
    (None, "not an nnlib model \\(no '__nnlib__' header\\)"),
])
def test_bad_files_are_explained(tmp_path, content, match):
    path = tmp_path / "bad.npz"
    if content is None:
        np.savez(path, x=np.zeros(3))
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        saving.load(path)


def test_missing_file_and_wrong_object(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        saving.load(tmp_path / "nope.npz")
    with pytest.raises(TypeError, match="expected a Sequential"):
        saving.save(Dense(2, 2), tmp_path / "x.npz")
