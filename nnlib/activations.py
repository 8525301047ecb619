"""Activation functions, as plain functions and as layers.

A node computes ``activation(w . x + b)``. Without the activation, layers of
weighted sums collapse into one weighted sum (chapter 2); with it, a network can
bend its decision boundary (chapter 3).

Each layer keeps what its backward pass needs: sigmoid and tanh keep their
output (their derivatives are written with it), ReLU keeps its input's sign.
"""
from __future__ import annotations

import numpy as np

from ._layer import Layer
from ._validate import check_number

__all__ = [
    "sigmoid", "tanh", "relu", "leaky_relu", "softmax", "log_softmax",
    "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU",
]


def sigmoid(x):
    """1 / (1 + e^-x), for any x.

    For x below about -709, e^-x overflows to inf and 1 / (1 + inf) = 0, which is
    the right answer (to float precision), so the overflow warning is silenced.
    Computed in place in one buffer: no temporary arrays.
    """
    x = np.asarray(x)
    out = np.negative(x, out=np.empty(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.float64))
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def tanh(x):
    return np.tanh(x)


def relu(x):
    """max(0, x)."""
    return np.maximum(x, 0)


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)


def log_softmax(z, axis=-1):
    """log(softmax(z)), stable for very large logits (shift by the max first)."""
    z = np.asarray(z)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis=-1):
    """exp(z_k) / sum_j exp(z_j) along axis; rows sum to 1, shift-invariant."""
    z = np.asarray(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class _Activation(Layer):
    """Parameter-free elementwise layers: any input shape; what backward needs is kept in ``cache``."""

    cache = None          # the array backward needs (output, or the input's sign), set by forward


class Identity(_Activation):
    """f(x) = x (a linear output, e.g. for regression)."""

    def forward(self, x, training=False):
        self.cache = self._check_input(x)
        return x

    def backward(self, grad_out):
        self._check_grad(grad_out, None if self.cache is None else self.cache.shape)
        return grad_out                       # f'(x) = 1


class Sigmoid(_Activation):
    """f(x) = 1 / (1 + e^-x), in (0, 1); f'(x) = f(x)(1 - f(x)) <= 1/4."""

    def forward(self, x, training=False):
        self.cache = self.y = sigmoid(self._check_input(x))
        return self.y

    def backward(self, grad_out):
        self._check_grad(grad_out, None if self.cache is None else self.cache.shape)
        return grad_out * self.y * (1.0 - self.y)     # dL/dx = dL/dy * y (1 - y)


class Tanh(_Activation):
    """f(x) = tanh(x), in (-1, 1); f'(x) = 1 - f(x)^2."""

    def forward(self, x, training=False):
        self.cache = self.y = np.tanh(self._check_input(x))
        return self.y

    def backward(self, grad_out):
        self._check_grad(grad_out, None if self.cache is None else self.cache.shape)
        return grad_out * (1.0 - self.y ** 2)         # dL/dx = dL/dy * (1 - y^2)


class ReLU(_Activation):
    """f(x) = max(0, x); f'(x) = 1 where x > 0, else 0."""

    def forward(self, x, training=False):
        self.cache = self.mask = self._check_input(x) > 0
        return np.maximum(x, 0)

    def backward(self, grad_out):
        self._check_grad(grad_out, None if self.cache is None else self.cache.shape)
        return grad_out * self.mask                   # no gradient where the unit was off


class LeakyReLU(_Activation):
    """f(x) = x for x > 0, alpha * x otherwise: a small slope keeps units alive."""

    def __init__(self, alpha=0.01):
        super().__init__()
        self.alpha = check_number(alpha, "LeakyReLU: alpha", low=0.0)

    def forward(self, x, training=False):
        self.cache = self.mask = self._check_input(x) > 0
        return np.where(self.mask, x, self.alpha * x)

    def backward(self, grad_out):
        self._check_grad(grad_out, None if self.cache is None else self.cache.shape)
        return grad_out * np.where(self.mask, 1.0, self.alpha).astype(grad_out.dtype)

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha})"
