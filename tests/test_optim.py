"""Optimizers against steps worked out by hand (numbers in the comments)."""
import numpy as np
import pytest

from nnlib import SGD, Adam, Momentum


def run(opt, grads, p0=1.0):
    p = np.array([p0])
    seen = []
    for g in grads:
        opt.step([p], [np.array([g])])
        seen.append(p[0])
    return seen


def test_sgd_step_by_hand():
    # p = 1 - 0.1 * 0.5 = 0.95;  then 0.95 - 0.1 * (-1) = 1.05
    assert np.allclose(run(SGD(lr=0.1), [0.5, -1.0]), [0.95, 1.05])


def test_momentum_steps_by_hand():
    # v1 = 0.5            -> p = 1 - 0.1 * 0.5 = 0.95
    # v2 = 0.9*0.5 + 0.2 = 0.65 -> p = 0.95 - 0.065 = 0.885
    assert np.allclose(run(Momentum(lr=0.1, beta=0.9), [0.5, 0.2]), [0.95, 0.885])


def test_adam_steps_by_hand():
    # step 1: m = 0.05, v = 0.00025; m_hat = 0.5, v_hat = 0.25
    #         p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002
    # step 2 (g = -1): m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975
    #         m_hat = -0.055 / 0.19 = -0.2894737, v_hat = 0.00124975 / 0.001999 = 0.6251876
    #         p = 0.900000002 + 0.1 * 0.2894737 / 0.7906881 = 0.9366104
    got = run(Adam(lr=0.1), [0.5, -1.0])
    assert got[0] == pytest.approx(0.900000002, abs=1e-12)
    assert got[1] == pytest.approx(0.9366104, abs=1e-7)


def test_defaults_match_the_standard_formulations():
    adam = Adam()
    assert (adam.lr, adam.beta1, adam.beta2, adam.eps) == (0.001, 0.9, 0.999, 1e-8)
    assert Momentum().beta == 0.9


def test_updates_are_in_place_and_state_is_per_parameter():
    a, b = np.zeros(3), np.zeros((2, 2))
    opt = Momentum(lr=1.0, beta=0.5)
    ga, gb = np.ones(3), -np.ones((2, 2))
    opt.step([a, b], [ga, gb])
    opt.step([a, b], [ga, gb])
    # a: v = 1 then 1.5 -> a = -1 - 1.5 = -2.5; b mirrors it with its own state
    assert np.allclose(a, -2.5) and np.allclose(b, 2.5)


def test_optimizer_refuses_a_different_parameter_list():
    opt = Adam()
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="first used with parameter shapes"):
        opt.step([np.zeros(3)], [np.ones(3)])


@pytest.mark.parametrize("make, match", [
    (lambda: SGD(lr=-1), "lr must be > 0"),
    (lambda: SGD(lr=0), "lr must be > 0"),
    (lambda: Momentum(beta=1.5), "beta must be < 1"),
    (lambda: Adam(beta2=1.0), "beta2 must be < 1"),
    (lambda: SGD(lr="fast"), "lr must be a finite number"),
])
def test_bad_hyperparameters_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mismatched_lists_are_named():
    with pytest.raises(ValueError, match="parameter 0 has shape \\(2,\\) but its gradient has shape \\(3,\\)"):
        SGD().step([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="got 2 parameters but 1 gradients"):
        SGD().step([np.zeros(2), np.zeros(2)], [np.zeros(2)])


def test_adagrad_steps_by_hand():
    # s1 = 0.25 -> p = 1 - 0.1 * 0.5 / 0.5 = 0.9
    # s2 = 0.25 + 1 = 1.25 -> p = 0.9 + 0.1 * 1 / sqrt(1.25) = 0.9894427
    from nnlib import AdaGrad
    got = run(AdaGrad(lr=0.1, eps=0.0), [0.5, -1.0])
    assert got == pytest.approx([0.9, 0.9894427191], abs=1e-9)


def test_rmsprop_steps_by_hand():
    # s1 = 0.1 * 0.25 = 0.025 -> p = 1 - 0.1 * 0.5 / 0.1581139 = 0.6837722
    # s2 = 0.9 * 0.025 + 0.1 * 1 = 0.1225 -> p = 0.6837722 + 0.1 * 1 / 0.35 = 0.9694865
    from nnlib import RMSProp
    got = run(RMSProp(lr=0.1, beta=0.9, eps=0.0), [0.5, -1.0])
    assert got == pytest.approx([0.6837722340, 0.9694865197], abs=1e-9)


def test_adam_without_bias_correction_by_hand():
    # step 1: m = 0.05, v = 0.00025 (no hats) -> p = 1 - 0.1 * 0.05 / 0.0158114 = 0.6837722
    got = run(Adam(lr=0.1, eps=0.0, bias_correction=False), [0.5])
    assert got[0] == pytest.approx(1 - 0.1 * 0.05 / np.sqrt(0.00025), abs=1e-12)
    assert "bias_correction=False" in repr(Adam(bias_correction=False))
    with pytest.raises(TypeError, match="bias_correction must be True or False"):
        Adam(bias_correction="no")


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam"])
def test_new_rules_agree_on_a_model_and_on_loose_arrays(name):
    # a Sequential's parameters are one flat array (one-go update); loose arrays go one by one
    from nnlib import Dense, Sequential, optim
    model = Sequential([Dense(3, 4, rng=0), Dense(4, 2, rng=1)])
    loose = [p.copy() for p in model.parameters()]
    a, b = optim.get_optimizer(name), optim.get_optimizer(name)
    rng = np.random.default_rng(0)
    for _ in range(3):
        grads = [rng.standard_normal(p.shape) for p in loose]
        for g, mg in zip(grads, model.gradients()):
            mg[...] = g
        a.step(model.parameters(), model.gradients())
        b.step(loose, grads)
    for p, q in zip(model.parameters(), loose):
        assert np.allclose(p, q, atol=1e-14)


def test_bad_adagrad_and_rmsprop_settings_are_named():
    from nnlib import AdaGrad, RMSProp
    with pytest.raises(ValueError, match="RMSProp: beta must be < 1"):
        RMSProp(beta=1.0)
    with pytest.raises(ValueError, match="AdaGrad: lr must be > 0"):
        AdaGrad(lr=0)
