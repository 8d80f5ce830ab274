"""Optimisers and learning-rate schedules, with the update equations of ``torch.optim``.

An optimiser holds a list of ``Parameter`` s; ``step()`` updates each ``data`` in place
from its ``grad``, and ``zero_grad()`` clears the gradients. Given the same gradients,
the trajectories agree with torch step for step (tested in float64).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ._validate import as_int, as_positive, refuse_options
from .layers import Parameter

__all__ = [
    "Optimizer",
    "SGD",
    "RMSprop",
    "Adagrad",
    "Adam",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
]


_ONE_IMPLEMENTATION = (
    "it chooses between torch's implementations; nnscratch has one (NumPy), so leave it out"
)
_MAXIMIZE = "to maximise f, minimise -f: negate the loss (or the gradients) and keep maximize=False"
_TORCH_ONLY = {
    "foreach": (None, _ONE_IMPLEMENTATION),
    "fused": (None, _ONE_IMPLEMENTATION),
    "capturable": (False, _ONE_IMPLEMENTATION),
    "differentiable": (False, _ONE_IMPLEMENTATION),
    "maximize": (False, _MAXIMIZE),
}


class Optimizer:
    """Base class: keeps ``params``, the learning rate ``lr`` and per-parameter ``state``.

    Everything after ``lr`` is keyword-only, so no positional argument can mean something
    else than in torch. Torch options we do not implement are accepted at their default
    and refused otherwise, with a note on what to do instead (``_refused``).
    """

    _refused: dict[str, tuple[object, str]] = {}

    def __init__(self, params: Iterable[Parameter], lr: float, **options: object) -> None:
        name, takes = type(self).__name__, ", ".join(self._takes())
        refuse_options(name, options, _TORCH_ONLY | self._refused, takes=takes)
        self.params = list(params)
        if not self.params:
            raise ValueError(
                "optimizer got an empty parameter list (did you pass model.parameters()?)"
            )
        for i, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"optimizer params must be nnscratch Parameters, item {i} is {type(p).__name__}"
                )
        self.lr = as_positive(lr, "learning rate lr", allow_zero=True)
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        self.steps = 0

    @classmethod
    def _takes(cls) -> list[str]:
        import inspect

        return [k for k in inspect.signature(cls).parameters if k not in ("params", "options")]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Apply one update to every parameter from its current ``grad``."""
        self.steps += 1
        for p, state in zip(self.params, self.state, strict=True):
            self._update(p, state)

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay (torch's form).

    g = grad + weight_decay * w;  v = momentum * v + g (v = g on the first step);  w -= lr * v.
    Shapes: each update has the shape of its parameter.
    """

    _refused = {
        "dampening": (0, "not implemented: v = momentum * v + g, as with torch's default 0"),
        "nesterov": (False, "Nesterov momentum is not implemented; use momentum=... alone"),
    }

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        *,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        **options: object,
    ) -> None:
        super().__init__(params, lr, **options)
        self.momentum = as_positive(momentum, "momentum", allow_zero=True)
        self.weight_decay = as_positive(weight_decay, "weight_decay", allow_zero=True)

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        g = p.grad
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = g.copy()
            else:
                v = state["velocity"]
                v *= self.momentum
                v += g
            g = state["velocity"]
        p.data -= self.lr * g


class RMSprop(Optimizer):
    """RMSprop: s = alpha * s + (1 - alpha) * g**2;  w -= lr * g / (sqrt(s) + eps)."""

    _refused = {
        "weight_decay": (0, "not implemented for RMSprop; use SGD or Adam with weight_decay"),
        "momentum": (0, "not implemented for RMSprop; Adam combines momentum with RMSprop"),
        "centered": (False, "the centered variant is not implemented"),
    }

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        *,
        alpha: float = 0.99,
        eps: float = 1e-8,
        **options: object,
    ) -> None:
        super().__init__(params, lr, **options)
        self.alpha = as_positive(alpha, "alpha", allow_zero=True)
        self.eps = as_positive(eps, "eps", allow_zero=True)

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        g = p.grad
        if not state:  # the first step: the average starts at zero
            state["square_avg"] = np.zeros_like(p.data)
        s = state["square_avg"]
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        p.data -= self.lr * g / (np.sqrt(s) + self.eps)


class Adagrad(Optimizer):
    """Adagrad: s += g**2;  w -= lr * g / (sqrt(s) + eps)."""

    _refused = {
        "lr_decay": (0, "not implemented; lower the rate with a schedule such as ExponentialLR"),
        "weight_decay": (
            0,
            "not implemented for Adagrad; torch adds weight_decay * w to the gradient, which "
            "you can do before step(): p.grad += weight_decay * p.data",
        ),
        "initial_accumulator_value": (0, "not implemented: the sum of squares starts at 0"),
    }

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        *,
        eps: float = 1e-10,
        **options: object,
    ) -> None:
        super().__init__(params, lr, **options)
        self.eps = as_positive(eps, "eps", allow_zero=True)

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        g = p.grad
        if not state:  # the first step: the sum starts at zero
            state["sum"] = np.zeros_like(p.data)
        s = state["sum"]
        s += g * g
        p.data -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam with bias correction and optional L2 weight decay (torch's ``Adam``, not ``AdamW``).

    g = grad + wd * w;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g**2;
    w -= lr * (m / (1-b1**t)) / (sqrt(v / (1-b2**t)) + eps).
    """

    _refused = {
        "amsgrad": (False, "the AMSGrad variant is not implemented; use Adam as it is"),
        "decoupled_weight_decay": (
            False,
            "that is AdamW, not implemented; weight_decay here is torch Adam's L2 form",
        ),
    }

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        **options: object,
    ) -> None:
        super().__init__(params, lr, **options)
        if (
            not isinstance(betas, (tuple, list))
            or len(betas) != 2
            or not all(0 <= as_positive(b, "beta", allow_zero=True) < 1 for b in betas)
        ):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = as_positive(eps, "eps", allow_zero=True)
        self.weight_decay = as_positive(weight_decay, "weight_decay", allow_zero=True)

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        b1, b2 = self.betas
        g = p.grad
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if not state:  # the first step: both moments start at zero
            state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(p.data), np.zeros_like(p.data)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        t = self.steps
        # denom = sqrt(v) / sqrt(1 - b2**t) + eps, computed in place: one array, not three
        denom = np.sqrt(v)
        denom /= math.sqrt(1 - b2**t)
        denom += self.eps
        p.data -= (self.lr / (1 - b1**t)) * m / denom


