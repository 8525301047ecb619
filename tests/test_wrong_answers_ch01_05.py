"""A catalogue of wrong answers for every graded question of exercises 01-05 (issue 15).

Each entry is an answer cell a learner could plausibly write, with the typical mistake it
makes (missing factor, wrong axis, transposed, sign, off-by-one, shape, unstable numerics,
skipped step) and a fragment of the message the check must give for it. Every entry is run

* through the self-check, as the learner runs it (the solution's other answers, the
  exercise's check cell): it must get ❌ with a message naming the mistake;
* through the grader (``nncourse.grading.grade``): it must score 0 on that question,
  with the same message. To keep grading time small, submission k of a chapter carries
  the k-th wrong answer of every question at once (the wrong answers are written so that
  they do not depend on each other's mistakes).

``pytest -k wrong_answer`` selects these tests.
"""
from __future__ import annotations

import contextlib
import io
import json
import textwrap

import pytest

from conftest import ROOT
from nncourse import checks, release
from nncourse.grading import grade


def _w(text):
    return textwrap.dedent(text).strip("\n") + "\n"


# {chapter: {question: [(mistake, answer cell source, message fragment), ...]}}
CATALOGUE: dict[str, dict[str, list[tuple[str, str, str]]]] = {}

CATALOGUE["01_linear_model"] = {
    "predict": [
        ("missing_bias", _w("""
            def predict(X, w, b):
                return X @ w
            """), "add the bias"),
        ("summed_over_the_whole_batch", _w("""
            def predict(X, w, b):
                return np.sum(X * w) + b
            """), "you summed over the whole batch"),
        ("column_shape", _w("""
            def predict(X, w, b):
                return (X @ w + b)[:, None]
            """), "a column: return a flat array"),
        ("wrong_axis", _w("""
            def predict(X, w, b):
                return np.sum(X * w, axis=0) + b
            """), "you summed over the examples (axis 0)"),
    ],
    "predicted_refit": [
        ("multiplied_instead_of_divided", _w("""
            def predicted_refit():
                return 2 * 1.8, 3 - 2 * 32 / 1.8
            """), "you multiplied by 1.8"),
        ("offset_unchanged", _w("""
            def predicted_refit():
                return 2 / 1.8, 3.0
            """), "b = 3 is unchanged"),
        ("shift_not_scaled", _w("""
            def predicted_refit():
                return 2 / 1.8, 3 - 32
            """), "subtracts 32 itself"),
        ("shift_sign", _w("""
            def predicted_refit():
                return 2 / 1.8, 3 + 2 * 32 / 1.8
            """), "the shift with the wrong sign"),
        ("one_number", _w("""
            def predicted_refit():
                return 1.111
            """), "should return 2 values"),
    ],
    "ridge_gradients": [
        ("penalty_forgotten", _w("""
            def ridge_gradients(X, y, w, b, lam):
                e = X @ w + b - y
                return 2 / len(y) * X.T @ e, 2 / len(y) * e.sum()
            """), "the gradient of the mean squared error alone"),
        ("penalty_missing_factor_2", _w("""
            def ridge_gradients(X, y, w, b, lam):
                e = X @ w + b - y
                return 2 / len(y) * X.T @ e + lam * w, 2 / len(y) * e.sum()
            """), "a factor 2 is missing"),
        ("bias_penalised", _w("""
            def ridge_gradients(X, y, w, b, lam):
                e = X @ w + b - y
                return 2 / len(y) * X.T @ e + 2 * lam * w, 2 / len(y) * e.sum() + 2 * lam * b
            """), "the bias is not penalised"),
        ("extra_one_over_n", _w("""
            def ridge_gradients(X, y, w, b, lam):
                n = len(y)
                e = X @ w + b - y
                return 2 / n / n * X.T @ e + 2 * lam * w, 2 / n / n * e.sum()
            """), "an extra 1/N"),
        ("penalty_divided_by_n", _w("""
            def ridge_gradients(X, y, w, b, lam):
                n = len(y)
                e = X @ w + b - y
                return 2 / n * X.T @ e + 2 * lam * w / n, 2 / n * e.sum()
            """), "the penalty is not a mean over the examples"),
        ("error_sign_flipped", _w("""
            def ridge_gradients(X, y, w, b, lam):
                e = y - (X @ w + b)
                return 2 / len(y) * X.T @ e + 2 * lam * w, 2 / len(y) * e.sum()
            """), "the wrong sign"),
        ("transposed", _w("""
            def ridge_gradients(X, y, w, b, lam):
                e = X @ w + b - y
                return 2 / len(y) * X @ X.T @ e, 2 / len(y) * e.sum()
            """), "one entry per weight"),
    ],
    "fit_linear": [
        ("bias_never_updated", _w("""
            def fit_linear(X, y, lr=0.1, steps=500, lam=0.0):
                w = np.zeros(X.shape[1])
                b = 0.0
                for _ in range(steps):
                    e = X @ w + b - y
                    w = w - lr * (2 / len(y) * X.T @ e + 2 * lam * w)
                return w, b
            """), "never moved from 0"),
        ("uphill", _w("""
            def fit_linear(X, y, lr=0.1, steps=500, lam=0.0):
                w = np.zeros(X.shape[1])
                b = 0.0
                for _ in range(steps):
                    e = X @ w + b - y
                    w = w + lr * (2 / len(y) * X.T @ e + 2 * lam * w)
                    b = b + lr * 2 / len(y) * e.sum()
                return w, b
            """), "you step uphill"),
        ("off_by_one", _w("""
            def fit_linear(X, y, lr=0.1, steps=500, lam=0.0):
                w = np.zeros(X.shape[1])
                b = 0.0
                for _ in range(steps - 1):
                    e = X @ w + b - y
                    w = w - lr * (2 / len(y) * X.T @ e + 2 * lam * w)
                    b = b - lr * 2 / len(y) * e.sum()
                return w, b
            """), "off by one"),
        ("lam_ignored", _w("""
            def fit_linear(X, y, lr=0.1, steps=500, lam=0.0):
                w = np.zeros(X.shape[1])
                b = 0.0
                for _ in range(steps):
                    e = X @ w + b - y
                    w = w - lr * (2 / len(y) * X.T @ e)
                    b = b - lr * 2 / len(y) * e.sum()
                return w, b
            """), "ignores lam"),
        ("never_updates", _w("""
            def fit_linear(X, y, lr=0.1, steps=500, lam=0.0):
                w = np.zeros(X.shape[1])
                b = 0.0
                for _ in range(steps):
                    e = X @ w + b - y
                    dw, db = 2 / len(y) * X.T @ e + 2 * lam * w, 2 / len(y) * e.sum()
                return w, b
            """), "never changes them"),
    ],
}


