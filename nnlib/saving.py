"""Save a trained model to one file and load it back, to predict without retraining.

    nnlib.saving.save(model, "spirals.npz")
    model = nnlib.saving.load("spirals.npz")

The file is a numpy ``.npz`` archive: every parameter array (and running
statistics, for batch norm) stored exactly, plus a JSON description of the
layers. Nothing is pickled, so loading a file runs no code from it. Loaded
weights are bit-for-bit the saved ones, so predictions are identical.

Saving never replaces an existing file unless you say ``overwrite=True``, and it
writes to a temporary file first, so a crash mid-save cannot leave half a model
where a good one was. Loading checks everything before trusting it: a damaged,
truncated or foreign file raises ``ModelFileError`` (a ValueError) naming the file
and what is wrong, never a half-built model.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from .layers import Dense
from .model import Sequential

__all__ = ["save", "load", "ModelFileError", "FORMAT", "VERSION"]

FORMAT = "nnlib-model"
VERSION = 1


def _registry():
    """Layer type name -> (class, config attributes, extra state arrays)."""
    from .conv import Conv2D, Flatten, GlobalAvgPool2D
    from .regularization import BatchNorm, Dropout

    return {
        "Dense": (Dense, {"in_features": "in_features", "out_features": "out_features", "bias": "use_bias"}, ()),
        "Identity": (Identity, {}, ()),
        "Sigmoid": (Sigmoid, {}, ()),
        "Tanh": (Tanh, {}, ()),
        "ReLU": (ReLU, {}, ()),
        "LeakyReLU": (LeakyReLU, {"alpha": "alpha"}, ()),
        "BatchNorm": (BatchNorm, {"num_features": "num_features", "momentum": "momentum", "eps": "eps"},
                      ("running_mean", "running_var")),
        "Dropout": (Dropout, {"rate": "rate"}, ()),
        "Conv2D": (Conv2D, {"in_channels": "in_channels", "out_channels": "out_channels",
                            "kernel_size": "kernel_size", "stride": "stride", "padding": "padding",
                            "bias": "use_bias"}, ()),
        "Flatten": (Flatten, {}, ()),
        "GlobalAvgPool2D": (GlobalAvgPool2D, {}, ()),
    }


def _describe(model):
    registry = _registry()
    layers, arrays = [], {}
    for i, layer in enumerate(model.layers):
        name = type(layer).__name__
        if name not in registry or type(layer) is not registry[name][0]:
            raise TypeError(f"save: layer {i} ({layer!r}) is of a type nnlib cannot save; "
                            f"known types: {sorted(registry)}")
        _, config_attrs, state = registry[name]
        config = {key: getattr(layer, attr) for key, attr in config_attrs.items()}
        dtype = getattr(layer, "dtype", None)
        if dtype is not None:
            config["dtype"] = np.dtype(dtype).name
        for key, arr in layer.params.items():
            arrays[f"layer{i}.{key}"] = arr
        for key in state:
            arrays[f"layer{i}.{key}"] = getattr(layer, key)
        layers.append({"type": name, "config": config, "params": list(layer.params), "state": list(state)})
    return {"format": FORMAT, "version": VERSION, "layers": layers}, arrays


def save(model, path, *, overwrite=False):
    """Write model (a Sequential) to path as an .npz archive; return the Path.

    Raises FileExistsError if path exists and overwrite is False (checked by creating
    the file exclusively, so two saves at once cannot both think they made it), and
    IsADirectoryError if path is a folder. The file is written under a temporary name
    beside it and only then put in place, so an interrupted save leaves neither a half
    file nor the temporary one.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"save: expected a Sequential model, got {type(model).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"save: {path} is a folder; give a file name such as {path / 'model.npz'}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"save: {path} already exists; pass overwrite=True to replace it")
    header, arrays = _describe(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __nnlib__=np.array(json.dumps(header)), **arrays)
        if overwrite:
            os.replace(tmp, path)                     # atomic: the old file or the new one, never half
        else:
            _place_exclusively(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _place_exclusively(tmp, path):
    """Give the finished file tmp the name path, failing if path exists (even if it appeared just now)."""
    try:
        os.link(tmp, path)                            # atomic, and fails if path exists
    except FileExistsError:
        raise FileExistsError(f"save: {path} already exists; pass overwrite=True to replace it") from None
    except OSError:                                   # a file system without hard links
        try:
            with open(path, "xb") as out, open(tmp, "rb") as src:
                shutil.copyfileobj(src, out)
        except FileExistsError:
            raise FileExistsError(f"save: {path} already exists; pass overwrite=True to replace it") from None


class ModelFileError(ValueError):
    """A file that load() cannot read as an nnlib model: damaged, truncated, or something else."""


MAX_HEADER_BYTES = 1 << 20


def load(path):
    """Read a model written by save(); return a Sequential ready to predict.

    Every array is checked against what the layers described in the file need (shape
    and dtype, BatchNorm's running statistics included) before it is read, and the
    archive's checksums are verified. A damaged, truncated or foreign file raises
    ModelFileError (a ValueError) naming the file and what is wrong.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"load: {path} is a folder, not a model file")
    if not path.exists():
        raise FileNotFoundError(f"load: no such file: {path}")

    def bad(what):
        return ModelFileError(f"load: {path} is not an nnlib model file, or it is damaged: {what}")

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError, KeyError,
            OverflowError, UnicodeDecodeError) as exc:
        size = path.stat().st_size
        raise bad("it is empty" if size == 0 else f"not a numpy .npz archive (a zip file) of {size} bytes, "
                  f"damaged or of another kind ({exc})") from None
    with archive:
        try:
            return _read(archive, bad)
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, TypeError, KeyError,
                RuntimeError, NotImplementedError, OverflowError, UnicodeDecodeError) as exc:
            raise bad(f"the archive is damaged ({type(exc).__name__}: {exc})") from None


def _member(archive, name, dtype, shape, bad, max_bytes=None):
    """Read one .npy member, checking its declared size, dtype and shape before reading its data."""
    try:
        info = archive.getinfo(name + ".npy")
    except KeyError:
        raise bad(f"the array {name!r} is missing") from None
    want = None if max_bytes else int(np.prod(shape)) * np.dtype(dtype).itemsize
    limit = max_bytes or want + 4096                 # the .npy header is at most a few hundred bytes
    if info.file_size > limit:
        raise bad(f"{name!r} declares {info.file_size:,} bytes, more than {limit:,} that it can hold")
    with archive.open(info) as f:
        raw = f.read()                                # bounded by the declared size; checks the CRC at the end
    stream = io.BytesIO(raw)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise bad(f"{name!r} has an unknown .npy version {version}")
    if dtype == "U":
        ok = got_dtype.kind == "U" and got_shape == ()
    else:
        ok = got_dtype == np.dtype(dtype) and got_shape == tuple(shape)
    if not ok or fortran or got_dtype.hasobject:
        raise bad(f"{name!r} is {got_dtype} of shape {got_shape}, expected "
                  f"{'a string' if dtype == 'U' else f'{np.dtype(dtype)} of shape {tuple(shape)}'}")
    data = raw[stream.tell():]
    if len(data) != int(np.prod(got_shape)) * got_dtype.itemsize:
        raise bad(f"{name!r} holds {len(data)} bytes of data, expected "
                  f"{int(np.prod(got_shape)) * got_dtype.itemsize}")
    return np.frombuffer(data, got_dtype).reshape(got_shape).copy()


def _read(archive, bad):
    if "__nnlib__.npy" not in archive.namelist():
        raise bad("an .npz archive but not an nnlib model (no '__nnlib__' header)")
    header = json.loads(str(_member(archive, "__nnlib__", "U", (), bad, max_bytes=MAX_HEADER_BYTES)))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise bad(f"its header says format {header.get('format') if isinstance(header, dict) else header!r}, "
                  f"expected {FORMAT!r}")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(f"its header has format version {version!r}")
    if version > VERSION:
        raise ModelFileError(f"load: {archive.filename} was written by a newer nnlib (format version {version}, "
                             f"this one reads up to {VERSION}); upgrade nnlib")
    specs = header.get("layers")
    if not isinstance(specs, list) or not specs:
        raise bad("its header lists no layers")
    registry, layers, expected = _registry(), [], {"__nnlib__.npy"}
    for i, spec in enumerate(specs):
        if not (isinstance(spec, dict) and spec.keys() == {"type", "config", "params", "state"}
                and spec["type"] in registry and isinstance(spec["config"], dict)):
            raise bad(f"layer {i} is described as {spec!r}, not a layer nnlib knows")
        cls, config_attrs, state = registry[spec["type"]]
        allowed = set(config_attrs) | ({"dtype"} if "dtype" in spec["config"] else set())
        if set(spec["config"]) != allowed:
            raise bad(f"layer {i} ({spec['type']}) has settings {sorted(spec['config'])}, expected {sorted(allowed)}")
        layer = cls(**spec["config"])
        if spec["params"] != list(layer.params) or spec["state"] != list(state):
            raise bad(f"layer {i} ({spec['type']}) lists arrays {spec['params'] + spec['state']}, "
                      f"expected {list(layer.params) + list(state)}")
        for key in (*spec["params"], *state):
            target = layer.params[key] if key in layer.params else getattr(layer, key)
            target[...] = _member(archive, f"layer{i}.{key}", target.dtype, target.shape, bad)
            expected.add(f"layer{i}.{key}.npy")
        layers.append(layer)
    extra = sorted(set(archive.namelist()) - expected)
    if extra:
        raise bad(f"it holds arrays that no layer uses: {extra}")
    return Sequential(layers)
