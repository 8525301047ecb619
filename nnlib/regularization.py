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
* ``L1(rate)`` and ``L2(rate)``: weight penalties for ``fit(..., regularizer=L2(1e-3))``
  and ``Sequential.train_step``; they add their gradient to the weights' before each step.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._layer import Layer
from ._validate import as_generator, check_dtype, check_number, check_positive_int

__all__ = ["BatchNorm", "Dropout", "L1", "L2", "get_regularizer"]


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

    A training batch needs at least 2 examples: the variance of one example is 0,
    its output would be beta whatever the input, with a zero input gradient, and the
    running variance would be pulled towards 0 (PyTorch refuses it too). So
    ``forward(x, training=True)`` raises for a batch of 1 or 0, and ``Sequential.fit``
    never makes one: a last partial batch of 1 joins the batch before it.

    Conventions compared with PyTorch's ``nn.BatchNorm1d`` (both are standard; the
    training output is the same):

    * momentum is Keras-style, the weight of the *old* running value:
      nnlib's ``momentum=0.9`` is PyTorch's ``momentum=0.1``
      (``running = (1 - m_torch) * running + m_torch * batch_value``).
    * running_var averages the *biased* batch variance (divided by n, the one used
      to normalise the batch), as Keras does; PyTorch averages the unbiased one
      (divided by n - 1). After the same batches nnlib's running_var is PyTorch's
      times (n - 1) / n, so inference outputs differ slightly for small batches.
      Neither is wrong: they estimate the population variance from batches in two
      common ways.
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
        self._check_input(x, 2, self.num_features)
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        if training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(
                    f"{self!r}: a training batch needs at least 2 examples, got {n}: the variance of "
                    f"{'one example is 0' if n else 'no examples is undefined'} and would spoil the running "
                    f"statistics. Use a larger batch (fit merges a last batch of 1 into the one before it)")
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
        self._check_grad(grad_out, None if self.x_hat is None else self.x_hat.shape)
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
    0/1 mask (1 with probability 1 - rate) at every call, drawn from ``rng``
    (None: seed 0; in a Sequential each Dropout made with rng=None gets a stream of
    its own, so two of them draw different masks).
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
        self.rng_default = rng is None
        self.rng = as_generator(rng, "Dropout: rng")
        self.mask = None
        self.fixed_mask = None
        self.shape = None
        self.scale = 1.0

    def _reseed(self, rng):
        """Take rng for the masks, if this layer still has seed 0's untouched stream (see Sequential)."""
        if self.rng.bit_generator.state == np.random.default_rng(0).bit_generator.state:
            self.rng = rng

    def forward(self, x, training=False):
        self._check_input(x, 2, want="(batch, features)")
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
        self._check_grad(grad_out, self.shape)
        if not self.need_input_grad:
            return None
        if self.mask is None:
            return grad_out                                   # identity: dL/dx = dL/dy
        return grad_out * (self.mask * self.scale).astype(grad_out.dtype, copy=False)   # dropped entries get 0

    def __repr__(self):
        return f"Dropout(rate={self.rate:g})"


class _Penalty:
    """A weight penalty for ``fit(..., regularizer=...)`` / ``train_step``: on the weight matrices
    (every parameter named "W"), never on biases or BatchNorm's gamma and beta."""

    def __init__(self, rate):
        self.rate = check_number(rate, f"{type(self).__name__}: rate", low=0.0)

    @staticmethod
    def weights(model):
        """(W, dL/dW) of every layer with a weight matrix."""
        return [(layer.params["W"], layer.grads["W"]) for layer in model.layers if "W" in layer.params]

    def after_step(self, model, optimizer):
        """Called after the optimizer's step (nothing to do for most penalties)."""

    def __repr__(self):
        return f"{type(self).__name__}({self.rate:g})"


class L2(_Penalty):
    """L2 ("weight decay"): adds rate/2 * sum(W^2) to the loss, so rate * W to dL/dW.

    Every step pulls each weight towards 0 in proportion to its size: large
    weights shrink most, none becomes exactly 0.
    """

    def penalty(self, model):
        return 0.5 * self.rate * sum(float(np.sum(W ** 2)) for W, _ in self.weights(model))

    def add_gradient(self, model):
        for W, dW in self.weights(model):
            dW += self.rate * W                     # d/dW of rate/2 * sum W^2


class L1(_Penalty):
    """L1: adds rate * sum(|W|) to the loss, so rate * sign(W) to dL/dW.

    Every step pulls each weight towards 0 by the same amount, whatever its size,
    so weights that the data does not need reach 0. A weight that the penalty's
    own part of the step carries across zero is set to exactly 0 (as the
    TensorFlow Playground does): that is what makes L1 weights sparse instead of
    jittering around 0. The penalty's part of the step is lr * rate * sign(W)
    (for Adam, which rescales steps, lr * rate is the same yardstick); a weight
    that the loss's gradient carries across zero keeps its new value.
    """

    def penalty(self, model):
        return self.rate * sum(float(np.sum(np.abs(W))) for W, _ in self.weights(model))

    def add_gradient(self, model):
        self._signs = []
        for W, dW in self.weights(model):
            sign = np.sign(W)
            dW += self.rate * sign                  # d/dW of rate * sum |W|
            self._signs.append(sign)

    def after_step(self, model, optimizer):
        shift = optimizer.lr * self.rate
        for (W, _), sign in zip(self.weights(model), self._signs):
            W[(W + shift * sign) * W < 0] = 0.0      # before the penalty's step W + shift*sign: crossed zero


def get_regularizer(regularizer, rate=None):
    """None, an L1/L2 instance, or a name ("none", "L1", "L2") with a rate."""
    if regularizer is None or isinstance(regularizer, _Penalty):
        return regularizer
    names = {"none": None, "l1": L1, "l2": L2}
    if isinstance(regularizer, str) and regularizer.lower() in names:
        cls = names[regularizer.lower()]
        return None if cls is None or not rate else cls(rate)
    raise ValueError(f"regularizer must be None, L1(rate), L2(rate) or one of 'none', 'L1', 'L2', got {regularizer!r}")