class LRScheduler:
    """Base class of learning-rate schedules: call ``step()`` once per epoch, after training it.

    ``get_lr(epoch)`` gives the rate for an epoch; ``step()`` writes it into ``optimizer.lr``.
    Positional arguments follow torch's order; ``last_epoch`` (resuming) is refused.
    """

    def __init__(self, optimizer: Optimizer, **options: object) -> None:
        refuse_options(
            type(self).__name__,
            options,
            {
                "last_epoch": (
                    -1,
                    "resuming is not supported: make the schedule at the start of "
                    "training and call step() once per epoch",
                )
            },  # fmt: skip
            takes="the arguments in its help()",
        )
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"a schedule needs an nnscratch optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    def get_lr(self, epoch: int) -> float:  # pragma: no cover - abstract
        """Learning rate to use in epoch ``epoch`` (0-based)."""
        raise NotImplementedError

    def step(self) -> float:
        """Advance one epoch; set and return the optimizer's new learning rate."""
        self.epoch += 1
        self.optimizer.lr = self.get_lr(self.epoch)
        return self.optimizer.lr


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: lr0 * gamma**(epoch // step)."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, **options: object
    ) -> None:
        super().__init__(optimizer, **options)
        self.step_size = as_int(step_size, "step_size")
        self.gamma = as_positive(gamma, "gamma")

    def get_lr(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: lr0 * gamma**epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, **options: object) -> None:
        super().__init__(optimizer, **options)
        self.gamma = as_positive(gamma, "gamma")

    def get_lr(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """Cosine decay from lr0 to ``eta_min`` over ``T_max`` epochs (torch's closed form).

    lr = eta_min + (lr0 - eta_min) * (1 + cos(pi * epoch / T_max)) / 2. As in torch, the
    cosine goes on after ``T_max``: the rate climbs back to lr0 by epoch ``2 * T_max``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,  # noqa: N803
        eta_min: float = 0.0,
        **options: object,
    ) -> None:
        super().__init__(optimizer, **options)
        self.T_max = as_int(T_max, "T_max")
        self.eta_min = as_positive(eta_min, "eta_min", allow_zero=True)

    def get_lr(self, epoch: int) -> float:
        return (
            self.eta_min
            + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        )
