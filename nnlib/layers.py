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

from ._layer import Layer, param_property
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
    rng: an int seed or a numpy Generator for the initial weights; None is seed 0
    (in a Sequential, each layer made with rng=None gets a stream of its own).
    """

    W = param_property("W", "The weights, shape (in_features, out_features): params['W'].")
    b = param_property("b", "The biases, shape (out_features,): params['b'] (None with bias=False).")

    def __init__(self, in_features, out_features, *, bias=True, init="xavier", rng=None,
                 dtype=np.float64):
        super().__init__()
        self.in_features = check_positive_int(in_features, "Dense: in_features")
        self.out_features = check_positive_int(out_features, "Dense: out_features")
        self.dtype = check_dtype(dtype, "Dense")
        self.use_bias = bool(bias)
        self.init = init
        self.rng_default = rng is None
        W = init_weights((self.in_features, self.out_features), init, rng, self.dtype)
        self.params["W"] = W
        self.grads["W"] = np.zeros_like(W)
        if self.use_bias:
            self.params["b"] = np.zeros(self.out_features, dtype=self.dtype)
            self.grads["b"] = np.zeros(self.out_features, dtype=self.dtype)
        self.x = None

    def _reseed(self, rng):
        """Draw the initial weights again from rng, if they are still those of seed 0 (see Sequential)."""
        shape = (self.in_features, self.out_features)
        if np.array_equal(self.W, init_weights(shape, self.init, 0, self.dtype)):
            self.W = init_weights(shape, self.init, rng, self.dtype)

    def forward(self, x, training=False):
        self._check_input(x, 2, self.in_features)
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        self.x = x
        y = x @ self.params["W"]                  # y = x W + b
        if self.use_bias:
            y += self.params["b"]
        return y

    def backward(self, grad_out):
        self._check_grad(grad_out, None if self.x is None else (self.x.shape[0], self.out_features))
        grad_out = grad_out.astype(self.dtype, copy=False)
        np.matmul(self.x.T, grad_out, out=self.grads["W"])   # dL/dW = x.T @ dL/dy
        if self.use_bias:
            grad_out.sum(axis=0, out=self.grads["b"])         # dL/db = sum over the batch of dL/dy
        if not self.need_input_grad:
            return None
        return grad_out @ self.params["W"].T                  # dL/dx = dL/dy @ W.T

    def __repr__(self):
        return f"Dense({self.in_features} -> {self.out_features})"
