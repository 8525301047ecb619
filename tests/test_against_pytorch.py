"""nnlib against PyTorch, where the benchmark environment has it (`make bench` installs torch): the same
numbers to float64 rounding, and BatchNorm's documented conventions (Keras-style momentum, biased running_var)."""
import numpy as np
import pytest

from nnlib import SGD, Adam, BatchNorm, CrossEntropy, Dense, Momentum, ReLU, Sequential

torch = pytest.importorskip("torch")


def torch_copy(model):
    layers = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            linear = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.W.T.copy()))
                linear.bias.copy_(torch.from_numpy(layer.b.copy()))
            layers.append(linear)
        else:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("make, make_torch", [
    (lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda: Momentum(0.1, 0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    (lambda: Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
], ids=["SGD", "Momentum", "Adam"])
def test_twenty_train_steps_match_pytorch(make, make_torch):
    rng = np.random.default_rng(0)
    model = Sequential([Dense(3, 8, rng=0), ReLU(), Dense(8, 4, rng=1)])
    ref = torch_copy(model)
    opt, topt, loss = make(), make_torch(ref.parameters()), CrossEntropy()
    for _ in range(20):
        xb, yb = rng.standard_normal((16, 3)), rng.integers(0, 4, 16)
        value = model.train_step(xb, yb, loss, opt)
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(ref(torch.from_numpy(xb)), torch.from_numpy(yb))
        tloss.backward()
        topt.step()
        assert abs(value - tloss.item()) < 1e-10
    for dense, linear in zip([model.layers[0], model.layers[2]], [ref[0], ref[2]]):
        np.testing.assert_allclose(dense.W, linear.weight.detach().numpy().T, rtol=0, atol=1e-10)
        np.testing.assert_allclose(dense.b, linear.bias.detach().numpy(), rtol=0, atol=1e-10)


def test_batchnorm_matches_pytorch_with_its_conventions_translated():
    rng = np.random.default_rng(0)
    n = 8
    bn = BatchNorm(3, momentum=0.9)
    ref = torch.nn.BatchNorm1d(3, momentum=0.1, eps=1e-5, dtype=torch.float64)   # nnlib's 0.9 is PyTorch's 0.1
    x = rng.standard_normal((n, 3)) * 2 + 1
    g = rng.standard_normal((n, 3))
    tx = torch.from_numpy(x).requires_grad_()
    out, tout = bn.forward(x, training=True), ref(tx)
    tout.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out, tout.detach().numpy(), atol=1e-10)            # the same training output
    np.testing.assert_allclose(bn.backward(g), tx.grad.numpy(), atol=1e-10)        # and the same gradients
    np.testing.assert_allclose(bn.grads["gamma"], ref.weight.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(bn.running_mean, ref.running_mean.numpy(), atol=1e-12)
    # running_var: nnlib keeps the biased batch variance, PyTorch the unbiased one (x (n-1)/n apart)
    batch_var = x.var(axis=0)
    np.testing.assert_allclose(bn.running_var, 0.9 * 1 + 0.1 * batch_var, atol=1e-12)
    np.testing.assert_allclose(ref.running_var.numpy(), 0.9 * 1 + 0.1 * batch_var * n / (n - 1), atol=1e-12)
