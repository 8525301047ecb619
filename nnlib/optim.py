"""Optimizers: turn gradients into parameter updates.

``optimizer.step(params, grads)`` takes two parallel lists of arrays (as given by
``model.parameters()`` and ``model.gradients()``) and updates every parameter in
place. Optimizers with memory (Momentum, Adam) keep one state array per
parameter, matched by position, across calls.

The update rules and defaults are the standard ones (as in PyTorch's ``SGD``,
``SGD(momentum=...)`` and ``Adam``).

Speed: each rule is written once, with in-place numpy operations, for one
parameter array. When the parameters are consecutive pieces of one flat array
(``Sequential`` lays a model out that way) the same rule runs once on the whole
flat array instead of once per parameter: a handful of numpy calls per step,
whatever the number of layers. The state arrays (``optimizer.v``, ``optimizer.m``)
are always per-parameter views into one flat array, so both ways share them.
``np.multiply(g, lr, out=tmp)`` is ``lr * g`` written into the scratch array
``tmp`` instead of a new array: a step allocates no memory.
"""
from __future__ import annotations

import math
from operator import is_

import numpy as np

from ._validate import check_number

__all__ = ["Optimizer", "SGD", "Momentum", "AdaGrad", "RMSProp", "Adam", "get_optimizer"]


class Optimizer:
    """Base class: checks the lists, then updates the parameters with _update.

    A subclass names its state arrays in ``state`` (e.g. ``("m", "v")``) and
    writes ``_update(p, g, *state, tmp)`` for one array: ``tmp`` is scratch
    space shaped like ``p``.
    """

    state = ()

    def __init__(self, lr):
        self.lr = check_number(lr, f"{type(self).__name__}: lr", low=0.0, low_open=True)
        self.shapes = None     # the parameter shapes this optimizer's state belongs to
        self.t = 0             # number of steps taken
        self._checked = None   # (params, grads) last checked: the same arrays need no new check

    def step(self, params, grads):
        params, grads = list(params), list(grads)
        if not self._same_as_checked(params, grads):
            self._check(params, grads)
        self.t += 1
        if self._flat is not None:             # the whole model in one go
            self._update(*self._flat)
        else:                                  # one parameter at a time
            for i, (p, g) in enumerate(zip(params, grads)):
                self._update(p, g, *(getattr(self, name)[i] for name in self.state), self._tmp[i])

    def _same_as_checked(self, params, grads):
        if self._checked is None:
            return False
        old_params, old_grads = self._checked
        return (len(params) == len(old_params) and all(map(is_, params, old_params))
                and all(map(is_, grads, old_grads)))

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
        flat_p, flat_g, tmp = _flat_array(params), _flat_array(grads), self._flat_tmp
        self._flat = None
        if (flat_p is not None and flat_g is not None and tmp is not None
                and flat_p.dtype == flat_g.dtype == tmp.dtype and flat_p.size == flat_g.size == tmp.size):
            self._flat = (flat_p, flat_g, *(self._flat_state[name] for name in self.state), tmp)
        self._checked = (params, grads)

    def _init_state(self, params):
        """Zeroed state arrays and scratch space, one per parameter.

        With one dtype they are views into flat arrays, ready for the one-go update.
        """
        self._flat_state, self._flat_tmp = None, None
        if len({p.dtype for p in params}) == 1:
            size, dtype = sum(p.size for p in params), params[0].dtype
            self._flat_state = {name: np.zeros(size, dtype) for name in self.state}
            self._flat_tmp = np.zeros(size, dtype)
            for name in self.state:
                setattr(self, name, _split(self._flat_state[name], params))
            self._tmp = _split(self._flat_tmp, params)
        else:
            for name in self.state:
                setattr(self, name, [np.zeros_like(p) for p in params])
            self._tmp = [np.zeros_like(p) for p in params]

    def _update(self, p, g, *state_and_tmp):
        raise NotImplementedError

    def reset(self):
        """Forget all state (as if newly made)."""
        self.shapes = None
        self.t = 0
        self._checked = None

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


def _split(flat, params):
    """Views into flat, one per parameter, shaped like it."""
    views, start = [], 0
    for p in params:
        views.append(flat[start:start + p.size].reshape(p.shape))
        start += p.size
    return views