CATALOGUE["02_hidden_layers"] = {
    "dense_forward": [
        ("missing_bias", _w("""
            def dense_forward(X, W, b):
                return X @ W
            """), "the bias is missing"),
        ("transposed", _w("""
            def dense_forward(X, W, b):
                return W.T @ X.T + b[:, None]
            """), "not W.T @ X.T"),
        ("one_bias_for_all", _w("""
            def dense_forward(X, W, b):
                return X @ W + b[0]
            """), "each neuron j has its own bias"),
        ("a_crash_is_reported", _w("""
            def dense_forward(X, W, b):
                return X * W + b
            """), "your code raised ValueError"),
    ],
    "two_layer_forward": [
        ("activation_ignored", _w("""
            def two_layer_forward(X, W1, b1, W2, b2, activation="none"):
                return (X @ W1 + b1) @ W2 + b2
            """), "same output as without an activation"),
        ("activation_on_output", _w("""
            def two_layer_forward(X, W1, b1, W2, b2, activation="none"):
                f = {"none": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[activation]
                return f(f(X @ W1 + b1) @ W2 + b2)
            """), "the output went through the activation too"),
        ("b1_outside", _w("""
            def two_layer_forward(X, W1, b1, W2, b2, activation="none"):
                f = {"none": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[activation]
                return f(X @ W1) @ W2 + b2 + (b1 @ W2 if activation == "none" else 0)
            """), "the first bias b1 is missing inside the activation"),
        ("names_swapped", _w("""
            def two_layer_forward(X, W1, b1, W2, b2, activation="none"):
                f = {"none": lambda z: z, "tanh": lambda z: np.maximum(z, 0), "relu": np.tanh}[activation]
                return f(X @ W1 + b1) @ W2 + b2
            """), "applies tanh, not relu"),
        ("b2_missing", _w("""
            def two_layer_forward(X, W1, b1, W2, b2, activation="none"):
                f = {"none": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[activation]
                return f(X @ W1 + b1) @ W2 + (b2 if activation == "none" else 0)
            """), "the second layer's bias b2 is missing"),
    ],
    "fold_standardization": [
        ("bias_unchanged", _w("""
            def fold_standardization(mu, sigma, W, b):
                return W / sigma[:, None], b
            """), "b_new is b unchanged"),
        ("shift_not_divided", _w("""
            def fold_standardization(mu, sigma, W, b):
                return W / sigma[:, None], b - mu @ W
            """), "forgets that mu was divided by sigma"),
        ("columns_instead_of_rows", _w("""
            def fold_standardization(mu, sigma, W, b):
                return W / sigma, b - (mu / sigma) @ W
            """), "divides each column by a sigma"),
        ("multiplied", _w("""
            def fold_standardization(mu, sigma, W, b):
                return W * sigma[:, None], b - (mu * sigma) @ W
            """), "multiplies each row by sigma"),
        ("shift_sign", _w("""
            def fold_standardization(mu, sigma, W, b):
                return W / sigma[:, None], b + (mu / sigma) @ W
            """), "the shift with the wrong sign"),
        ("weights_unchanged", _w("""
            def fold_standardization(mu, sigma, W, b):
                return W, b - (mu / sigma) @ W
            """), "W_new is W unchanged"),
    ],
    "count_parameters": [
        ("weights_only", _w("""
            def count_parameters(layer_sizes):
                return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
            """), "counts the weights only"),
        ("bias_on_inputs", _w("""
            def count_parameters(layer_sizes):
                return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])) + layer_sizes[0]
            """), "the input layer has no bias"),
        ("last_layer_skipped", _w("""
            def count_parameters(layer_sizes):
                return sum(layer_sizes[i] * layer_sizes[i + 1] + layer_sizes[i + 1] for i in range(len(layer_sizes) - 2))
            """), "the last layer"),
        ("one_bias_per_layer", _w("""
            def count_parameters(layer_sizes):
                return sum(a * b + 1 for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
            """), "one bias per layer"),
    ],
    "xor_prediction": [
        ("depth_without_activation", _w("""
            def xor_prediction():
                return "BCD"
            """), "B has three layers but no activation"),
        ("only_relu", _w("""
            def xor_prediction():
                return "C"
            """), "not ReLU in particular"),
        ("linear_model", _w("""
            def xor_prediction():
                return ["A", "C", "D"]
            """), "A is a linear model"),
        ("none", _w("""
            def xor_prediction():
                return ""
            """), "a hidden layer with a nonlinear activation"),
        ("not_letters", _w("""
            def xor_prediction():
                return 3
            """), "a string of letters"),
    ],
}


