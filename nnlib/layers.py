"""Layers: each one a forward pass and, right beside it, its backward pass.

Conventions (the whole library follows them):

* ``forward(x, training=False)`` takes a batch ``x`` of shape ``(batch, features)``
  and returns the layer's output. It remembers what backward will need.
* ``backward(grad_out)`` takes dL/d(output), stores the gradients of the layer's
  parameters in ``layer.grads`` and returns dL/d(input).
* A layer with parameters keeps them in ``layer.params`` (name -> ndarray) and
  their gradients in ``layer.grads`` (same names, same shapes). They are plain
  arrays: print them, plot them, change them in place.

The activation layers (Identity, Sigmoid, Tanh, ReLU, LeakyReLU) live in
:mod:`nnlib.activations` and are importable from here too.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._layer import Layer
from ._validate import as_generator, check_dtype, check_positive_int
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh  # noqa: F401  (re-exported)
from .regularization import BatchNorm, Dropout  # noqa: F401

__all__ = ["Layer", "Dense", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "BatchNorm", "Dropout", "init_weights"]

INITS = ("xavier", "glorot", "he", "lecun", "normal", "zeros")


def init_weights(shape, init="xavier", rng=None, dtype=np.float64):
    """Initial weights of a (fan_in, fan_out) matrix.

    init: ``"xavier"`` (alias ``"glorot"``, uniform, keeps the variance of the
    signal through tanh/sigmoid layers), ``"he"`` (normal with std sqrt(2/fan_in),
    made for ReLU), ``"lecun"`` (std sqrt(1/fan_in)), ``"normal"`` (std 0.01),
    ``"zeros"``, a number (normal with that std, to make weights deliberately
    small or large), or a function ``f(shape, rng) -> array``.
    """
    rng = as_generator(rng, "rng")
    fan_in, fan_out = shape[0], shape[-1]
    if callable(init):
        w = np.asarray(init(shape, rng), dtype=dtype)
        if w.shape != tuple(shape):
            raise ValueError(f"init function returned shape {w.shape}, expected {tuple(shape)}")
        return w
    if isinstance(init, numbers.Real) and not isinstance(init, bool):
        if init < 0:
            raise ValueError(f"init as a number is the weights' standard deviation, must be >= 0, got {init}")
        return (rng.standard_normal(shape) * init).astype(dtype)
    if init in ("xavier", "glorot"):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape).astype(dtype)
    if init == "he":
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)
    if init == "lecun":
        return (rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)).astype(dtype)
    if init == "normal":
        return (rng.standard_normal(shape) * 0.01).astype(dtype)
    if init == "zeros":
        return np.zeros(shape, dtype=dtype)
    raise ValueError(
        f"init must be one of {list(INITS)}, a number (the std) or a function, got {init!r}"
    )


class Dense(Layer):
    """A fully connected layer: ``y = x @ W + b``.

    in_features -> out_features; ``W`` has shape (in_features, out_features) and
    ``b`` shape (out_features,). ``layer.W is layer.params["W"]``.
    """

    def __init__(self, in_features, out_features, *, bias=True, init="xavier", rng=None,
                 dtype=np.float64):
        super().__init__()
        self.in_features = check_positive_int(in_features, "Dense: in_features")
        self.out_features = check_positive_int(out_features, "Dense: out_features")
        self.dtype = check_dtype(dtype, "Dense")
        self.use_bias = bool(bias)
        self.init = init
        W = init_weights((self.in_features, self.out_features), init, rng, self.dtype)
        self.params["W"] = W
        self.grads["W"] = np.zeros_like(W)
        if self.use_bias:
            self.params["b"] = np.zeros(self.out_features, dtype=self.dtype)
            self.grads["b"] = np.zeros(self.out_features, dtype=self.dtype)
        self.x = None

    # W and b are the arrays in params: assigning copies values in, keeping identity.
    @property
    def W(self):
        return self.params["W"]

    @W.setter
    def W(self, value):
        self._set("W", value)

    @property
    def b(self):
        return self.params.get("b")

    @b.setter
    def b(self, value):
        if not self.use_bias:
            raise AttributeError(f"{self!r} was made with bias=False: it has no b")
        self._set("b", value)

    def _set(self, name, value):
        value = np.asarray(value, dtype=self.dtype)
        target = self.params[name]
        if value.shape != target.shape:
            raise ValueError(f"{self!r}: {name} must have shape {target.shape}, got {value.shape}")
        target[...] = value

    def forward(self, x, training=False):
        if getattr(x, "ndim", None) != 2 or x.shape[1] != self.in_features:
            shape = getattr(x, "shape", type(x).__name__)
            hint = " (for one example use x.reshape(1, -1))" if getattr(x, "ndim", 0) == 1 else ""
            raise ValueError(
                f"{self!r} got input of shape {shape}: expected (batch, {self.in_features}){hint}"
            )
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        self.x = x
        y = x @ self.params["W"]                  # y = x W + b
        if self.use_bias:
            y += self.params["b"]
        return y

    def backward(self, grad_out):
        if self.x is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        if grad_out.shape != (self.x.shape[0], self.out_features):
            raise ValueError(
                f"{self!r}.backward got grad_out of shape {grad_out.shape}: "
                f"expected {(self.x.shape[0], self.out_features)} (the shape of its output)"
            )
        grad_out = grad_out.astype(self.dtype, copy=False)
        np.matmul(self.x.T, grad_out, out=self.grads["W"])   # dL/dW = x.T @ dL/dy
        if self.use_bias:
            grad_out.sum(axis=0, out=self.grads["b"])         # dL/db = sum over the batch of dL/dy
        if not self.need_input_grad:
            return None
        return grad_out @ self.params["W"].T                  # dL/dx = dL/dy @ W.T

    def __repr__(self):
        return f"Dense({self.in_features} -> {self.out_features})"
