"""Optimizers: turn gradients into parameter updates.

``optimizer.step(params, grads)`` takes two parallel lists of arrays and updates
every parameter in place. Optimizers with memory (Momentum, Adam) keep one state
array per parameter (``optimizer.v``, ``optimizer.m``), matched by position,
across calls. ``Sequential`` keeps all of a model's parameters in one flat array
and their gradients in another, and ``fit`` / ``train_step`` pass those two
(``[params], [grads]``): one update of the whole model, a handful of numpy calls
per step whatever the number of layers. ``optimizer.step(model.parameters(),
model.gradients())`` updates the same numbers layer by layer.

Each rule is the formula chapter 8 teaches, written for one array ``w`` with its
gradient ``g``. The rules and defaults are the standard ones (as PyTorch's
``SGD``, ``SGD(momentum=...)`` and ``Adam``).

Speed: ``step`` hands the rule a large array in slices of at most ``CHUNK_BYTES``
(128 kB). The formula's temporary arrays (``m_hat``, ``np.sqrt(v_hat)``, ...) then stay
in the CPU's cache and reuse memory instead of each asking the operating system
for fresh pages: Adam as written below runs about 3x faster that way on a model of
235,000 parameters (measured by benchmarks/bench.py's workload W3), and the
numbers are the same as in one go (the rule is elementwise).
"""
from __future__ import annotations

from operator import is_

import numpy as np

from ._validate import check_number

__all__ = ["Optimizer", "SGD", "Momentum", "AdaGrad", "RMSProp", "Adam", "get_optimizer"]

CHUNK_BYTES = 1 << 17