CATALOGUE["03_activation_functions"] = {
    "silu_slope": [
        ("product_rule_half", _w("""
            def silu_slope(z):
                return 1 / (1 + np.exp(-z))
            """), "the product rule gives two terms"),
        ("other_half", _w("""
            def silu_slope(z):
                s = 1 / (1 + np.exp(-z))
                return z * s * (1 - s)
            """), "the product rule also gives the term"),
        ("sigmoid_squared", _w("""
            def silu_slope(z):
                s = 1 / (1 + np.exp(-z))
                return s + z * s * s
            """), "you wrote sigmoid(z)^2"),
        ("overflow", _w("""
            def silu_slope(z):
                s = np.exp(z) / (1 + np.exp(z))
                return s + z * s * (1 - s)
            """), "overflows"),
        ("the_function_itself", _w("""
            def silu_slope(z):
                return z / (1 + np.exp(-z))
            """), "that is SiLU itself"),
    ],
    "softplus": [
        ("overflow", _w("""
            def softplus(z):
                return np.log(1 + np.exp(z)), 1 / (1 + np.exp(-z))
            """), "overflows"),
        ("log_term_missing", _w("""
            def softplus(z):
                return np.maximum(z, 0), 1 / (1 + np.exp(-z))
            """), "the log term"),
        ("slope_sign", _w("""
            def softplus(z):
                return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))), 1 / (1 + np.exp(z))
            """), "the exponent's sign flipped"),
        ("slope_overflow", _w("""
            def softplus(z):
                return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))), np.exp(z) / (1 + np.exp(z))
            """), "inf / inf"),
        ("slope_is_the_value", _w("""
            def softplus(z):
                v = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
                return v, v
            """), "your slope is softplus itself"),
        ("relu_slope", _w("""
            def softplus(z):
                return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))), (z > 0).astype(float)
            """), "that is relu's slope"),
    ],
    "circle_features": [
        ("xor_cross", _w("""
            def circle_features(X):
                return np.column_stack([X, X[:, 0] * X[:, 1]])
            """), "XOR's cross"),
        ("one_coordinate", _w("""
            def circle_features(X):
                return np.column_stack([X, X[:, 0] ** 2])
            """), "a square of one coordinate"),
        ("linear_combination", _w("""
            def circle_features(X):
                return np.column_stack([X, X[:, 0] + X[:, 1]])
            """), "a weighted sum of x1 and x2"),
        ("transposed", _w("""
            def circle_features(X):
                return np.vstack([X[:, 0], X[:, 1], X[:, 0] ** 2 + X[:, 1] ** 2])
            """), "np.column_stack"),
        ("originals_dropped", _w("""
            def circle_features(X):
                return np.column_stack([X[:, 0] ** 2, X[:, 1] ** 2, X[:, 0] ** 2 + X[:, 1] ** 2])
            """), "x1 and x2 unchanged"),
    ],
    "chain_slope": [
        ("added_not_multiplied", _w("""
            def chain_slope():
                return 10 * 0.25
            """), "it does not add them"),
        ("value_not_slope", _w("""
            def chain_slope():
                return 0.5 ** 10
            """), "not its slope"),
        ("one_layer", _w("""
            def chain_slope():
                return 0.25
            """), "one layer's slope"),
        ("off_by_one", _w("""
            def chain_slope():
                return 0.25 ** 9
            """), "off by one layer"),
        ("cancels", _w("""
            def chain_slope():
                return 1.0
            """), "every layer has input 0"),
    ],
}


