"""Self-checks for exercise 10, the convolutional layer."""
from __future__ import annotations

import numpy as np

from nnlib.conv import Conv2D, conv_output_size
from nnlib.data import bars
from nnlib.gradcheck import numerical_gradient
from . import check, expect, expect_callable, expect_close


def _reference_conv(image, kernel, padding=0):
    layer = Conv2D(1, 1, kernel.shape[0], bias=False, padding=padding)
    layer.W[0, 0] = kernel
    return layer.forward(image[None, None].astype(float))[0, 0]


@check("output_size")
def output_size(fn):
    expect_callable(fn, "output_size")
    cases = [(8, 3, 1, 0), (8, 3, 2, 0), (7, 3, 2, 1), (5, 5, 1, 2), (28, 5, 1, 0), (10, 4, 3, 1)]
    for size, k, s, p in cases:
        got = fn(size, k, s, p)
        expected = conv_output_size(size, k, s, p)
        expect(isinstance(got, (int, np.integer)) or float(got).is_integer(),
               f"output_size({size}, {k}, {s}, {p}) returned {got!r}: a size is a whole number (use //).")
        expect(int(got) == expected, f"output_size(size={size}, k={k}, stride={s}, padding={p}) is {got}, expected {expected}.")
    return f"all {len(cases)} cases right."


@check("conv2d")
def conv2d(fn):
    expect_callable(fn, "conv2d")
    rng = np.random.default_rng(1001)
    for image_shape, k in [((4, 4), 2), ((6, 5), 3), ((3, 3), 3)]:
        image, kernel = rng.standard_normal(image_shape), rng.standard_normal((k, k))
        got = fn(image.copy(), kernel.copy())
        expected = _reference_conv(image, kernel)
        flipped = _reference_conv(image, kernel[::-1, ::-1])
        if got is not None and np.shape(got) == expected.shape and np.allclose(got, flipped) and not np.allclose(got, expected):
            expect(False, "your output is the convolution with the kernel flipped; here, as in deep learning "
                          "libraries, the kernel is laid on the image as it is: out[i, j] = sum K[u, v] x[i+u, j+v].")
        expect_close(got, expected, f"for a {image_shape} image and a {k}x{k} kernel, your output map")
    return "matches Conv2D on three images."


@check("vertical_kernel")
def vertical_kernel(fn):
    expect_callable(fn, "vertical_kernel")
    kernel = np.asarray(fn(), dtype=float)
    expect(kernel.shape == (3, 3), f"vertical_kernel() should return a 3x3 array, got shape {kernel.shape}.")
    X, y = bars(200, noise=0.2, seed=1002)
    # padding 1 lets the kernel's centre sit on the border pixels too
    response = np.array([_reference_conv(img[0], kernel, padding=1).max() for img in X])
    vertical, horizontal = response[y == 1], response[y == 0]
    threshold = (np.median(vertical) + np.median(horizontal)) / 2
    acc = np.mean((response > threshold) == (y == 1))
    expect(np.median(vertical) > np.median(horizontal),
           f"the strongest response of your kernel is on average {np.median(horizontal):.2f} on horizontal bars and "
           f"{np.median(vertical):.2f} on vertical ones: it should respond more to vertical bars.")
    expect(acc >= 0.9, f"thresholding your kernel's strongest response separates only {acc:.0%} of the bars "
                       "(need 90%); make it respond to a vertical line and not to a horizontal one.")
    return f"its strongest response alone tells {acc:.0%} of vertical from horizontal bars."


@check("kernel_gradient")
def kernel_gradient(fn):
    expect_callable(fn, "kernel_gradient")
    rng = np.random.default_rng(1003)
    image, kernel = rng.standard_normal((6, 5)), rng.standard_normal((3, 3))
    grad_out = rng.standard_normal((4, 3))
    got = fn(image.copy(), grad_out.copy(), 3)

    def loss():
        return float(np.sum(_reference_conv(image, kernel) * grad_out))

    expected = numerical_gradient(loss, kernel)
    if got is not None and np.shape(got) == expected.shape and np.allclose(got, expected[::-1, ::-1], atol=1e-6, rtol=1e-4) \
            and not np.allclose(got, expected, atol=1e-6, rtol=1e-4):
        expect(False, "your kernel gradient is flipped (upside down and left to right): dL/dK[u, v] pairs G[i, j] "
                      "with x[i + u, j + v], the same window the forward pass used for K[u, v].")
    expect_close(got, expected, "your kernel gradient dL/dK (compared with the numerical gradient)", atol=1e-6, rtol=1e-4)
    return "dL/dK agrees with the numerical gradient."
