"""Save a trained model to one file and load it back, to predict without retraining.

    nnlib.saving.save(model, "spirals.npz")
    model = nnlib.saving.load("spirals.npz")

The file is a numpy ``.npz`` archive: every parameter array (and running
statistics, for batch norm) stored exactly, plus a JSON description of the
layers. Nothing is pickled, so loading a file runs no code from it. Loaded
weights are bit-for-bit the saved ones, so predictions are identical.

Saving never replaces an existing file unless you say ``overwrite=True``, and it
writes to a temporary file first, so a crash mid-save cannot leave half a model
where a good one was.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from .layers import Dense
from .model import Sequential

__all__ = ["save", "load", "FORMAT", "VERSION"]

FORMAT = "nnlib-model"
VERSION = 1


def _registry():
    """Layer type name -> (class, config attributes, extra state arrays)."""
    from .conv import Conv2D, Flatten, GlobalAvgPool2D, MaxPool2D
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
        "MaxPool2D": (MaxPool2D, {"size": "size"}, ()),
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

    Raises FileExistsError if path exists and overwrite is False.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"save: expected a Sequential model, got {type(model).__name__}")
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"save: {path} already exists; pass overwrite=True to replace it")
    if path.is_dir():
        raise IsADirectoryError(f"save: {path} is a folder; give a file name such as {path / 'model.npz'}")
    header, arrays = _describe(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __nnlib__=np.array(json.dumps(header)), **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load(path):
    """Read a model written by save(); return a Sequential ready to predict."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load: no such file: {path}")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ValueError(f"load: {path} is not an nnlib model file (not a numpy .npz archive: {exc})") from None
    with archive:
        if "__nnlib__" not in archive.files:
            raise ValueError(f"load: {path} is an .npz archive but not an nnlib model (no '__nnlib__' header)")
        header = json.loads(str(archive["__nnlib__"]))
        if header.get("format") != FORMAT:
            raise ValueError(f"load: {path} has format {header.get('format')!r}, expected {FORMAT!r}")
        if header.get("version", 0) > VERSION:
            raise ValueError(f"load: {path} was written by a newer nnlib (format version {header['version']}, "
                             f"this one reads up to {VERSION}); upgrade nnlib")
        registry = _registry()
        layers = []
        for i, spec in enumerate(header["layers"]):
            if spec["type"] not in registry:
                raise ValueError(f"load: layer {i} has unknown type {spec['type']!r}")
            cls = registry[spec["type"]][0]
            layer = cls(**spec["config"])
            for key in spec["params"]:
                saved = archive[f"layer{i}.{key}"]
                if saved.shape != layer.params[key].shape:
                    raise ValueError(f"load: layer {i} {spec['type']} parameter {key} has shape {saved.shape}, "
                                     f"expected {layer.params[key].shape}; the file is damaged")
                layer.params[key][...] = saved
            for key in spec["state"]:
                getattr(layer, key)[...] = archive[f"layer{i}.{key}"]
            layers.append(layer)
    return Sequential(layers)
