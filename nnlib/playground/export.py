"""The playground's trained network as nnlib code, and its whole state as plain data.

``to_code(pg)`` writes Python source that rebuilds the trained network with its weights;
``state_dict(pg)`` and ``load_state_dict(pg, state)`` keep and restore everything (settings,
weights, the optimizer's memory, the random state, the loss history) as JSON-ready data.
``Playground.to_code``, ``.state_dict`` and ``.load_state_dict`` call them.
"""
from __future__ import annotations

import numpy as np

from ..diagnostics import Monitor
from ..layers import BatchNorm, Dense, Dropout, Identity, ReLU, Sigmoid, Tanh
from .choices import OPTIMIZERS

__all__ = ["to_code", "state_dict", "load_state_dict"]


def to_code(pg):
    """Python source that rebuilds the trained network with nnlib, its weights included."""
    s = pg.settings
    names = {Dense: None, ReLU: "ReLU", Tanh: "Tanh", Sigmoid: "Sigmoid", Identity: "Identity"}
    imports, lines, values = {"Sequential", "Dense"}, [], []
    for layer in pg.model.layers:
        kind = type(layer).__name__
        if isinstance(layer, Dense):
            lines.append(f"Dense({layer.in_features}, {layer.out_features}),")
        elif isinstance(layer, BatchNorm):
            imports.add("BatchNorm")
            lines.append(f"BatchNorm({layer.num_features}),")
        elif isinstance(layer, Dropout):
            imports.add("Dropout")
            lines.append(f"Dropout({layer.rate}),")
        else:
            imports.add(names.get(type(layer)) or kind)
            lines.append(f"{kind}(),")
        if layer.params or _buffers(layer):
            values.append(f"    {{  # {layer!r}")
            for name, array in {**layer.params, **_buffers(layer)}.items():
                if array.ndim == 2:            # one row of W per line; repr keeps every float exact
                    values += [f"        {name!r}: ["] + [f"            {row!r}," for row in array.tolist()]
                    values.append("        ],")
                else:
                    values.append(f"        {name!r}: {array.tolist()!r},")
            values.append("    },")
    feats = ", ".join(repr(f) for f in s["features"])
    cols = ", ".join(_FEATURE_CODE[f] for f in s["features"])
    out = ("logits" if s["loss"] == "cross-entropy" else "tanh outputs: class 1 where > 0") \
        if s["problem"] == "classification" else "predicted targets"
    return "\n".join([
        f"# Trained in nnlib's playground: {s['dataset']} data, features {feats}, hidden layers "
        f"{s['hidden']}, {s['activation']}, {s['optimizer']}, epoch {pg.epoch}.",
        "import numpy as np",
        f"from nnlib import {', '.join(sorted(imports))}",
        "",
        "",
        "def features(X):",
        "    \"\"\"The network's inputs for points X of shape (n, 2).\"\"\"",
        "    x1, x2 = X[:, 0], X[:, 1]",
        f"    return np.column_stack([{cols}])",
        "",
        "",
        "model = Sequential([",
        *("    " + line for line in lines),
        "])",
        "values = [   # parameters (and batch-norm statistics) of each layer that has them, in order",
        *values,
        "]",
        "for layer, arrays in zip([l for l in model.layers if l.params], values):",
        "    for name, value in arrays.items():",
        "        target = layer.params[name] if name in layer.params else getattr(layer, name)",
        "        target[...] = np.array(value)",
        f"# model.predict(features(X)) gives the {out}.",
    ]) + "\n"


_FEATURE_CODE = {"x1": "x1", "x2": "x2", "x1^2": "x1 ** 2", "x2^2": "x2 ** 2", "x1*x2": "x1 * x2",
                 "sin(x1)": "np.sin(x1)", "sin(x2)": "np.sin(x2)"}


def _buffers(layer):
    """Arrays a layer keeps besides its parameters (batch norm's running statistics)."""
    return {k: v for k, v in vars(layer).items() if k.startswith("running_") and isinstance(v, np.ndarray)}


def _rng_of(layer):
    rng = getattr(layer, "rng", None)
    return rng if isinstance(rng, np.random.Generator) else None


def state_dict(pg):
    """Everything needed to carry on exactly where this playground is, as plain Python data (JSON-ready)."""
    opt = pg.optimizer
    opt_state = {name: [a.tolist() for a in getattr(opt, name)] for name in opt.state} if opt.t else {}
    return {
        "version": 1,
        "settings": {k: (list(v) if isinstance(v, list) else v) for k, v in pg.settings.items()},
        "epoch": pg.epoch,
        "history": {k: list(v) for k, v in pg.history.items()},
        "layers": [{**{k: v.tolist() for k, v in layer.params.items()},
                    **{k: v.tolist() for k, v in _buffers(layer).items()}} for layer in pg.model.layers],
        "optimizer": {"t": opt.t, "state": opt_state},
        "rng": pg.rng.bit_generator.state,
        "layer_rngs": [_rng_of(layer).bit_generator.state if _rng_of(layer) else None
                       for layer in pg.model.layers],
    }


def load_state_dict(pg, state):
    """Restore a state from ``state_dict()``: settings, weights, optimizer, history, random state."""
    if not isinstance(state, dict) or state.get("version") != 1:
        raise ValueError("Playground.load_state_dict: expected a dictionary made by state_dict() (version 1)")
    pg.set(**state["settings"])
    if len(state["layers"]) != len(pg.model.layers):
        raise ValueError(f"Playground.load_state_dict: the state has {len(state['layers'])} layers, "
                         f"its settings build {len(pg.model.layers)}")
    pg.pause()
    s, saved = pg.settings, state["optimizer"]
    pg.optimizer = OPTIMIZERS[s["optimizer"]](float(s["learning_rate"]))
    if saved["t"]:
        # A fresh optimizer's step with zero gradients leaves the parameters as they are and
        # makes its state arrays, which then take the saved values.
        for g in pg.model.gradients():
            g[...] = 0.0
        pg.optimizer.step(*pg.model.flat_parameters())      # the arrays train_step steps over
        for name, arrays in saved["state"].items():
            for target, value in zip(getattr(pg.optimizer, name), arrays):
                target[...] = np.asarray(value)
        pg.optimizer.t = saved["t"]
    for layer, arrays in zip(pg.model.layers, state["layers"]):
        for name, value in arrays.items():
            target = layer.params[name] if name in layer.params else getattr(layer, name)
            target[...] = np.asarray(value)
    pg.rng.bit_generator.state = state["rng"]
    for layer, rng_state in zip(pg.model.layers, state.get("layer_rngs", [])):
        if rng_state is not None:
            _rng_of(layer).bit_generator.state = rng_state
    pg.epoch = state["epoch"]
    pg.message = ""
    pg.monitor = Monitor(pg.F_train)
    pg.monitor.on_train_begin(pg.model)
    pg.grad_norms = np.zeros(len(pg.dense_layers))
    pg._measure()
    pg.history = {k: list(v) for k, v in state["history"].items()}
    pg.redraw()
    return pg