def _flat_array(arrays):
    """The 1-D array whose consecutive pieces the arrays are, in order, or None."""
    base = arrays[0].base if arrays else None
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    address = base.__array_interface__["data"][0]
    for a in arrays:
        if (a.base is not base or a.dtype != base.dtype or not a.flags.c_contiguous
                or a.__array_interface__["data"][0] != address):
            return None
        address += a.nbytes
    return base if address == base.__array_interface__["data"][0] + base.nbytes else None


class SGD(Optimizer):
    """Plain gradient descent: p <- p - lr * g."""

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def _update(self, p, g, tmp):
        p -= np.multiply(g, self.lr, out=tmp)                 # p <- p - lr g


class Momentum(Optimizer):
    """Gradient descent with momentum (PyTorch's form):
    v <- beta * v + g;  p <- p - lr * v.
    """

    state = ("v",)

    def __init__(self, lr=0.01, beta=0.9):
        super().__init__(lr)
        self.beta = check_number(beta, "Momentum: beta", low=0.0, high=1.0, high_open=True)

    def _update(self, p, g, v, tmp):
        v *= self.beta
        v += g                                                # v <- beta v + g
        p -= np.multiply(v, self.lr, out=tmp)                 # p <- p - lr v

    def __repr__(self):
        return f"Momentum(lr={self.lr}, beta={self.beta})"


class AdaGrad(Optimizer):
    """AdaGrad: each parameter's step divided by the root of its summed squared gradients.

    s <- s + g^2;   p <- p - lr * g / (sqrt(s) + eps)

    A steep coordinate (large gradients) gets a small step, a flat one a large
    step: a learning rate per parameter. s only grows, so the steps shrink
    forever (like lr / sqrt(t) for a steady gradient).
    """

    state = ("s",)

    def __init__(self, lr=0.01, eps=1e-10):
        super().__init__(lr)
        self.eps = check_number(eps, "AdaGrad: eps", low=0.0)

    def _update(self, p, g, s, tmp):
        s += np.square(g, out=tmp)                            # s <- s + g^2
        denom = np.sqrt(s, out=tmp)
        denom += self.eps
        p -= np.multiply(np.divide(g, denom, out=tmp), self.lr, out=tmp)   # p <- p - lr g / (sqrt(s) + eps)

    def __repr__(self):
        return f"AdaGrad(lr={self.lr}, eps={self.eps})"


class RMSProp(Optimizer):
    """RMSProp: AdaGrad with a running average of g^2 instead of a sum, so steps do not die out.

    s <- beta s + (1 - beta) g^2;   p <- p - lr * g / (sqrt(s) + eps)
    """

    state = ("s",)

    def __init__(self, lr=0.01, beta=0.99, eps=1e-8):
        super().__init__(lr)
        self.beta = check_number(beta, "RMSProp: beta", low=0.0, high=1.0, high_open=True)
        self.eps = check_number(eps, "RMSProp: eps", low=0.0)

    def _update(self, p, g, s, tmp):
        s *= self.beta
        s += np.multiply(np.square(g, out=tmp), 1 - self.beta, out=tmp)   # s <- beta s + (1 - beta) g^2
        denom = np.sqrt(s, out=tmp)
        denom += self.eps
        p -= np.multiply(np.divide(g, denom, out=tmp), self.lr, out=tmp)   # p <- p - lr g / (sqrt(s) + eps)

    def __repr__(self):
        return f"RMSProp(lr={self.lr}, beta={self.beta}, eps={self.eps})"


class Adam(Optimizer):
    """Adam: a step size per parameter from running averages of g and g^2.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t);   v_hat = v / (1 - b2^t)
    p <- p - lr * m_hat / (sqrt(v_hat) + eps)

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

    def _update(self, p, g, m, v, tmp):
        b1, b2 = self.beta1, self.beta2
        m *= b1
        m += np.multiply(g, 1 - b1, out=tmp)                  # m <- b1 m + (1 - b1) g
        v *= b2
        v += np.multiply(np.square(g, out=tmp), 1 - b2, out=tmp)   # v <- b2 v + (1 - b2) g^2
        # lr * m_hat / (sqrt(v_hat) + eps), the bias corrections moved into two numbers:
        # = lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps * sqrt(1 - b2^t))
        c1, c2 = (1 - b1 ** self.t, math.sqrt(1 - b2 ** self.t)) if self.bias_correction else (1.0, 1.0)
        denom = np.sqrt(v, out=tmp)
        denom += self.eps * c2
        p -= np.multiply(np.divide(m, denom, out=tmp), self.lr * c2 / c1, out=tmp)

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
