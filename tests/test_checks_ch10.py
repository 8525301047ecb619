"""Exercise 10's checks explain typical mistakes."""
import numpy as np
import pytest

from nncourse.checks import ch10


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def test_true_division_in_output_size_is_caught():
    r = ch10.output_size(lambda size, k, s, p: (size + 2 * p - k) / s + 1)
    assert r.status == "failed" and "whole number" in r.message


def test_flipped_kernel_is_explained():
    def conv(image, kernel):
        k = kernel.shape[0]
        kernel = kernel[::-1, ::-1]
        H, W = image.shape
        return np.array([[np.sum(image[i:i + k, j:j + k] * kernel) for j in range(W - k + 1)] for i in range(H - k + 1)])
    r = ch10.conv2d(conv)
    assert r.status == "failed" and "flipped" in r.message


def test_horizontal_kernel_is_rejected_with_numbers():
    r = ch10.vertical_kernel(lambda: np.array([[-1.0, 2.0, -1.0]] * 3).T / 3)
    assert r.status == "failed" and "respond more to vertical bars" in r.message


def test_wrong_gradient_is_compared_with_numerical():
    r = ch10.kernel_gradient(lambda image, g, k: np.ones((k, k)))
    assert r.status == "failed" and "numerical gradient" in r.message


def test_flipped_kernel_gradient_is_explained():
    def grad(image, grad_out, k):
        ho, wo = grad_out.shape
        g = np.array([[np.sum(grad_out * image[u:u + ho, v:v + wo]) for v in range(k)] for u in range(k)])
        return g[::-1, ::-1]
    r = ch10.kernel_gradient(grad)
    assert r.status == "failed" and "flipped" in r.message
