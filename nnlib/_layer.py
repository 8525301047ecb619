"""The Layer base class that every layer in nnlib derives from."""
from __future__ import annotations


class Layer:
    """A layer: ``forward(x, training=False)`` and ``backward(grad_out) -> grad_in``.

    ``params`` and ``grads`` map names to plain numpy arrays (empty for layers
    without parameters). ``need_input_grad`` may be set to False on a model's
    first layer: nobody needs dL/dx there, so backward can skip computing it.
    """

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
