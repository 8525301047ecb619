"""Candidate sampling: train a softmax over very many classes without scoring them all.

A full softmax output over K classes computes K logits per example, and its
gradient touches all K columns of the output weights, at every step. With
K = 10,000 that dominates the cost of training. *Sampled softmax* scores, for
each example, only its true class and a small random sample of S other classes
(shared by the batch), and takes the softmax cross-entropy over those 1 + S
candidates as if they were all the classes there are:

    logits = [x . w_y + b_y,  x . w_n1 + b_n1, ..., x . w_nS + b_nS]
    loss   = -log softmax(logits)[0]

Sampled negatives that happen to equal the example's true class are removed
("accidental hits"). The negatives are sampled uniformly, so the usual log-Q
correction shifts every candidate's logit by the same amount and is left out.

At inference there is no label to sample around: ``forward`` computes all K
logits, exactly like a Dense layer with the same weights.
"""
from __future__ import annotations

import numpy as np

from ._layer import Layer, param_property
from ._validate import as_generator, check_dtype, check_positive_int
from .activations import log_softmax
from .layers import init_weights

__all__ = ["SampledSoftmax"]


class SampledSoftmax(Layer):
    """An output layer of num_classes logits with a sampled training loss.

    forward(x): all logits (batch, num_classes), for prediction.
    loss(x, labels): the sampled softmax cross-entropy (a float), scoring
    1 + num_sampled columns per example; backward_loss() then fills grads and
    returns dL/dx. ``columns_computed`` counts the output columns the last
    call scored per example.
    """

    def __init__(self, in_features, num_classes, *, num_sampled=64, bias=True, init="zeros", rng=None,
                 dtype=np.float64):
        super().__init__()
        self.in_features = check_positive_int(in_features, "SampledSoftmax: in_features")
        self.num_classes = check_positive_int(num_classes, "SampledSoftmax: num_classes", minimum=2)
        self.out_features = self.num_classes
        self.num_sampled = check_positive_int(num_sampled, "SampledSoftmax: num_sampled")
        if self.num_sampled >= self.num_classes:
            raise ValueError(f"SampledSoftmax: num_sampled ({num_sampled}) must be smaller than "
                             f"num_classes ({num_classes}); otherwise use a full softmax")
        self.dtype = check_dtype(dtype, "SampledSoftmax")
        self.rng = as_generator(rng, "SampledSoftmax: rng")
        self.params["W"] = init_weights((self.in_features, self.num_classes), init, self.rng, self.dtype)
        self.grads["W"] = np.zeros_like(self.params["W"])
        self.use_bias = bool(bias)
        if self.use_bias:
            self.params["b"] = np.zeros(self.num_classes, dtype=self.dtype)
            self.grads["b"] = np.zeros_like(self.params["b"])
        self.columns_computed = None
        self._cache = None

    W = param_property("W", "The output weights, shape (in_features, num_classes): params['W'].")
    b = param_property("b", "The biases, shape (num_classes,): params['b'] (None with bias=False).")

    def forward(self, x, training=False):
        """All num_classes logits: x @ W + b (the layer's prediction)."""
        self._check_x(x)
        self.columns_computed = self.num_classes
        out = x @ self.params["W"]
        return out + self.params["b"] if self.use_bias else out

    def loss(self, x, labels):
        """Sampled softmax cross-entropy, averaged over the batch."""
        self._check_x(x)
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],) or labels.dtype.kind not in "iu":
            raise ValueError(f"SampledSoftmax.loss: labels must be integers of shape ({x.shape[0]},), "
                             f"got shape {labels.shape} and dtype {labels.dtype}")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            bad = labels[(labels < 0) | (labels >= self.num_classes)][0]
            raise ValueError(f"SampledSoftmax.loss: label {bad} is out of range for {self.num_classes} classes")
        W = self.params["W"]
        b = self.params["b"] if self.use_bias else np.zeros(self.num_classes, dtype=self.dtype)
        neg = self.rng.choice(self.num_classes, self.num_sampled, replace=False)    # (S,) shared negatives
        true_logit = np.einsum("nd,dn->n", x, W[:, labels]) + b[labels]           # (n,)   one column each
        neg_logits = x @ W[:, neg] + b[neg]                                       # (n, S) the sample
        hit = neg[None, :] == labels[:, None]                                     # accidental hits
        neg_logits = np.where(hit, -np.inf, neg_logits)
        logits = np.column_stack([true_logit, neg_logits])                        # (n, 1 + S)
        logp = log_softmax(logits, axis=1)
        self.columns_computed = 1 + self.num_sampled
        self._cache = (x, labels, neg, logp)
        return float(-logp[:, 0].mean())

    def backward_loss(self):
        """Gradients of the last loss(): fills grads (non-zero only in the scored columns); returns dL/dx."""
        if self._cache is None:
            raise RuntimeError("SampledSoftmax: call loss before backward_loss")
        x, labels, neg, logp = self._cache
        n = x.shape[0]
        d_logits = np.exp(logp) / n               # softmax - onehot(0), over the batch mean
        d_logits[:, 0] -= 1.0 / n
        d_true, d_neg = d_logits[:, 0], d_logits[:, 1:]
        W = self.params["W"]
        gW = self.grads["W"]
        gW[...] = 0.0
        np.add.at(gW.T, labels, x * d_true[:, None])        # each example's true column
        gW[:, neg] += x.T @ d_neg                            # the sampled columns
        if self.use_bias:
            gb = self.grads["b"]
            gb[...] = 0.0
            np.add.at(gb, labels, d_true)
            gb[neg] += d_neg.sum(axis=0)
        return W[:, labels].T * d_true[:, None] + d_neg @ W[:, neg].T

    def backward(self, grad_out):
        raise RuntimeError("SampledSoftmax is trained through loss() and backward_loss(); "
                           "for a full softmax use Dense with CrossEntropy")

    def _check_x(self, x):
        self._check_input(x, 2, self.in_features)
        if x.shape[0] == 0:
            raise ValueError(f"{self!r} got an empty batch (shape {x.shape}): expected at least one example")

    def __repr__(self):
        return f"SampledSoftmax({self.in_features} -> {self.num_classes}, {self.num_sampled} sampled)"
