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
