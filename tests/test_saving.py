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


# --- damaged and foreign files (issue 13) -------------------------------------------------------
def small_model():
    m = Sequential([Dense(2, 2, rng=0), BatchNorm(2), ReLU(), Dense(2, 1, rng=1)])
    m.forward(np.random.default_rng(0).standard_normal((4, 2)), training=True)
    return m


def same_model(a, b):
    return ([repr(layer) for layer in a.layers] == [repr(layer) for layer in b.layers]
            and all(p.dtype == q.dtype and np.array_equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
            and np.array_equal(a.layers[1].running_mean, b.layers[1].running_mean)
            and np.array_equal(a.layers[1].running_var, b.layers[1].running_var)
            and a.layers[1].momentum == b.layers[1].momentum and a.layers[1].eps == b.layers[1].eps)


def test_every_single_byte_corruption_loads_identically_or_raises_the_clear_error(tmp_path):
    m = small_model()
    good = saving.save(m, tmp_path / "m.npz").read_bytes()
    path = tmp_path / "bad.npz"
    identical = refused = 0
    for i in range(len(good)):
        damaged = bytearray(good)
        damaged[i] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            loaded = saving.load(path)
        except saving.ModelFileError as exc:
            assert str(path) in str(exc), f"byte {i}: {exc}"
            refused += 1
        else:
            assert same_model(m, loaded), f"byte {i}: loaded a different model"
            identical += 1
    assert refused + identical == len(good) and refused > len(good) // 2


@pytest.mark.parametrize("make, match", [
    (lambda good: b"", "it is empty"),
    (lambda good: good[:len(good) // 2], "not an nnlib model file"),
    (lambda good: good[:-30], "not an nnlib model file"),
    (lambda good: b"\x93NUMPY" + good[6:200], "not a numpy .npz archive"),
], ids=["empty", "truncated to half", "truncated end", "an .npy header"])
def test_damaged_files_raise_the_clear_error_naming_the_file(tmp_path, make, match):
    good = saving.save(small_model(), tmp_path / "m.npz").read_bytes()
    path = tmp_path / "bad.npz"
    path.write_bytes(make(good))
    with pytest.raises(saving.ModelFileError, match=match) as info:
        saving.load(path)
    assert str(path) in str(info.value)


def test_an_npy_file_is_refused(tmp_path):
    np.save(tmp_path / "w.npy", np.zeros(3))
    with pytest.raises(saving.ModelFileError, match="w.npy"):
        saving.load(tmp_path / "w.npy")


def _rewrite(path, name, array):
    """Replace one array of a saved model (as a hand-edited or foreign file would)."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays[name] = array
    np.savez(path, **arrays)


@pytest.mark.parametrize("name, array, match", [
    ("layer1.running_var", np.ones(1), r"'layer1.running_var' is float64 of shape \(1,\), expected float64 of shape \(2,\)"),
    ("layer0.W", np.ones((2, 2), complex), "'layer0.W' is complex128"),
    ("layer0.W", np.ones((2, 2), np.int8), "'layer0.W' is int8"),
    ("layer3.b", np.ones(1, np.float32), "'layer3.b' is float32"),
], ids=["BatchNorm running_var of shape (1,)", "complex weights", "int8 weights", "float32 bias in a float64 model"])
def test_every_array_is_checked_for_shape_and_dtype(tmp_path, name, array, match):
    path = saving.save(small_model(), tmp_path / "m.npz")
    _rewrite(path, name, array)
    with pytest.raises(saving.ModelFileError, match=match):
        saving.load(path)


def test_declared_sizes_are_checked_before_decompressing(tmp_path):
    path = saving.save(small_model(), tmp_path / "m.npz")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["layer0.W"] = np.zeros((4096, 1024))                 # 32 MiB of zeros: about 30 kB compressed
    np.savez_compressed(path, **arrays)
    assert path.stat().st_size < 100_000
    with pytest.raises(saving.ModelFileError, match=r"'layer0.W' declares 33,554,\d+ bytes, more than"):
        saving.load(path)


def test_a_folder_gets_its_own_message(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        saving.save(small_model(), tmp_path)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        saving.load(tmp_path)


def test_an_interrupted_save_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        saving.save(small_model(), tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_no_overwrite_is_race_free(tmp_path, monkeypatch):
    """A file that appears between the check and the write is not replaced (exclusive create)."""
    path = tmp_path / "m.npz"
    real_savez = np.savez

    def savez_then_someone_else_saves(*args, **kwargs):
        real_savez(*args, **kwargs)
        path.write_bytes(b"someone else's model")
    monkeypatch.setattr(np, "savez", savez_then_someone_else_saves)
    with pytest.raises(FileExistsError, match="already exists"):
        saving.save(small_model(), path)
    assert path.read_bytes() == b"someone else's model"
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