CATALOGUE["04_loss_and_gradient_descent"] = {
    "mse_after_sigmoid": [
        ("gradient_with_respect_to_p", _w("""
            def mse_after_sigmoid(z, y):
                p = 1 / (1 + np.exp(-z))
                return np.mean((p - y) ** 2), 2 * (p - y) / len(y)
            """), "the gradient with respect to the probability p"),
        ("cross_entropy_gradient", _w("""
            def mse_after_sigmoid(z, y):
                p = 1 / (1 + np.exp(-z))
                return np.mean((p - y) ** 2), (p - y) / len(y)
            """), "that is cross-entropy's gradient"),
        ("missing_factor_2", _w("""
            def mse_after_sigmoid(z, y):
                p = 1 / (1 + np.exp(-z))
                return np.mean((p - y) ** 2), (p - y) * p * (1 - p) / len(y)
            """), "the factor 2 from the square is missing"),
        ("sum_not_mean", _w("""
            def mse_after_sigmoid(z, y):
                p = 1 / (1 + np.exp(-z))
                return np.mean((p - y) ** 2), 2 * (p - y) * p * (1 - p)
            """), "times too large"),
        ("slope_of_z", _w("""
            def mse_after_sigmoid(z, y):
                p = 1 / (1 + np.exp(-z))
                return np.mean((p - y) ** 2), 2 * (p - y) * z * (1 - z) / len(y)
            """), "uses z (1 - z)"),
        ("loss_of_logits", _w("""
            def mse_after_sigmoid(z, y):
                p = 1 / (1 + np.exp(-z))
                return np.mean((z - y) ** 2), 2 * (p - y) * p * (1 - p) / len(y)
            """), "the MSE of the logits"),
    ],
    "cross_entropy_exact": [
        ("through_p_overflows", _w("""
            def cross_entropy_exact(z, y):
                p = 1 / (1 + np.exp(-z))
                return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), (p - y) / len(y)
            """), "log(1 - 1) = -inf"),
        ("clipped", _w("""
            def cross_entropy_exact(z, y):
                p = np.clip(1 / (1 + np.exp(-z)), 1e-15, 1 - 1e-15)
                return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), (p - y) / len(y)
            """), "clips p"),
        ("sign", _w("""
            def cross_entropy_exact(z, y):
                e = np.exp(-np.abs(z))
                p = np.where(z >= 0, 1.0, e) / (1 + e)
                return -np.mean(np.maximum(z, 0) - z * y + np.log1p(e)), (p - y) / len(y)
            """), "the minus sign"),
        ("sum_not_mean", _w("""
            def cross_entropy_exact(z, y):
                e = np.exp(-np.abs(z))
                p = np.where(z >= 0, 1.0, e) / (1 + e)
                return np.sum(np.maximum(z, 0) - z * y + np.log1p(e)), (p - y)
            """), "that is the sum"),
        ("labels_swapped", _w("""
            def cross_entropy_exact(z, y):
                e = np.exp(-np.abs(z))
                p = np.where(z >= 0, 1.0, e) / (1 + e)
                return np.mean(np.maximum(z, 0) - z * (1 - y) + np.log1p(e)), (p - y) / len(y)
            """), "you swapped y and 1 - y"),
        ("gradient_sign", _w("""
            def cross_entropy_exact(z, y):
                e = np.exp(-np.abs(z))
                p = np.where(z >= 0, 1.0, e) / (1 + e)
                return np.mean(np.maximum(z, 0) - z * y + np.log1p(e)), (y - p) / len(y)
            """), "your gradient has the wrong sign"),
    ],
    "diverging_rates": [
        ("penalty_curvature_forgotten", _w("""
            def diverging_rates():
                return [0.3, 0.5, 0.7]
            """), "adds 2 lam to every curvature"),
        ("factor_2_missing", _w("""
            def diverging_rates():
                return [0.5, 0.7]
            """), "your curvatures are half the real ones"),
        ("one_over_lambda", _w("""
            def diverging_rates():
                return [0.2, 0.24, 0.3, 0.5, 0.7]
            """), "not 1 / lambda"),
        ("smallest_curvature", _w("""
            def diverging_rates():
                return [0.7]
            """), "the largest curvature, not the smallest"),
        ("not_monotone", _w("""
            def diverging_rates():
                return [0.24, 0.5]
            """), "every larger one diverges too"),
        ("not_a_rate", _w("""
            def diverging_rates():
                return [0.25, 0.3]
            """), "is not one of the learning rates"),
    ],
    "train_until": [
        ("bias_never_updated", _w("""
            def train_until(X, y, lr, threshold, max_epochs=1000):
                w, b = np.zeros(X.shape[1]), 0.0
                for epoch in range(1, max_epochs + 1):
                    e = X @ w + b - y
                    w = w - lr * X.T @ (2 * e / len(y))
                    if np.mean(e ** 2) <= threshold:
                        break
                return w, b, epoch
            """), "the bias never moved"),
        ("never_stops", _w("""
            def train_until(X, y, lr, threshold, max_epochs=1000):
                w, b = np.zeros(X.shape[1]), 0.0
                for epoch in range(1, max_epochs + 1):
                    g = 2 * (X @ w + b - y) / len(y)
                    w, b = w - lr * X.T @ g, b - lr * g.sum()
                return w, b, epoch
            """), "ran all 1000 epochs"),
        ("off_by_one", _w("""
            def train_until(X, y, lr, threshold, max_epochs=1000):
                w, b = np.zeros(X.shape[1]), 0.0
                for epoch in range(1, max_epochs + 1):
                    g = 2 * (X @ w + b - y) / len(y)
                    w, b = w - lr * X.T @ g, b - lr * g.sum()
                    if np.mean((X @ w + b - y) ** 2) <= threshold:
                        break
                return w, b, epoch
            """), "off by one"),
        ("uphill", _w("""
            def train_until(X, y, lr, threshold, max_epochs=1000):
                w, b = np.zeros(X.shape[1]), 0.0
                for epoch in range(1, max_epochs + 1):
                    e = X @ w + b - y
                    g = 2 * e / len(y)
                    w, b = w + lr * X.T @ g, b + lr * g.sum()
                    if np.mean(e ** 2) <= threshold:
                        break
                return w, b, epoch
            """), "you step uphill"),
    ],
}


