"""nnscratch.optim: update equations by hand, convergence, schedules and argument checks.

The step-by-step agreement with torch.optim lives in test_torch_crosscheck.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnscratch.layers import Linear, Parameter
from nnscratch.optim import (
    SGD,
    Adagrad,
    Adam,
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    Optimizer,
    RMSprop,
    StepLR,
)


def _param(value, grad) -> Parameter:
    p = Parameter(np.array(value, dtype=float))
    p.grad[...] = grad
    return p


def test_sgd_plain_step():
    p = _param([1.0, -2.0], [0.5, 1.0])
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, -2.1])


def test_sgd_momentum_and_weight_decay_by_hand():
    p = _param([1.0], [2.0])
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step()  # g = 2 + 0.5 * 1 = 2.5, v = g
    assert p.data[0] == pytest.approx(1 - 0.25)
    opt.step()  # g = 2 + 0.5 * 0.75 = 2.375, v = 0.9 * 2.5 + 2.375
    assert p.data[0] == pytest.approx(0.75 - 0.1 * (0.9 * 2.5 + 2.375))
    assert opt.steps == 2


def test_rmsprop_and_adagrad_first_steps():
    p, q = _param([1.0], [2.0]), _param([1.0], [2.0])
    RMSprop([p], lr=0.01, alpha=0.9).step()  # s = 0.1 * 4, step = 0.01 * 2 / sqrt(0.4)
    assert p.data[0] == pytest.approx(1 - 0.01 * 2 / (math.sqrt(0.4) + 1e-8))
    opt = Adagrad([q], lr=0.1)
    opt.step()  # s = 4 -> step = 0.1 * 2 / 2
    assert q.data[0] == pytest.approx(0.9)
    opt.step()  # s = 8 -> step = 0.1 * 2 / sqrt(8)
    assert q.data[0] == pytest.approx(0.9 - 0.2 / math.sqrt(8))


def test_adam_first_step_is_lr_times_sign():
    # With bias correction the first Adam step is lr * g / (|g| + eps), whatever |g| is.
    p = _param([0.0, 0.0, 0.0], [1e-3, -50.0, 3.0])
    Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, [-0.01, 0.01, -0.01], rtol=1e-4)
    q = _param([2.0], [0.0])
    Adam([q], lr=0.01, weight_decay=0.1).step()  # decay alone gives a gradient 0.2
    assert q.data[0] == pytest.approx(2.0 - 0.01, rel=1e-6)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (SGD, {"lr": 0.1}),
        (SGD, {"lr": 0.05, "momentum": 0.9}),
        (RMSprop, {"lr": 0.05}),
        (Adagrad, {"lr": 0.5}),
        (Adam, {"lr": 0.1}),
    ],
)
def test_every_optimizer_minimises_a_quadratic(cls, kwargs):
    target = np.array([3.0, -1.0, 0.5])
    p = Parameter(np.zeros(3))
    opt = cls([p], **kwargs)
    for _ in range(300):
        opt.zero_grad()
        p.grad += 2 * (p.data - target)  # gradient of |w - target|^2
        opt.step()
    np.testing.assert_allclose(p.data, target, atol=0.05)


def test_zero_grad_and_lr_zero_changes_nothing():
    layer = Linear(3, 2, rng=0)
    before = layer.weight.data.copy()
    layer.weight.grad += 1.0
    opt = SGD(layer.parameters(), lr=0)
    opt.step()
    np.testing.assert_array_equal(layer.weight.data, before)
    opt.zero_grad()
    assert not layer.weight.grad.any()
    assert repr(opt) == "SGD(lr=0.0)"


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adam])
def test_learning_rate_is_checked(cls):
    params = [Parameter(np.zeros(2))]
    with pytest.raises(ValueError, match=r"learning rate lr must be >= 0, got -0\.1"):
        cls(params, lr=-0.1)
    with pytest.raises(TypeError, match=r"learning rate lr must be a number, got '0\.1' \(str\)"):
        cls(params, lr="0.1")


def test_optimizer_argument_errors():
    params = [Parameter(np.zeros(2))]
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="item 0 is ndarray"):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        SGD(params, lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="betas.*1.0"):
        Adam(params, betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="beta"):
        Adam(params, betas=("a", 0.9))
    with pytest.raises(ValueError, match="weight_decay"):
        Adam(params, weight_decay=-1)
    assert issubclass(Adam, Optimizer)


def test_step_lr_and_exponential_lr():
    opt = SGD([Parameter(np.zeros(1))], lr=1.0)
    sched = StepLR(opt, step_size=3, gamma=0.5)
    lrs = [opt.lr] + [sched.step() for _ in range(7)]
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert opt.lr == 0.25 and isinstance(sched, LRScheduler)
    opt2 = SGD([Parameter(np.zeros(1))], lr=0.1)
    exp = ExponentialLR(opt2, gamma=0.9)
    for epoch in range(1, 6):
        assert exp.step() == pytest.approx(0.1 * 0.9**epoch)
        assert exp.get_lr(epoch) == pytest.approx(0.1 * 0.9**epoch)


def test_cosine_annealing():
    opt = SGD([Parameter(np.zeros(1))], lr=0.1)
    sched = CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    lrs = [sched.step() for _ in range(8)]
    assert lrs[1] == pytest.approx(0.055)  # half-way: the mean of lr0 and eta_min
    assert lrs[3] == pytest.approx(0.01)  # epoch T_max: eta_min
    assert lrs[7] == pytest.approx(0.1)  # like torch, the cosine continues past T_max
    assert all(a > b for a, b in zip(lrs[:3], lrs[1:4], strict=True))


def test_scheduler_errors():
    opt = SGD([Parameter(np.zeros(1))], lr=0.1)
    with pytest.raises(TypeError, match="nnscratch optimizer, got str"):
        StepLR("sgd", step_size=2)
    with pytest.raises(ValueError, match="step_size.*0"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="gamma"):
        ExponentialLR(opt, gamma=-0.5)
    with pytest.raises(TypeError, match="T_max must be an int, got 2.5"):
        CosineAnnealingLR(opt, T_max=2.5)


def test_adam_rejects_a_single_beta() -> None:
    import numpy as np
    import pytest

    from nnscratch.layers import Parameter
    from nnscratch.optim import Adam

    with pytest.raises(ValueError, match="betas must be two numbers"):
        Adam([Parameter(np.zeros(2))], betas=0.9)


# --- torch options we refuse say what to do instead ------------------------------------------

REFUSED = [
    (SGD, "nesterov", True, r"momentum="),
    (SGD, "dampening", 0.1, r"default 0"),
    (SGD, "maximize", True, r"minimise -f"),
    (SGD, "foreach", True, r"one \(NumPy\)"),
    (Adam, "amsgrad", True, r"use Adam as it is"),
    (Adam, "decoupled_weight_decay", True, r"AdamW|decoupled"),
    (RMSprop, "momentum", 0.9, r"Adam combines"),
    (RMSprop, "centered", True, r"not implemented"),
    (Adagrad, "lr_decay", 0.1, r"lr_decay.*ExponentialLR|schedule"),
    (Adagrad, "weight_decay", 0.1, r"p.grad \+= weight_decay"),
]


@pytest.mark.parametrize(("cls", "option", "value", "advice"), REFUSED)
def test_refused_torch_options_name_the_option_and_say_what_to_do(cls, option, value, advice):
    with pytest.raises(TypeError, match=rf"{cls.__name__}.*{option}.*{advice}"):
        cls([Linear(2, 1).weight], lr=0.1, **{option: value})


def test_torch_options_at_their_default_are_accepted_and_unknown_ones_named():
    w = [Linear(2, 1).weight]
    SGD(w, lr=0.1, nesterov=False, dampening=0, maximize=False, foreach=None)
    Adam(w, lr=0.1, amsgrad=False)
    with pytest.raises(TypeError, match=r"SGD.*'momentun'.*momentum"):
        SGD(w, lr=0.1, momentun=0.9)
    with pytest.raises(TypeError, match=r"StepLR.*last_epoch"):
        StepLR(SGD(w, lr=0.1), 2, last_epoch=3)
