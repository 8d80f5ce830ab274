"""Same numbers as PyTorch: losses, layer backward passes, activation derivatives,
optimiser trajectories, learning-rate schedules and the scalar autodiff engine.

Everything runs in float64 and must agree to a relative error of 1e-8 or better.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import functional as F
from nnscratch.autodiff import Value
from nnscratch.layers import (
    MLP,
    Dropout,
    Flatten,
    Linear,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from nnscratch.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from nnscratch.optim import (
    SGD,
    Adagrad,
    Adam,
    CosineAnnealingLR,
    ExponentialLR,
    Optimizer,
    RMSprop,
    StepLR,
)

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

RTOL, ATOL = 1e-8, 1e-14


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    """A float64 torch tensor holding a copy of ``a``."""
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def close(a, b) -> None:
    if isinstance(b, torch.Tensor):
        b = b.detach().numpy()
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def to_torch(module: Module) -> torch.nn.Module:
    """The torch twin of an nnscratch module, with the same weights."""
    if isinstance(module, Sequential):
        return torch.nn.Sequential(*(to_torch(m) for m in module))
    if isinstance(module, Linear):
        twin = torch.nn.Linear(
            module.in_features, module.out_features, bias=module.bias is not None
        ).double()
        with torch.no_grad():
            twin.weight.copy_(t(module.weight.data))
            if module.bias is not None:
                twin.bias.copy_(t(module.bias.data))
        return twin
    simple = {ReLU: torch.nn.ReLU, Sigmoid: torch.nn.Sigmoid, Tanh: torch.nn.Tanh}
    if type(module) in simple:
        return simple[type(module)]()
    if isinstance(module, Flatten):
        return torch.nn.Flatten()
    if isinstance(module, Dropout):
        return torch.nn.Dropout(module.p)
    raise TypeError(f"no torch twin for {module!r}")  # pragma: no cover


# --- losses ----------------------------------------------------------------------------


def _loss_case(name: str, gen: np.random.Generator):
    z = gen.normal(size=(6, 4)) * 2
    if name == "MSELoss":
        return MSELoss(), torch.nn.MSELoss(), z, gen.normal(size=(6, 4))
    if name == "BCELoss":
        p = F.sigmoid(z)
        p[0, 0], p[1, 1] = 1.0, 0.0  # saturated probabilities: torch clamps the log at -100
        return BCELoss(), torch.nn.BCELoss(), p, (gen.random((6, 4)) > 0.5).astype(float)
    if name == "BCELoss_soft":
        return BCELoss(), torch.nn.BCELoss(), F.sigmoid(z), gen.random((6, 4))
    if name == "BCEWithLogitsLoss":
        return BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), z, gen.random((6, 4))
    if name == "CrossEntropyLoss_labels":
        return CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), z, gen.integers(0, 4, 6)
    probs = F.softmax(gen.normal(size=(6, 4)))
    return CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), z, probs


LOSSES = [
    "MSELoss",
    "BCELoss",
    "BCELoss_soft",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss_labels",
    "CrossEntropyLoss_probs",
]


@pytest.mark.parametrize("name", LOSSES)
def test_loss_value_and_gradient(name, rng):
    ours, theirs, pred, target = _loss_case(name, rng)
    value = ours(pred, target)
    pred_t = t(pred, grad=True)
    target_t = torch.tensor(target) if target.dtype.kind == "i" else t(target)
    expected = theirs(pred_t, target_t)
    expected.backward()
    close(value, expected.item())
    close(ours.backward(), pred_t.grad)


@pytest.mark.parametrize("name", ["BCEWithLogitsLoss", "CrossEntropyLoss_labels"])
def test_loss_at_extreme_logits(name, rng):
    ours, theirs, _, target = _loss_case(name, rng)
    pred = np.where(rng.random((6, 4)) > 0.5, 1e4, -1e4)
    pred[:, 0] = 3.0
    pred_t = t(pred, grad=True)
    target_t = torch.tensor(target) if target.dtype.kind == "i" else t(target)
    expected = theirs(pred_t, target_t)
    expected.backward()
    close(ours(pred, target), expected.item())
    close(ours.backward(), pred_t.grad)


# --- activation derivatives ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(F.sigmoid_grad, torch.sigmoid), (F.tanh_grad, torch.tanh), (F.relu_grad, torch.relu)],
    ids=["sigmoid", "tanh", "relu"],
)
def test_activation_derivatives(ours, theirs, rng):
    z = np.concatenate([rng.normal(size=20) * 3, [0.0, 0.0, -30.0, 30.0]])  # incl. relu'(0)
    z_t = t(z, grad=True)
    theirs(z_t).sum().backward()
    close(ours(z), z_t.grad)


def test_relu_grad_at_zero_agrees_with_torch():
    z_t = t([0.0], grad=True)
    torch.relu(z_t).sum().backward()
    assert z_t.grad.item() == 0.0 == F.relu_grad(np.array([0.0]))[0]


# --- layers --------------------------------------------------------------------------------


LAYERS = {
    "Linear": lambda: Linear(5, 4, rng=0),
    "Linear_no_bias": lambda: Linear(5, 4, bias=False, rng=0),
    "ReLU": ReLU,
    "Sigmoid": Sigmoid,
    "Tanh": Tanh,
    "Dropout_eval": lambda: Dropout(0.4, rng=0).eval(),
    "Sequential": lambda: Sequential(Linear(5, 6, rng=0), Tanh(), Linear(6, 4, rng=1), Sigmoid()),
    "MLP_relu": lambda: MLP([5, 8, 7, 4], "relu", rng=0, init="torch"),
    "MLP_tanh": lambda: MLP([5, 8, 4], "tanh", rng=0),
    "MLP_sigmoid": lambda: MLP([5, 8, 4], "sigmoid", rng=0),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_forward_and_backward(name, rng):
    module = LAYERS[name]()
    twin = to_torch(module)
    twin.train(module.training)
    x = rng.normal(size=(3, 5))
    out = module(x)
    g = rng.normal(size=out.shape)
    grad_in = module.backward(g)
    x_t = t(x, grad=True)
    out_t = twin(x_t)
    out_t.backward(t(g))
    close(out, out_t)
    close(grad_in, x_t.grad)
    ours = module.parameters()
    theirs = list(twin.parameters())
    assert len(ours) == len(theirs)  # same parameters in the same order (weight before bias)
    for p, q in zip(ours, theirs, strict=True):
        assert p.shape == tuple(q.shape)
        close(p.grad, q.grad)


def test_mlp_with_cross_entropy_end_to_end(rng):
    model = MLP([5, 8, 3], "relu", rng=0)
    twin = to_torch(model)
    x, y = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    loss = CrossEntropyLoss()
    value = loss(model(x), y)
    model.backward(loss.backward())
    expected = torch.nn.CrossEntropyLoss()(twin(t(x)), torch.tensor(y))
    expected.backward()
    close(value, expected.item())
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        close(p.grad, q.grad)


class _MaskFromTorch:
    """Stands in for Dropout's generator: 'random' numbers that keep exactly torch's units."""

    def __init__(self, keep: np.ndarray) -> None:
        self.keep = keep

    def random(self, shape: tuple[int, ...]) -> np.ndarray:
        assert shape == self.keep.shape
        return np.where(self.keep, 1.0, 0.0)


def test_dropout_train_mode_with_torchs_mask(rng, monkeypatch):
    p = 0.3
    x = rng.normal(size=(8, 6)) + 5.0  # no zeros, so torch's mask can be read off its output
    torch.manual_seed(0)
    x_t = t(x, grad=True)
    out_t = torch.nn.Dropout(p).train()(x_t)
    g = rng.normal(size=x.shape)
    out_t.backward(t(g))
    keep = out_t.detach().numpy() != 0
    assert 0 < keep.mean() < 1
    layer = Dropout(p)
    monkeypatch.setattr(layer, "_rng", _MaskFromTorch(keep))
    close(layer(x), out_t)
    close(layer.backward(g), x_t.grad)


def test_flatten_backward(rng):
    x = rng.normal(size=(3, 2, 4))
    x_t = t(x, grad=True)
    out_t = torch.nn.Flatten()(x_t)
    g = rng.normal(size=(3, 8))
    out_t.backward(t(g))
    layer = Flatten()
    close(layer(x), out_t)
    close(layer.backward(g), x_t.grad)


# --- optimisers ----------------------------------------------------------------------------

OPTIMIZERS = {
    "SGD": (SGD, torch.optim.SGD, {"lr": 0.1}),
    "SGD_momentum": (SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    "SGD_weight_decay": (SGD, torch.optim.SGD, {"lr": 0.1, "weight_decay": 0.01}),
    "SGD_momentum_weight_decay": (
        SGD,
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
    ),
    "RMSprop": (RMSprop, torch.optim.RMSprop, {"lr": 0.01}),
    "RMSprop_alpha": (RMSprop, torch.optim.RMSprop, {"lr": 0.005, "alpha": 0.9, "eps": 1e-6}),
    "Adagrad": (Adagrad, torch.optim.Adagrad, {"lr": 0.1}),
    "Adam": (Adam, torch.optim.Adam, {"lr": 0.01}),
    "Adam_weight_decay": (
        Adam,
        torch.optim.Adam,
        {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.01},
    ),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_trajectory_25_steps(name, rng):
    ours_cls, theirs_cls, kwargs = OPTIMIZERS[name]
    model = MLP([3, 6, 2], "tanh", rng=0)
    twin = to_torch(model)
    x, y = rng.normal(size=(16, 3)), rng.integers(0, 2, 16)
    x_t, y_t = t(x), torch.tensor(y)
    opt, opt_t = ours_cls(model.parameters(), **kwargs), theirs_cls(twin.parameters(), **kwargs)
    loss, loss_t = CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for _ in range(25):
        opt.zero_grad()  # each library computes its gradient from its own current weights
        loss(model(x), y)
        model.backward(loss.backward())
        opt.step()
        opt_t.zero_grad()
        loss_t(twin(x_t), y_t).backward()
        opt_t.step()
        for p, q in zip(model.parameters(), twin.parameters(), strict=True):
            close(p.data, q)
    start = MLP([3, 6, 2], "tanh", rng=0)
    assert not np.allclose(model[0].weight.data, start[0].weight.data)  # it really moved


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (SGD, torch.optim.SGD),
        (RMSprop, torch.optim.RMSprop),
        (Adagrad, torch.optim.Adagrad),
        (Adam, torch.optim.Adam),
    ],
)
def test_optimizer_defaults_match_torch(ours, theirs):
    import inspect

    theirs_params = inspect.signature(theirs).parameters
    for name, param in inspect.signature(ours).parameters.items():
        if param.default is inspect.Parameter.empty:
            continue
        assert theirs_params[name].default == param.default, name


# --- learning-rate schedules -------------------------------------------------------------

SCHEDULES = {
    "StepLR": (StepLR, torch.optim.lr_scheduler.StepLR, {"step_size": 4, "gamma": 0.5}),
    "ExponentialLR": (ExponentialLR, torch.optim.lr_scheduler.ExponentialLR, {"gamma": 0.85}),
    "CosineAnnealingLR": (
        CosineAnnealingLR,
        torch.optim.lr_scheduler.CosineAnnealingLR,
        {"T_max": 20, "eta_min": 0.001},
    ),
    "CosineAnnealingLR_past_T_max": (
        CosineAnnealingLR,
        torch.optim.lr_scheduler.CosineAnnealingLR,
        {"T_max": 7},
    ),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_over_20_epochs(name):
    ours_cls, theirs_cls, kwargs = SCHEDULES[name]
    opt = SGD([Linear(2, 1).weight], lr=0.1)
    sched = ours_cls(opt, **kwargs)
    weight = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt_t = torch.optim.SGD([weight], lr=0.1)
    sched_t = theirs_cls(opt_t, **kwargs)
    ours, theirs = [], []
    for _ in range(20):
        ours.append(opt.lr)
        theirs.append(opt_t.param_groups[0]["lr"])
        opt_t.step()
        sched.step()
        sched_t.step()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert len(set(ours)) > 2


# --- scalar autodiff ---------------------------------------------------------------------


def _expression(a, b, c, lib):
    """The same expression for Values (lib=None) and for torch tensors (lib=torch)."""
    if lib is None:
        exp, log, tanh, relu, sig = Value.exp, Value.log, Value.tanh, Value.relu, Value.sigmoid
    else:
        exp, log, tanh, relu, sig = lib.exp, lib.log, lib.tanh, lib.relu, lib.sigmoid
    d = a * b + c**2 - a / c
    e = tanh(d) + exp(b * 0.5) * sig(a - c)
    f = log(a * a + 1.0) + relu(d) + relu(-1.0 * b) + 2.0 / (e + 3.0) - (1.0 - a) * e
    return f * f + e**3


def test_value_gradients_match_torch_autograd():
    values = [Value(v) for v in (0.7, -1.3, 2.1)]
    out = _expression(*values, None)
    out.backward()
    tensors = [t(v, grad=True) for v in (0.7, -1.3, 2.1)]
    out_t = _expression(*tensors, torch)
    out_t.backward()
    close(out.data, out_t.item())
    for v, tt in zip(values, tensors, strict=True):
        close(v.grad, tt.grad.item())


# --- positional arguments mean what they mean in torch ------------------------------------

TWINS = [
    (SGD, torch.optim.SGD),
    (RMSprop, torch.optim.RMSprop),
    (Adagrad, torch.optim.Adagrad),
    (Adam, torch.optim.Adam),
    (StepLR, torch.optim.lr_scheduler.StepLR),
    (ExponentialLR, torch.optim.lr_scheduler.ExponentialLR),
    (CosineAnnealingLR, torch.optim.lr_scheduler.CosineAnnealingLR),
]


@pytest.mark.parametrize(("ours", "theirs"), TWINS, ids=lambda c: c.__module__ + c.__name__)
def test_positional_arguments_follow_torch_or_are_keyword_only(ours, theirs):
    import inspect

    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    mine = [p for p in inspect.signature(ours).parameters.values() if p.kind in kinds]
    torchs = [p for p in inspect.signature(theirs).parameters.values() if p.kind in kinds]
    # Every positional slot of ours has torch's name at the same place ...
    assert [p.name for p in mine] == [p.name for p in torchs[: len(mine)]]
    # ... and an optimiser takes nothing positionally after lr.
    if issubclass(ours, Optimizer):
        assert [p.name for p in mine] == ["params", "lr"]
    for p in inspect.signature(ours).parameters.values():
        if p.kind is inspect.Parameter.KEYWORD_ONLY:
            assert p.name in inspect.signature(theirs).parameters, p.name


def test_sgd_and_adagrad_positional_calls_cannot_mean_something_else():
    w = [Linear(2, 1).weight]
    with pytest.raises(TypeError):
        SGD(w, 0.1, 0.9, 0.5)  # torch reads 0.5 as dampening
    with pytest.raises(TypeError):
        Adagrad(w, 0.1, 0.5)  # torch reads 0.5 as lr_decay


# --- an option we refuse says what to do instead -------------------------------------------


def test_soft_targets_reproduce_label_smoothing_exactly(rng):
    # The advice CrossEntropyLoss(label_smoothing=...) gives, checked against torch.
    z, y, eps = rng.normal(size=(7, 4)), rng.integers(0, 4, 7), 0.1
    with pytest.raises(TypeError, match=r"label_smoothing.*one_hot"):
        CrossEntropyLoss(label_smoothing=eps)
    soft = (1 - eps) * F.one_hot(y, 4) + eps / 4
    loss = CrossEntropyLoss()
    value = loss(z, soft)
    z_t = t(z).requires_grad_()
    ref = torch.nn.CrossEntropyLoss(label_smoothing=eps)(z_t, torch.tensor(y))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    close(loss.backward(), z_t.grad)


def test_ignore_index_advice_matches_torch(rng):
    z, y = rng.normal(size=(6, 3)), np.array([0, 2, -1, 1, -1, 2])
    CrossEntropyLoss(ignore_index=-100)  # torch's default: nothing is ignored, accepted
    with pytest.raises(TypeError, match=r"ignore_index=-1.*keep = y != "):
        CrossEntropyLoss(ignore_index=-1)
    keep = y != -1
    ours = CrossEntropyLoss()(z[keep], y[keep])
    theirs = torch.nn.CrossEntropyLoss(ignore_index=-1)(t(z), torch.tensor(y)).item()
    assert ours == pytest.approx(theirs, rel=1e-12)