CATALOGUE["05_backpropagation"] = {
    "manual_gradients": [
        ("relu_gate_ignored", _w("""
            def manual_gradients():
                return {"W1": np.array([[-4.0, 2.0], [8.0, -4.0]]), "b1": np.array([-4.0, 2.0]),
                        "w2": np.array([-0.2, 0.0]), "b2": -2.0}
            """), "its slope is 0, so nothing flows back"),
        ("missing_factor_2", _w("""
            def manual_gradients():
                return {"W1": np.array([[-2.0, 0.0], [4.0, 0.0]]), "b1": np.array([-2.0, 0.0]),
                        "w2": np.array([-0.1, 0.0]), "b2": -1.0}
            """), "every gradient is half the right one"),
        ("sign", _w("""
            def manual_gradients():
                return {"W1": np.array([[4.0, 0.0], [-8.0, 0.0]]), "b1": np.array([4.0, 0.0]),
                        "w2": np.array([0.2, 0.0]), "b2": 2.0}
            """), "every gradient has the wrong sign"),
        ("transposed", _w("""
            def manual_gradients():
                return {"W1": np.array([[-4.0, 8.0], [0.0, 0.0]]), "b1": np.array([-4.0, 0.0]),
                        "w2": np.array([-0.2, 0.0]), "b2": -2.0}
            """), "your dL/dW1 is transposed"),
        ("wrong_keys", _w("""
            def manual_gradients():
                return {"dW1": np.zeros((2, 2)), "db1": np.zeros(2), "dw2": np.zeros(2), "db2": 0.0}
            """), "the dict lacks W1, b1, w2, b2"),
    ],
    "softmax_backward": [
        ("diagonal_only", _w("""
            def softmax_backward(z, grad_out):
                e = np.exp(z - z.max(axis=1, keepdims=True))
                s = e / e.sum(axis=1, keepdims=True)
                return s * (1 - s) * grad_out
            """), "only the diagonal"),
        ("wrong_axis", _w("""
            def softmax_backward(z, grad_out):
                e = np.exp(z - z.max(axis=1, keepdims=True))
                s = e / e.sum(axis=1, keepdims=True)
                return s * (grad_out - np.sum(grad_out * s, axis=0, keepdims=True))
            """), "sums over the wrong axis"),
        ("overflow", _w("""
            def softmax_backward(z, grad_out):
                e = np.exp(z)
                s = e / e.sum(axis=1, keepdims=True)
                return s * (grad_out - np.sum(grad_out * s, axis=1, keepdims=True))
            """), "exp(1000) overflows"),
        ("sign", _w("""
            def softmax_backward(z, grad_out):
                e = np.exp(z - z.max(axis=1, keepdims=True))
                s = e / e.sum(axis=1, keepdims=True)
                return s * (np.sum(grad_out * s, axis=1, keepdims=True) - grad_out)
            """), "the wrong sign"),
        ("keepdims_missing", _w("""
            def softmax_backward(z, grad_out):
                e = np.exp(z - z.max(axis=1, keepdims=True))
                s = e / e.sum(axis=1, keepdims=True)
                return s * (grad_out - np.sum(grad_out * s, axis=1))
            """), "raised ValueError"),
    ],
    "which_gradient_is_wrong": [
        ("dW", _w("""
            def which_gradient_is_wrong():
                return "dW"
            """), "the layer's dW agrees with the numerical gradient"),
        ("db", _w("""
            def which_gradient_is_wrong():
                return "db"
            """), "the layer's db agrees with the numerical gradient"),
        ("dgamma", _w("""
            def which_gradient_is_wrong():
                return "dgamma"
            """), "the layer's dgamma agrees with the numerical gradient"),
        ("not_a_name", _w("""
            def which_gradient_is_wrong():
                return "all of them"
            """), "answer with one of the names"),
    ],
    "scaled_sigmoid_backward": [
        ("dx_not_transposed", _w("""
            def scaled_sigmoid_backward(x, W, b, gamma, grad_out):
                z = x @ W + b
                s = 1 / (1 + np.exp(-gamma * z))
                du = grad_out * s * (1 - s)
                return du * gamma @ W, x.T @ (du * gamma), (du * gamma).sum(axis=0), np.sum(du * z, axis=0)
            """), "dx = dz @ W.T"),
        ("dgamma_without_z", _w("""
            def scaled_sigmoid_backward(x, W, b, gamma, grad_out):
                z = x @ W + b
                s = 1 / (1 + np.exp(-gamma * z))
                du = grad_out * s * (1 - s)
                return (du * gamma) @ W.T, x.T @ (du * gamma), (du * gamma).sum(axis=0), np.sum(du, axis=0)
            """), "dgamma is missing a factor"),
        ("dgamma_not_summed", _w("""
            def scaled_sigmoid_backward(x, W, b, gamma, grad_out):
                z = x @ W + b
                s = 1 / (1 + np.exp(-gamma * z))
                du = grad_out * s * (1 - s)
                return (du * gamma) @ W.T, x.T @ (du * gamma), (du * gamma).sum(axis=0), du * z
            """), "add up over the batch"),
        ("gamma_missing", _w("""
            def scaled_sigmoid_backward(x, W, b, gamma, grad_out):
                z = x @ W + b
                s = 1 / (1 + np.exp(-gamma * z))
                du = grad_out * s * (1 - s)
                return du @ W.T, x.T @ du, du.sum(axis=0), np.sum(du * z, axis=0)
            """), "misses the factor gamma"),
        ("tanh_slope", _w("""
            def scaled_sigmoid_backward(x, W, b, gamma, grad_out):
                z = x @ W + b
                s = 1 / (1 + np.exp(-gamma * z))
                du = grad_out * (1 - s ** 2)
                return (du * gamma) @ W.T, x.T @ (du * gamma), (du * gamma).sum(axis=0), np.sum(du * z, axis=0)
            """), "tanh's rule"),
        ("db_extra_one_over_n", _w("""
            def scaled_sigmoid_backward(x, W, b, gamma, grad_out):
                z = x @ W + b
                s = 1 / (1 + np.exp(-gamma * z))
                du = grad_out * s * (1 - s)
                return (du * gamma) @ W.T, x.T @ (du * gamma), (du * gamma).mean(axis=0), np.sum(du * z, axis=0)
            """), "times too small"),
    ],
}