class Optimizer:
    """Base class: checks the lists, then updates each parameter with ``update``.

    A subclass names its state arrays in ``state`` (e.g. ``("m", "v")``; each
    becomes a list of arrays, one per parameter, starting at 0) and writes
    ``update(w, g, *state)`` for one parameter array, changing w and its state in place.
    """

    state = ()

    def __init__(self, lr):
        self.lr = check_number(lr, f"{type(self).__name__}: lr", low=0.0, low_open=True)
        self.reset()

    def step(self, params, grads):
        """Update every array in params (in place) from the parallel list grads."""
        params, grads = list(params), list(grads)
        if not self._same_as_checked(params, grads):
            self._check(params, grads)
        self.t += 1
        for w, g, state in zip(params, grads, self._states):
            chunk = CHUNK_BYTES // w.itemsize
            if w.size <= chunk or w.ndim != 1:
                self.update(w, g, *state)
            else:                                          # a flat array, in cache-sized slices (see above)
                for start in range(0, w.size, chunk):
                    part = slice(start, start + chunk)
                    self.update(w[part], g[part], *(a[part] for a in state))

    def update(self, w, g, *state):
        raise NotImplementedError

    def reset(self):
        """Forget all state (as if newly made)."""
        self.shapes = None     # the parameter shapes this optimizer's state belongs to
        self.t = 0             # number of steps taken
        self._checked = ([], [])
        for name in self.state:
            setattr(self, name, [])

    def _same_as_checked(self, params, grads):
        old_params, old_grads = self._checked
        return (self.shapes is not None and len(params) == len(old_params) and len(grads) == len(old_grads)
                and all(map(is_, params, old_params)) and all(map(is_, grads, old_grads)))

    def _check(self, params, grads):
        name = type(self).__name__
        if len(params) != len(grads):
            raise ValueError(f"{name}.step: got {len(params)} parameters but {len(grads)} gradients")
        for i, (w, g) in enumerate(zip(params, grads)):
            for what, a in (("parameter", w), ("gradient", g)):
                if not isinstance(a, np.ndarray):
                    raise TypeError(f"{name}.step: {what} {i} must be a numpy array, got {type(a).__name__}")
                if a.dtype.kind != "f":
                    raise TypeError(f"{name}.step: {what} {i} has dtype {a.dtype}; parameters and gradients "
                                    f"must be float arrays (an integer array cannot take a fractional step)")
            if w.shape != g.shape:
                raise ValueError(f"{name}.step: parameter {i} has shape {w.shape} but its gradient has shape {g.shape}")
        shapes = [w.shape for w in params]
        if self.shapes is None:
            self.shapes = shapes
            for state in self.state:
                setattr(self, state, [np.zeros_like(w) for w in params])
        elif shapes != self.shapes:
            raise ValueError(
                f"{name}.step: this optimizer was first used with parameter shapes {self.shapes}, "
                f"now got {shapes}; make a new optimizer for a different model"
            )
        self._checked = (params, grads)
        self._states = [[getattr(self, name)[i] for name in self.state] for i in range(len(params))]

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Plain gradient descent: w <- w - lr * g."""

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def update(self, w, g):
        w -= self.lr * g


class Momentum(Optimizer):
    """Gradient descent with momentum (PyTorch's form): v <- beta * v + g;  w <- w - lr * v."""

    state = ("v",)

    def __init__(self, lr=0.01, beta=0.9):
        super().__init__(lr)
        self.beta = check_number(beta, "Momentum: beta", low=0.0, high=1.0, high_open=True)

    def update(self, w, g, v):
        v *= self.beta                      # v = beta v + g  (in place: v is the optimizer's memory)
        v += g
        w -= self.lr * v

    def __repr__(self):
        return f"Momentum(lr={self.lr}, beta={self.beta})"


class AdaGrad(Optimizer):
    """AdaGrad: each parameter's step divided by the root of its summed squared gradients.

    s <- s + g^2;   w <- w - lr * g / (sqrt(s) + eps)

    A steep coordinate (large gradients) gets a small step, a flat one a large
    step: a learning rate per parameter. s only grows, so the steps shrink
    forever (like lr / sqrt(t) for a steady gradient).
    """

    state = ("s",)

    def __init__(self, lr=0.01, eps=1e-10):
        super().__init__(lr)
        self.eps = check_number(eps, "AdaGrad: eps", low=0.0)

    def update(self, w, g, s):
        s += np.square(g)                   # s = s + g^2  (in place: s is the optimizer's memory)
        w -= self.lr * g / (np.sqrt(s) + self.eps)

    def __repr__(self):
        return f"AdaGrad(lr={self.lr}, eps={self.eps})"


class RMSProp(Optimizer):
    """RMSProp: AdaGrad with a running average of g^2 instead of a sum, so steps do not die out.

    s <- beta s + (1 - beta) g^2;   w <- w - lr * g / (sqrt(s) + eps)
    """

    state = ("s",)

    def __init__(self, lr=0.01, beta=0.99, eps=1e-8):
        super().__init__(lr)
        self.beta = check_number(beta, "RMSProp: beta", low=0.0, high=1.0, high_open=True)
        self.eps = check_number(eps, "RMSProp: eps", low=0.0)

    def update(self, w, g, s):
        s *= self.beta                      # s = beta s + (1 - beta) g^2
        s += (1 - self.beta) * np.square(g)
        w -= self.lr * g / (np.sqrt(s) + self.eps)

    def __repr__(self):
        return f"RMSProp(lr={self.lr}, beta={self.beta}, eps={self.eps})"


class Adam(Optimizer):
    """Adam: a step size per parameter from running averages of g and g^2.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t);   v_hat = v / (1 - b2^t)      (t: the number of steps so far)
    w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    bias_correction=False drops the hats (m_hat = m, v_hat = v): the first steps
    are then (1 - b1) / sqrt(1 - b2) times too large (3.16x for the defaults),
    which chapter 8 shows.
    """

    state = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, *, bias_correction=True):
        super().__init__(lr)
        if not isinstance(bias_correction, bool):
            raise TypeError(f"Adam: bias_correction must be True or False, got {bias_correction!r}")
        self.bias_correction = bias_correction
        self.beta1 = check_number(beta1, "Adam: beta1", low=0.0, high=1.0, high_open=True)
        self.beta2 = check_number(beta2, "Adam: beta2", low=0.0, high=1.0, high_open=True)
        self.eps = check_number(eps, "Adam: eps", low=0.0)

    def update(self, w, g, m, v):
        b1, b2, lr, eps, t = self.beta1, self.beta2, self.lr, self.eps, self.t
        m *= b1                             # m = b1 m + (1 - b1) g  (in place: m and v are the memory)
        m += (1 - b1) * g
        v *= b2                             # v = b2 v + (1 - b2) g^2
        v += (1 - b2) * np.square(g)
        if self.bias_correction:
            m_hat = m / (1 - b1 ** t)
            v_hat = v / (1 - b2 ** t)
        else:                               # chapter 8: without the correction the first steps are off
            m_hat, v_hat = m, v
        w -= lr * m_hat / (np.sqrt(v_hat) + eps)

    def __repr__(self):
        extra = "" if self.bias_correction else ", bias_correction=False"
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps}{extra})"


_OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "rmsprop": RMSProp, "adam": Adam}


def get_optimizer(optimizer):
    """An Optimizer from an instance or a name ("sgd", "momentum", "adam") with default settings."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _OPTIMIZERS:
        return _OPTIMIZERS[optimizer.lower()]()
    raise ValueError(
        f"optimizer must be an Optimizer (SGD(lr), Momentum(lr, beta), Adam(lr)) or one of "
        f"{sorted(_OPTIMIZERS)}, got {optimizer!r}"
    )
