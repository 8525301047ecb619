"""Optimizers: turn gradients into parameter updates.

``optimizer.step(params, grads)`` takes two parallel lists of arrays (as given by
``model.parameters()`` and ``model.gradients()``) and updates every parameter in
place. Optimizers with memory (Momentum, Adam) keep one state array per
parameter, matched by position, across calls.

The update rules and defaults are the standard ones (as in PyTorch's ``SGD``,
``SGD(momentum=...)`` and ``Adam``).
"""
from __future__ import annotations

import numpy as np

from ._validate import check_number

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "get_optimizer"]


class Optimizer:
    """Base class: checks the lists, then updates each parameter with _update."""

    def __init__(self, lr):
        self.lr = check_number(lr, f"{type(self).__name__}: lr", low=0.0, low_open=True)
        self.shapes = None     # the parameter shapes this optimizer's state belongs to
        self.t = 0             # number of steps taken

    def step(self, params, grads):
        params, grads = list(params), list(grads)
        self._check(params, grads)
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            self._update(i, p, g)

    def _check(self, params, grads):
        name = type(self).__name__
        if len(params) != len(grads):
            raise ValueError(f"{name}.step: got {len(params)} parameters but {len(grads)} gradients")
        for i, (p, g) in enumerate(zip(params, grads)):
            if not isinstance(p, np.ndarray) or not isinstance(g, np.ndarray):
                raise TypeError(f"{name}.step: parameter {i} and its gradient must be numpy arrays")
            if p.shape != g.shape:
                raise ValueError(f"{name}.step: parameter {i} has shape {p.shape} but its gradient has shape {g.shape}")
        shapes = [p.shape for p in params]
        if self.shapes is None:
            self.shapes = shapes
            self._init_state(params)
        elif shapes != self.shapes:
            raise ValueError(
                f"{name}.step: this optimizer was first used with parameter shapes {self.shapes}, "
                f"now got {shapes}; make a new optimizer for a different model"
            )

    def _init_state(self, params):
        pass

    def _update(self, i, p, g):
        raise NotImplementedError

    def reset(self):
        """Forget all state (as if newly made)."""
        self.shapes = None
        self.t = 0

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Plain gradient descent: p <- p - lr * g."""

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def _update(self, i, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """Gradient descent with momentum (PyTorch's form):
    v <- beta * v + g;  p <- p - lr * v.
    """

    def __init__(self, lr=0.01, beta=0.9):
        super().__init__(lr)
        self.beta = check_number(beta, "Momentum: beta", low=0.0, high=1.0, high_open=True)

    def _init_state(self, params):
        self.v = [np.zeros_like(p) for p in params]

    def _update(self, i, p, g):
        v = self.v[i]
        v *= self.beta
        v += g
        p -= self.lr * v

    def __repr__(self):
        return f"Momentum(lr={self.lr}, beta={self.beta})"


class Adam(Optimizer):
    """Adam: a step size per parameter from running averages of g and g^2.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t);   v_hat = v / (1 - b2^t)
    p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = check_number(beta1, "Adam: beta1", low=0.0, high=1.0, high_open=True)
        self.beta2 = check_number(beta2, "Adam: beta2", low=0.0, high=1.0, high_open=True)
        self.eps = check_number(eps, "Adam: eps", low=0.0)

    def _init_state(self, params):
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def _update(self, i, p, g):
        m, v = self.m[i], self.v[i]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * (g * g)
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"


_OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


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
