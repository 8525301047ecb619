"""ipywidgets helpers for the chapters (imported on use).

The chapters build their widgets with ``ipywidgets.interact`` so the reader sees
how; these helpers only fix the defaults the course wants everywhere: sliders
that retrain a model update when released (``continuous_update=False``), so the
kernel never lags behind the mouse, and readable labels.
"""
from __future__ import annotations

import ipywidgets as W

__all__ = ["slider", "int_slider", "log_slider", "choice", "STYLE"]

STYLE = {"description_width": "initial"}


def slider(value, low, high, step, description, *, live=False, readout_format=".2f"):
    """A FloatSlider; live=True updates while dragging (only for cheap redraws)."""
    return W.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         continuous_update=live, readout_format=readout_format, style=STYLE)


def int_slider(value, low, high, description, *, step=1, live=False):
    return W.IntSlider(value=value, min=low, max=high, step=step, description=description,
                       continuous_update=live, style=STYLE)


def log_slider(value, low, high, description, *, live=False):
    """A slider over powers of ten (for learning rates): low and high are the values, not exponents."""
    import math

    return W.FloatLogSlider(value=value, base=10, min=math.log10(low), max=math.log10(high), step=0.1,
                            description=description, continuous_update=live, readout_format=".3g", style=STYLE)


def choice(options, description, value=None):
    """A dropdown of options (a list of strings, or (label, value) pairs)."""
    kwargs = {"options": options, "description": description, "style": STYLE}
    if value is not None:
        kwargs["value"] = value
    return W.Dropdown(**kwargs)


def __getattr__(name):
    # The playground app (nnlib.playground) loads only when asked for: `from nnlib.widgets import Playground`.
    if name == "Playground":
        from .playground import Playground

        return Playground
    raise AttributeError(f"module 'nnlib.widgets' has no attribute {name!r}")
