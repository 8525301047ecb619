"""A convolutional layer: one small window of weights slid over the whole image.

A Dense layer gives every (input pixel, output unit) pair its own weight. A
convolution uses one small kernel of k x k weights per (input channel, output
channel) pair and applies it at every position: the same weights everywhere
(weight sharing), each output looking only at a k x k patch (locality).

Shapes follow PyTorch: images are (batch, channels, height, width) and the
weights W are (out_channels, in_channels, k, k).

The implementation gathers every k x k patch into one row of a matrix ("im2col")
so that the whole layer is a single matrix product, exactly like Dense:

    out[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * x[n, c, i*s + u, j*s + v]

(what deep-learning libraries call convolution is, strictly, cross-correlation:
the kernel is not flipped).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._layer import Layer, param_property
from ._validate import check_dtype, check_positive_int
from .layers import init_weights

__all__ = ["Conv2D", "Flatten", "GlobalAvgPool2D", "conv_output_size"]


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """Output length along one axis: floor((size + 2 padding - kernel) / stride) + 1."""
    return (size + 2 * padding - kernel_size) // stride + 1


class Conv2D(Layer):
    """2-D convolution: (batch, in_channels, H, W) -> (batch, out_channels, H', W')."""

    W = param_property("W", "The kernels, shape (out_channels, in_channels, k, k): params['W'].")
    b = param_property("b", "The biases, shape (out_channels,): params['b'] (None with bias=False).")

    def __init__(self, in_channels, out_channels, kernel_size, *, stride=1, padding=0, bias=True,
                 init="he", rng=None, dtype=np.float64):
        super().__init__()
        self.init, self.rng_default = init, rng is None
        self.in_channels = check_positive_int(in_channels, "Conv2D: in_channels")
        self.out_channels = check_positive_int(out_channels, "Conv2D: out_channels")
        self.kernel_size = check_positive_int(kernel_size, "Conv2D: kernel_size")
        self.stride = check_positive_int(stride, "Conv2D: stride")
        self.padding = check_positive_int(padding, "Conv2D: padding", minimum=0)
        self.use_bias = bool(bias)
        self.dtype = check_dtype(dtype, "Conv2D")
        k = self.kernel_size
        fan_in = self.in_channels * k * k
        # initialise as the (fan_in, out) matrix a Dense layer would have, then fold into kernels
        W = init_weights((fan_in, self.out_channels), init, rng, self.dtype)
        self.params["W"] = np.ascontiguousarray(W.T.reshape(self.out_channels, self.in_channels, k, k))
        self.grads["W"] = np.zeros_like(self.params["W"])
        if self.use_bias:
            self.params["b"] = np.zeros(self.out_channels, dtype=self.dtype)
            self.grads["b"] = np.zeros(self.out_channels, dtype=self.dtype)
        self.cols = None

    def _reseed(self, rng):
        """Draw the initial weights again from rng, if they are still those of seed 0 (see Sequential)."""
        k, fan_in = self.kernel_size, self.in_channels * self.kernel_size ** 2
        fold = lambda W: W.T.reshape(self.out_channels, self.in_channels, k, k)
        if np.array_equal(self.W, fold(init_weights((fan_in, self.out_channels), self.init, 0, self.dtype))):
            self.W = fold(init_weights((fan_in, self.out_channels), self.init, rng, self.dtype))

    def forward(self, x, training=False):
        self._check_input(x)
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[0] == 0:
            raise ValueError(f"{self!r} got input of shape {x.shape}: "
                             f"expected (batch, {self.in_channels}, height, width) with batch >= 1")
        k, s, p = self.kernel_size, self.stride, self.padding
        if x.shape[2] + 2 * p < k or x.shape[3] + 2 * p < k:
            raise ValueError(f"{self!r}: a {k}x{k} kernel does not fit an image of {x.shape[2]}x{x.shape[3]} "
                             f"with padding {p}")
        x = x.astype(self.dtype, copy=False)
        if p:
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        n = x.shape[0]
        self.padded_shape = x.shape
        patches = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]   # (n, C, H', W', k, k)
        self.out_hw = patches.shape[2:4]
        # im2col: one row per output position, holding its C*k*k inputs
        self.cols = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * self.out_hw[0] * self.out_hw[1], -1)
        out = self.cols @ self.params["W"].reshape(self.out_channels, -1).T     # (n*H'*W', out_channels)
        if self.use_bias:
            out += self.params["b"]
        return out.reshape(n, *self.out_hw, self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, grad_out):
        n = self.padded_shape[0] if self.cols is not None else None
        self._check_grad(grad_out, None if self.cols is None else (n, self.out_channels, *self.out_hw))
        k, s, p = self.kernel_size, self.stride, self.padding
        g = grad_out.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)       # one row per output position
        self.grads["W"][...] = (g.T @ self.cols).reshape(self.params["W"].shape)  # dL/dW = sum over positions
        if self.use_bias:
            self.grads["b"][...] = g.sum(axis=0)                                  # dL/db = sum of dL/dout
        if not self.need_input_grad:
            return None
        dcols = (g @ self.params["W"].reshape(self.out_channels, -1))            # dL/d(patch rows)
        dcols = dcols.reshape(n, *self.out_hw, self.in_channels, k, k)
        dx = np.zeros(self.padded_shape, dtype=dcols.dtype)
        ho, wo = self.out_hw
        for u in range(k):              # col2im: add each patch gradient back to the pixels it came from
            for v in range(k):
                dx[:, :, u:u + s * ho:s, v:v + s * wo:s] += dcols[:, :, :, :, u, v].transpose(0, 3, 1, 2)
        if p:
            dx = dx[:, :, p:-p, p:-p]
        return dx

    def __repr__(self):
        extra = (f", stride={self.stride}" if self.stride != 1 else "") + (f", padding={self.padding}" if self.padding else "")
        return f"Conv2D({self.in_channels} -> {self.out_channels}, {self.kernel_size}x{self.kernel_size}{extra})"


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...), to pass feature maps to a Dense layer."""

    shape = None

    def forward(self, x, training=False):
        self._check_input(x)
        if x.ndim < 2:
            raise ValueError(f"Flatten got input of shape {x.shape}: expected (batch, d1, d2, ...)")
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out):
        self._check_grad(grad_out, None if self.shape is None else (self.shape[0], int(np.prod(self.shape[1:]))))
        return grad_out.reshape(self.shape)


class GlobalAvgPool2D(Layer):
    """(batch, channels, H, W) -> (batch, channels): the mean of each feature map.

    Where in the image a pattern was found no longer matters, only how strongly.
    """

    shape = None

    def forward(self, x, training=False):
        self._check_input(x, 4, want="(batch, channels, height, width)")
        self.shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, grad_out):
        self._check_grad(grad_out, None if self.shape is None else self.shape[:2])
        n, c, h, w = self.shape
        # each pixel contributed 1 / (h w) of its map's mean
        return np.broadcast_to(grad_out[:, :, None, None] / (h * w), self.shape).copy()