# --- running the catalogue ------------------------------------------------------------------------

def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _nbg(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _exercise(chapter):
    return json.loads(release.student_version(ROOT / "solutions" / f"{chapter}.ipynb"))


def _cases():
    for chapter, questions in CATALOGUE.items():
        for question, entries in questions.items():
            for mistake, source, fragment in entries:
                yield pytest.param(chapter, question, source, fragment, id=f"{chapter[:2]}-{question}-{mistake}")


def _run_self_check(chapter, question, wrong_source):
    """Run the solution's code cells with question's answer replaced, then the exercise's check cell."""
    solution = _load(ROOT / "solutions" / f"{chapter}.ipynb")
    exercise = {c["id"]: c for c in _exercise(chapter)["cells"]}
    namespace: dict = {}
    target = None
    for cell in solution["cells"]:
        if cell["cell_type"] != "code":
            continue
        meta, text = _nbg(cell), _src(cell)
        if meta.get("grade"):
            if cell["id"] == question:
                target = _src(exercise[cell["id"]])       # as the learner sees it: no hidden tests
            continue
        if text.lstrip().startswith(("# Verify", "check.progress")):
            continue                                      # experiments and the total: not needed here
        if meta.get("solution") and cell["id"] == f"{question}-answer":
            text = wrong_source
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(text, cell["id"], "exec"), namespace)
    assert target is not None, f"{chapter} has no check cell {question!r}"
    out = io.StringIO()
    checks.RESULTS.pop(question, None)
    with contextlib.redirect_stdout(out):
        exec(compile(target, question, "exec"), namespace)
    return checks.RESULTS.get(question), out.getvalue()


