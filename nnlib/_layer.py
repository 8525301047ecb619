"""The Layer base class that every layer in nnlib derives from, and the checks they share."""
from __future__ import annotations

import numpy as np


class Layer:
    """A layer: ``forward(x, training=False)`` and ``backward(grad_out) -> grad_in``.

    ``params`` and ``grads`` map names to plain numpy arrays (empty for layers
    without parameters). ``need_input_grad`` may be set to False on a model's
    first layer: nobody needs dL/dx there, so backward can skip computing it.

    The checks every layer makes are here, once: ``_check_input`` (an array of
    the right shape, real numbers), ``_check_grad`` (forward came first, and
    grad_out has the shape of the output).
    """

    # True only while Sequential.fit runs a training step on a slice of an X it has checked
    # whole, after its first step went through every check (see Sequential._epoch): the
    # checks would only repeat what that step found, at a cost that adds up on tiny batches.
    _checked_once = False

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.need_input_grad = True

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def __call__(self, x, training=False):
        return self.forward(x, training=training)

    def __repr__(self):
        return f"{type(self).__name__}()"

    # --- the checks the layers share ---------------------------------------------------
    def _check_input(self, x, ndim=None, width=None, want=None):
        """Raise a clear error unless x is a real numpy array of ndim dims (and x.shape[1] == width)."""
        if self._checked_once:
            return x
        if not isinstance(x, np.ndarray) or x.dtype.kind not in "fiub":
            _check_array(x, f"{self!r}: input")
        if (ndim is not None and x.ndim != ndim) or (width is not None and x.shape[1] != width):
            hint = " (for one example use x.reshape(1, -1))" if ndim == 2 and x.ndim == 1 else ""
            want = want or (f"(batch, {width})" if width is not None else f"a {ndim}-D array")
            raise ValueError(f"{self!r} got input of shape {x.shape}: expected {want}{hint}")
        return x

    def _check_grad(self, grad_out, shape):
        """Raise a clear error unless forward came first (shape is not None) and grad_out has that shape."""
        if self._checked_once:
            return grad_out
        if shape is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        if not isinstance(grad_out, np.ndarray) or grad_out.dtype.kind not in "fiub":
            _check_array(grad_out, f"{self!r}.backward: grad_out")
        if grad_out.shape != tuple(shape):
            raise ValueError(f"{self!r}.backward got grad_out of shape {grad_out.shape}: "
                             f"expected {tuple(shape)} (the shape of its output)")
        return grad_out


def _check_array(x, name):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}"
                        + (" (convert it with np.asarray(x, dtype=float))" if isinstance(x, (list, tuple)) else ""))
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}"
                        + (" (complex numbers are not supported)" if x.dtype.kind == "c" else ""))


def param_property(name, doc=None):
    """``layer.W`` as ``layer.params["W"]``: reading gives the array itself; assigning copies
    the values in (shape checked), so the array, and every view of it, stays the same."""

    def get(self):
        return self.params.get(name)

    def set(self, value):
        if name not in self.params:
            raise AttributeError(f"{self!r} has no {name} (made with bias=False?)")
        target = self.params[name]
        value = np.asarray(value)
        if value.dtype.kind not in "fiub":
            raise TypeError(f"{self!r}: {name} must hold real numbers, got dtype {value.dtype}")
        if value.shape != target.shape:
            raise ValueError(f"{self!r}: {name} must have shape {target.shape}, got {value.shape}")
        target[...] = value

    return property(get, set, doc=doc or f"The parameter array params[{name!r}].")
