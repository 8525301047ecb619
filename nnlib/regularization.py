"""Layers that behave differently in training and at inference: BatchNorm and Dropout.

Both follow the layer conventions of :mod:`nnlib.layers` (``forward(x, training=False)``,
``backward(grad_out)``, ``params`` / ``grads``). ``Sequential.fit`` calls them with
``training=True``; ``predict`` and ``evaluate`` with ``training=False``.

* ``BatchNorm(num_features)`` normalises every feature over the batch in training
  (mean 0, variance 1), then scales and shifts it with the learnable ``gamma`` and
  ``beta``. At inference it uses the running averages it collected in training.
* ``Dropout(rate)`` sets each activation to 0 with probability ``rate`` in training
  and scales the survivors by ``1 / (1 - rate)`` ("inverted" dropout), so the
  expected activation is unchanged. At inference it passes its input through.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._layer import Layer
from ._validate import as_generator, check_dtype, check_number, check_positive_int

__all__ = ["BatchNorm", "Dropout"]


def _check_input(layer, x, width):
    if getattr(x, "ndim", None) != 2 or (width is not None and x.shape[1] != width):
        shape = getattr(x, "shape", type(x).__name__)
        hint = " (for one example use x.reshape(1, -1))" if getattr(x, "ndim", 0) == 1 else ""
        want = f"(batch, {width})" if width is not None else "(batch, features)"
        raise ValueError(f"{layer!r} got input of shape {shape}: expected {want}{hint}")


def _check_grad(layer, grad_out, shape):
    if shape is None:
        raise RuntimeError(f"{layer!r}: call forward before backward")
    if getattr(grad_out, "shape", None) != shape:
        raise ValueError(
            f"{layer!r}.backward got grad_out of shape {getattr(grad_out, 'shape', type(grad_out).__name__)}: "
            f"expected {shape} (the shape of its output)"
        )


class BatchNorm(Layer):
    """Batch normalization of each feature: ``y = gamma * (x - mean) / sqrt(var + eps) + beta``.

    x: (batch, num_features) -> y: (batch, num_features).

    training=True: mean and var are the batch's own, per feature (var divides by
    the batch size), and they update the running averages
    ``running = momentum * running + (1 - momentum) * batch_value``.
    training=False: mean and var are ``running_mean`` and ``running_var``, so one
    example's output does not depend on the others in its batch.

    params: ``gamma`` (num_features,), starting at 1, and ``beta`` (num_features,),
    starting at 0. ``running_mean`` / ``running_var`` are attributes, not params:
    no optimizer touches them.
    """

    def __init__(self, num_features, *, momentum=0.9, eps=1e-5, dtype=np.float64):
        super().__init__()
        self.num_features = check_positive_int(num_features, "BatchNorm: num_features")
        self.in_features = self.out_features = self.num_features
        self.momentum = check_number(momentum, "BatchNorm: momentum", low=0.0, high=1.0)
        self.eps = check_number(eps, "BatchNorm: eps", low=0.0, low_open=True)
        self.dtype = check_dtype(dtype, "BatchNorm")
        self.params["gamma"] = np.ones(self.num_features, dtype=self.dtype)
        self.params["beta"] = np.zeros(self.num_features, dtype=self.dtype)
        self.grads["gamma"] = np.zeros(self.num_features, dtype=self.dtype)
        self.grads["beta"] = np.zeros(self.num_features, dtype=self.dtype)
        self.running_mean = np.zeros(self.num_features, dtype=self.dtype)
        self.running_var = np.ones(self.num_features, dtype=self.dtype)
        self.x_hat = None        # the normalised input, kept for backward
        self.inv_std = None      # 1 / sqrt(var + eps) used in forward
        self.training = None     # the mode of the last forward

    @property
    def gamma(self):
        return self.params["gamma"]

    @property
    def beta(self):
        return self.params["beta"]

    def forward(self, x, training=False):
        _check_input(self, x, self.num_features)
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        if training:
            n = x.shape[0]
            mean = x.sum(axis=0) / n
            centered = x - mean
            var = np.einsum("ij,ij->j", centered, centered) / n   # sum of squares over the batch / n
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1 - m) * mean
            self.running_var *= m
            self.running_var += (1 - m) * var
        else:
            centered, var = x - self.running_mean, self.running_var
        self.training = bool(training)
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.x_hat = centered * self.inv_std                 # x_hat = (x - mean) / sqrt(var + eps)
        return self.params["gamma"] * self.x_hat + self.params["beta"]

    def backward(self, grad_out):
        _check_grad(self, grad_out, None if self.x_hat is None else self.x_hat.shape)
        grad_out = grad_out.astype(self.dtype, copy=False)
        x_hat, gamma = self.x_hat, self.params["gamma"]
        np.einsum("ij,ij->j", grad_out, x_hat, out=self.grads["gamma"])   # dL/dgamma = sum dL/dy * x_hat
        grad_out.sum(axis=0, out=self.grads["beta"])                     # dL/dbeta = sum dL/dy
        if not self.need_input_grad:
            return None
        g = grad_out * gamma                                             # dL/dx_hat = dL/dy * gamma
        if not self.training:
            return g * self.inv_std           # fixed mean and var: x_hat is affine in x
        # The batch mean and var depend on every x in the batch, hence two correction terms:
        # dL/dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)), and sum(g) = gamma * dL/dbeta,
        # sum(g * x_hat) = gamma * dL/dgamma
        n = x_hat.shape[0]
        mean_g = gamma * self.grads["beta"] / n
        mean_gx = gamma * self.grads["gamma"] / n
        return self.inv_std * (g - mean_g - x_hat * mean_gx)

    def __repr__(self):
        return f"BatchNorm({self.num_features})"


class Dropout(Layer):
    """Inverted dropout: in training, zero each entry with probability ``rate``.

    x: (batch, features) -> same shape.

    training=True: ``y = x * keep / (1 - rate)`` where ``keep`` is a fresh random
    0/1 mask (1 with probability 1 - rate) at every call, drawn from ``rng``.
    Dividing by 1 - rate keeps the expected value of every entry equal to x.
    rate 0.0 is the identity; rate 1.0 zeroes everything.
    training=False: ``y = x`` (no dropout at inference).

    ``layer.mask`` is the last mask used (True = kept). For gradient checks and
    exercises, set ``layer.fixed_mask`` to a boolean array of the input's shape to
    use that mask at every call instead of drawing one.
    """

    def __init__(self, rate, *, rng=None):
        super().__init__()
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
            raise TypeError(f"Dropout: rate must be a number between 0 and 1, got {type(rate).__name__} {rate!r}")
        if not (0.0 <= rate <= 1.0):
            raise ValueError(
                f"Dropout: rate is the fraction of activations dropped, it must be between 0 and 1, got {rate}"
            )
        self.rate = float(rate)
        self.rng = as_generator(rng, "Dropout: rng")
        self.mask = None
        self.fixed_mask = None
        self.shape = None
        self.scale = 1.0

    def forward(self, x, training=False):
        _check_input(self, x, None)
        self.shape = x.shape
        if not training or self.rate == 0.0:
            self.mask, self.scale = None, 1.0
            return x
        if self.fixed_mask is not None:
            keep = np.asarray(self.fixed_mask, dtype=bool)
            if keep.shape != x.shape:
                raise ValueError(f"{self!r}: fixed_mask has shape {keep.shape}, input has shape {x.shape}")
        else:
            keep = self.rng.random(x.shape) >= self.rate      # True with probability 1 - rate
        self.mask = keep
        self.scale = 0.0 if self.rate == 1.0 else 1.0 / (1.0 - self.rate)
        return x * (keep * self.scale).astype(x.dtype, copy=False)   # y = x * keep / (1 - rate)

    def backward(self, grad_out):
        _check_grad(self, grad_out, self.shape)
        if not self.need_input_grad:
            return None
        if self.mask is None:
            return grad_out                                   # identity: dL/dx = dL/dy
        return grad_out * (self.mask * self.scale).astype(grad_out.dtype, copy=False)   # dropped entries get 0

    def __repr__(self):
        return f"Dropout(rate={self.rate:g})"