@pytest.fixture
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


@pytest.mark.parametrize("chapter, question, source, fragment", list(_cases()))
def test_wrong_answer_gets_a_cross_naming_the_mistake(not_strict, chapter, question, source, fragment):
    status, printed = _run_self_check(chapter, question, source)
    assert status in ("failed", "error"), printed
    assert "❌" in printed and fragment in printed, printed


def test_wrong_answer_catalogue_has_three_mistakes_per_graded_question():
    for chapter, questions in CATALOGUE.items():
        graded = [q["id"] for q in _exercise(chapter)["metadata"]["nnlib"]["questions"]]
        assert sorted(questions) == sorted(graded), chapter
        for question, entries in questions.items():
            assert len(entries) >= 3, (chapter, question)
            assert len({m for m, _, _ in entries}) == len(entries)


def _submission(chapter, k):
    """The exercise with the k-th wrong answer (cycling) in every question's answer cell."""
    nb = _exercise(chapter)
    for cell in nb["cells"]:
        for question, entries in CATALOGUE[chapter].items():
            if cell["id"] == f"{question}-answer":
                cell["source"] = entries[k % len(entries)][1]
    return nb


@pytest.fixture(scope="module")
def graded_wrong_submissions(tmp_path_factory):
    """{(chapter, k): grade result} (one at a time: the grader captures this process's output)."""
    folder = tmp_path_factory.mktemp("wrong_answers")
    jobs = []
    for chapter, questions in CATALOGUE.items():
        for k in range(max(len(e) for e in questions.values())):
            path = folder / f"{chapter}-{k}.ipynb"
            path.write_text(release.dumps(_submission(chapter, k)), encoding="utf-8")
            jobs.append(((chapter, k), path))
    return {key: grade(path, ROOT / "solutions", timeout=60) for key, path in jobs}


@pytest.mark.parametrize("chapter, question, source, fragment", list(_cases()))
def test_wrong_answer_scores_zero_in_the_grader_with_the_same_message(graded_wrong_submissions, chapter,
                                                                      question, source, fragment):
    entries = CATALOGUE[chapter][question]
    ks = [k for k in range(max(len(e) for e in CATALOGUE[chapter].values())) if entries[k % len(entries)][1] == source]
    for k in ks:
        result = graded_wrong_submissions[(chapter, k)]
        assert not result["error"], result["error"]
        row = next(q for q in result["questions"] if q["id"] == question)
        assert row["points"] == 0, row
        assert fragment in (row["message"] or ""), row


# --- points and the running total -----------------------------------------------------------------

@pytest.mark.parametrize("chapter", sorted(CATALOGUE))
def test_points_of_the_check_module_are_the_nbgrader_points(chapter):
    import importlib

    module = importlib.import_module(f"nncourse.checks.ch{chapter[:2]}")
    meta = _exercise(chapter)["metadata"]["nnlib"]
    assert module.POINTS == {q["id"]: q["points"] for q in meta["questions"]}
    intro = _src(next(c for c in _exercise(chapter)["cells"] if not str(c.get("id", "")).startswith("colab-")))
    assert f"total {meta['max_points']}" in intro, "the exercise states its total in its first cell"
    for q in meta["questions"]:
        assert f"{q['points']} point" in "".join(_src(c) for c in _exercise(chapter)["cells"] if c["cell_type"] == "markdown")
    last = _exercise(chapter)["cells"][-1]
    assert last["cell_type"] == "code" and _src(last).strip() == "check.progress()"


@pytest.mark.parametrize("chapter", sorted(CATALOGUE))
def test_progress_counts_the_points_of_passed_checks(not_strict, chapter, capsys):
    import importlib

    module = importlib.import_module(f"nncourse.checks.ch{chapter[:2]}")
    for name in module.POINTS:
        checks.RESULTS.pop(name, None)
    first = next(iter(module.POINTS))
    checks.RESULTS[first] = "passed"
    got, total = module.progress()
    assert (got, total) == (module.POINTS[first], sum(module.POINTS.values()))
    assert f"{got}/{total} so far" in capsys.readouterr().out
    checks.RESULTS.pop(first)
