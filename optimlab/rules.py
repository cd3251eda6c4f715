"""Update rules: one small, pure class per optimizer, written next to its equation.

Conventions used everywhere in the book
---------------------------------------
* ``θ`` parameters, ``g`` gradient, ``η`` (``lr``) learning rate, ``t`` step count (1 on the
  first step).
* **ε sits outside the square root**: ``θ ← θ − η m̂ / (√v̂ + ε)``, as in PyTorch and in the
  Adam paper.  (Putting it inside, ``√(v̂ + ε)``, is a different, usually weaker, guard.)
* **Momentum**: ``SGD(momentum=μ)`` is PyTorch's form ``b ← μb + (1−τ)g, θ ← θ − ηb``
  (τ = dampening, and ``b₁ = g₁``).  ``Momentum(beta=β)`` is the EMA form of the source texts
  ``v ← βv + (1−β)g, θ ← θ − ηv`` (``v₀ = 0``).  See :class:`Momentum` for the mapping.

The contract, the same for every rule::

    opt = Adam(lr=0.1)
    state = opt.init(x)              # a NamedTuple you can print
    x, state = opt.step(x, g, state) # pure: x, g and state are never mutated
    opt.replace(lr=0.01)             # a new rule with changed hyperparameters (rules are frozen)

One body per rule, two ways to run it
-------------------------------------
Each rule writes its step once, as ``update(x, g, state)``: it overwrites ``x`` and the state's
arrays in place and returns ``(x, state)`` (the counters advanced).  ``step`` is the pure form of
the same body: it copies ``x`` and the state's arrays (broadcast to the batch shape of array
hyperparameters) and calls ``update`` on the copies.  :mod:`optimlab.torch` calls ``update``
directly on the parameter and torch.optim's state tensors, so a training step allocates no
more than torch.optim's own single-tensor step does (its temporaries are the same).

``update`` reaches its arrays only through the namespace ``ops = _ops(x)``, which has the names
of torch's in-place tensor methods (``lerp_``, ``mul_``, ``add_``, ``addcmul_``, ``addcdiv_``,
``sqrt_``...): for a tensor they *are* those methods, for a numpy array they are numpy ufuncs
writing into their first argument; under autograd (``differentiable=True``) they are torch's
out-of-place twins, so gradients flow through the same body.  Writing the body in torch.optim's
order of operations makes optimlab.torch agree with torch.optim to the bit.  A new rule follows
the same pattern:

* ``init(x)`` returns the state NamedTuple: arrays shaped like ``x`` (the *buffers*) and the
  counters named in ``COUNTERS`` (numbers, never mutated: ``update`` returns new ones);
* ``update(x, g, state)`` starts with ``ops = _ops(x)`` and ``g = self._grad(x, g)`` (decoupled
  decay: ``x = self._decay(x, ops)``), changes ``x`` and the buffers only through ``ops`` and
  always keeps what an op returns (``m = ops.lerp_(state.m, g, 1 - beta1)``; it may also
  replace a buffer by a new array), reads a counter through ``ops.value`` where it needs a
  Python number, returns ``x, State(...)``, and branches only on Python values fixed at
  construction (flags set in ``__post_init__``), never on array contents (that keeps
  ``torch.compile`` from breaking the graph);
* it does not define ``step``: the base class's pure ``step`` copies and calls ``update``.
  (A rule that defines only a pure ``step`` still works everywhere; optimlab.torch then copies
  its results back, at the old cost.)

Why this design: the first version was one pure expression per rule, the adapter copying its
results back; every step built several parameter-sized tensors per parameter, 1.9–5.7× torch's
step time and 2–3× its transient memory.  With ``update`` the same operations as torch.optim's
run on the same tensors: the step time is torch's plus a few microseconds of Python per tensor
(``benchmarks/bench_torch.py``), and the numbers are torch's to the bit.  Stepping each param
group as one flat buffer (not measured) would need the parameters and gradients copied into it
and back at every step, about as much memory traffic as Adam's step itself on a large model.

Hyperparameters may be numpy arrays that broadcast against ``x`` (``lr=lrs[:, None]`` with
``x`` of shape ``(N, 2)`` runs N learning rates at once).  The same code runs on torch tensors:
:mod:`optimlab.torch` wraps these classes as ``torch.optim.Optimizer`` subclasses.

Names, hyperparameters and defaults follow ``torch.optim`` (torch 2.13) exactly.
"""
from __future__ import annotations

import dataclasses
import math
import sys
import types
from typing import Any, ClassVar, NamedTuple

import numpy as np

__all__ = [
    "Optimizer", "SGD", "Momentum", "RMSprop", "Adagrad", "Adam", "AdamW", "NAdam", "Lion", "RAdam",
    "Adafactor", "Muon", "newton_schulz", "AdafactorState", "MuonState",
    "SGDState", "MomentumState", "RMSpropState", "AdagradState", "AdamState", "NAdamState",
    "LionState", "RAdamState",
]


# --------------------------------------------------------------------------- helpers
def _xp(x):
    """The array module of ``x``: numpy, or torch for a tensor (torch is never imported here)."""
    torch = sys.modules.get("torch")
    return torch if torch is not None and isinstance(x, torch.Tensor) else np


def _sqrt(x):
    return _xp(x).sqrt(x)


#: State fields that are counters (numbers, or 0-dim tensors in optimlab.torch): ``update``
#: returns new values for them.  Every other field that is not None is a buffer shaped like x.
COUNTERS = ("step", "mu_product")


class _NumpyOps:
    """numpy under the names of the torch tensor methods ``update`` calls.

    A name ending in ``_`` writes its result into its first argument (and returns it), as torch's
    in-place methods do; hyperparameters may be arrays broadcasting against it."""

    @staticmethod
    def lerp_(a, b, w):
        a += w * (b - a)
        return a

    @staticmethod
    def mul_(a, s):
        return np.multiply(a, s, out=a)

    @staticmethod
    def div_(a, s):
        return np.divide(a, s, out=a)

    @staticmethod
    def add_(a, b, alpha=None):
        a += b if alpha is None else alpha * b
        return a

    @staticmethod
    def addcmul_(a, b, c, value=1):
        a += value * b * c
        return a

    @staticmethod
    def addcdiv_(a, b, c, value=1):
        a += value * (b / c)
        return a

    @staticmethod
    def sqrt_(a):
        return np.sqrt(a, out=a)

    @staticmethod
    def maximum_(a, b):
        return np.maximum(a, b, out=a)

    @staticmethod
    def sign_(a):
        return np.sign(a, out=a)

    @staticmethod
    def add(a, b, alpha=1):
        return a + alpha * b

    @staticmethod
    def addcmul(a, b, c, value=1):
        return a + value * b * c

    sqrt, div, where = np.sqrt, np.divide, np.where

    @staticmethod
    def clone(a):
        return np.array(a, dtype=np.result_type(a, 0.0))

    @staticmethod
    def fresh(a, batch_shape):
        """A writable copy of ``a``, broadcast to the batch shape of the hyperparameters."""
        a = np.asarray(a)
        return np.array(np.broadcast_to(a, np.broadcast_shapes(a.shape, batch_shape)),
                        dtype=np.result_type(a, 0.0))

    @staticmethod
    def value(v):
        return v


def _torch_ops():
    """The torch twins of :class:`_NumpyOps`: the tensor methods themselves, in place, and (for
    autograd) out of place.  Namespaces, not classes, so that torch.compile traces through them."""
    torch = sys.modules["torch"]
    T = torch.Tensor

    def maximum_(a, b):
        return torch.maximum(a, b, out=a)

    def fresh(a, batch_shape):
        return a.clone()

    def value(v):
        """A counter as a Python number (as torch.optim's ``_get_value``; kept a tensor when
        compiling, so that a compiled step does not depend on its value)."""
        if isinstance(v, T) and not torch.compiler.is_compiling():
            return v.item()
        return v

    common = dict(add=T.add, addcmul=T.addcmul, sqrt=T.sqrt, div=T.div, clone=T.clone,
                  where=torch.where, fresh=fresh, value=value)
    in_place = types.SimpleNamespace(
        lerp_=T.lerp_, mul_=T.mul_, div_=T.div_, add_=T.add_, addcmul_=T.addcmul_,
        addcdiv_=T.addcdiv_, sqrt_=T.sqrt_, maximum_=maximum_, sign_=T.sign_, **common)
    autograd = types.SimpleNamespace(
        lerp_=T.lerp, mul_=T.mul, div_=T.div, add_=T.add, addcmul_=T.addcmul, addcdiv_=T.addcdiv,
        sqrt_=T.sqrt, maximum_=torch.maximum, sign_=T.sign, **common)
    return in_place, autograd


def _ops(x):
    """The array namespace for ``x``: :class:`_NumpyOps`, torch's in-place tensor methods, or
    (autograd on) their out-of-place twins, so that gradients can flow through the step."""
    if isinstance(x, np.ndarray):
        return _NumpyOps
    if not _TORCH_OPS:
        _TORCH_OPS.extend(_torch_ops())
    return _TORCH_OPS[sys.modules["torch"].is_grad_enabled()]


_TORCH_OPS: list = []


def _nonzero(value) -> bool:
    """Whether a hyperparameter (a number or an array of them) is anywhere non-zero."""
    if type(value) in (float, int):
        return value != 0
    return bool(np.any(np.asarray(value) != 0))


def _interval(lo, hi, lo_open, hi_open):
    return f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"


def _check(name: str, value, lo=0.0, hi=math.inf, *, lo_open=False, hi_open=False):
    """Raise ``ValueError`` unless every element of ``value`` lies in the interval (never ±inf)."""
    hi_open = hi_open or hi == math.inf
    if type(value) in (float, int):  # the common case, without numpy (a rule is built per lr change)
        if (lo < value if lo_open else lo <= value) and (value < hi if hi_open else value <= hi):
            return
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    bad = np.isnan(arr) | (arr <= lo if lo_open else arr < lo) | (arr >= hi if hi_open else arr > hi)
    if bad.any():
        shown = value if arr.ndim == 0 else arr[bad].ravel()[0]
        raise ValueError(
            f"{name} must be in {_interval(lo, hi, lo_open, hi_open)}, got {shown}")


# --------------------------------------------------------------------------- base class
@dataclasses.dataclass(frozen=True, eq=False)
class Optimizer:
    """Base class: holds validated hyperparameters; subclasses define ``init`` and ``step``.

    A subclass declares what the shared pieces below handle for it (class attributes, not
    fields): how it takes weight decay (:attr:`weight_decay_mode`), whether it has a
    ``maximize`` switch and whether it has a ``betas`` pair to validate.
    """

    #: ``"l2"``: :meth:`_grad` adds λθ to the gradient; ``"decoupled"``: the rule shrinks θ itself
    #: (:meth:`_decay`); ``"option"``: its ``decoupled_weight_decay`` field chooses; ``None``: no
    #: weight decay.
    weight_decay_mode: ClassVar[str | None] = "l2"
    #: Whether the rule has a ``maximize`` field (the gradient is sign-flipped by :meth:`_grad`).
    has_maximize: ClassVar[bool] = True
    #: Whether the rule has a ``betas`` pair (each in [0, 1), validated before ``_validate``).
    has_betas: ClassVar[bool] = False
    #: Whether its statistics span a whole parameter tensor (norms, factored rows and columns):
    #: then it steps one parameter of one configuration at a time (no batch of runs).
    whole_tensor: ClassVar[bool] = False

    def __post_init__(self):
        if self.has_betas:
            if not (isinstance(self.betas, (tuple, list)) and len(self.betas) == 2):
                raise ValueError(f"betas must be a pair (beta1, beta2), got {self.betas!r}")
            object.__setattr__(self, "betas", tuple(self.betas))  # torch accepts lists too
            _check("betas[0]", self.betas[0], 0.0, 1.0, hi_open=True)
            _check("betas[1]", self.betas[1], 0.0, 1.0, hi_open=True)
        self._validate()
        fixed = {  # Python values the update branches on, fixed here (never recomputed per step)
            "_decays": _nonzero(getattr(self, "weight_decay", 0)),
            "_momentum_on": _nonzero(getattr(self, "momentum", 0)),
            "_batch_shape": self.shape,
        }
        for name, value in fixed.items():
            object.__setattr__(self, name, value)

    def _validate(self):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    # -- the contract -------------------------------------------------------------------
    def init(self, x) -> NamedTuple:
        raise NotImplementedError

    def step(self, x, g, state):
        """One step, pure: returns the new ``x`` and state; ``x``, ``g`` and ``state`` are unchanged."""
        if _shape(g) != _shape(x):
            raise ValueError(f"gradient shape {_shape(g)} does not match parameter shape {_shape(x)}")
        ops = _ops(x)
        fresh = [value if value is None or name in COUNTERS else ops.fresh(value, self._batch_shape)
                 for name, value in zip(state._fields, state)]
        x = ops.fresh(x, self._batch_shape)
        if _shape(g) != _shape(x):  # numpy, array hyperparameters: one start, many runs
            g = np.broadcast_to(g, x.shape)
        return self.update(x, g, type(state)(*fresh))

    def update(self, x, g, state):
        """One step that may overwrite ``x`` and the state's buffers: returns the new ``x`` and
        state (the same arrays when it ran in place; new ones under autograd)."""
        raise NotImplementedError

    # -- shared pieces ------------------------------------------------------------------
    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters as a dict (the keyword arguments that rebuild this optimizer)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes) -> "Optimizer":
        """A copy with some hyperparameters changed, validated like a new optimizer.

        ``opt.replace(lr=0.01)``: the rule is frozen, so a schedule builds a new one per step.
        """
        unknown = sorted(set(changes) - set(self.hyperparameters))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no hyperparameter {unknown[0]!r}; "
                             f"its hyperparameters are {', '.join(self.hyperparameters)}")
        return dataclasses.replace(self, **changes)

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of the array-valued hyperparameters (``()`` when all are scalars)."""
        shapes = []
        for value in self.hyperparameters.values():
            for v in value if isinstance(value, tuple) else (value,):
                if type(v) not in (float, int, bool):
                    shapes.append(np.shape(v))
        return np.broadcast_shapes(*shapes)

    def _grad(self, x, g):
        """The gradient the rule sees: sign-flipped for ``maximize``, plus L2 weight decay."""
        if getattr(g, "shape", None) != x.shape and _shape(g) != _shape(x):
            raise ValueError(f"gradient shape {_shape(g)} does not match parameter shape {_shape(x)}")
        if self.has_maximize and self.maximize:
            g = -g
        if self._decays and self._l2:
            g = _ops(x).add(g, x, alpha=self.weight_decay)
        return g

    @property
    def _l2(self) -> bool:
        mode = self.weight_decay_mode
        return mode == "l2" or (mode == "option" and not self.decoupled_weight_decay)

    def _decay(self, x, ops=None):
        """Decoupled weight decay, ``θ ← (1 − ηλ)θ`` (a no-op for L2 or no weight decay); pure,
        or in place through ``ops`` (in ``update``)."""
        if self.weight_decay_mode is None or self._l2 or not self._decays:
            return x
        factor = 1 - self.lr * self.weight_decay
        return x * factor if ops is None else ops.mul_(x, factor)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({args})"


def _zeros(x):
    return _xp(x).zeros_like(x)


def _shape(a) -> tuple:
    return tuple(a.shape) if hasattr(a, "shape") else np.shape(a)


# --------------------------------------------------------------------------- SGD
class SGDState(NamedTuple):
    step: int
    momentum_buffer: Any  # b (momentum > 0 only, else None)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum — PyTorch's form.

    .. math::
        b_1 = g_1,\qquad b_t = \mu\, b_{t-1} + (1-\tau)\, g_t,\qquad
        \theta_t = \theta_{t-1} - \eta\, d_t

    with :math:`d_t = b_t` (heavy ball) or :math:`d_t = g_t + \mu b_t` (Nesterov), where
    :math:`\mu` is ``momentum`` and :math:`\tau` is ``dampening``.  With ``momentum=0`` this
    is plain gradient descent :math:`\theta_t = \theta_{t-1} - \eta g_t`.
    """

    lr: Any = 1e-3
    momentum: Any = 0.0
    dampening: Any = 0.0
    weight_decay: Any = 0.0
    nesterov: bool = False
    maximize: bool = False

    def _validate(self):
        _check("lr", self.lr)
        _check("momentum", self.momentum, 0.0, 1.0)
        _check("dampening", self.dampening, 0.0, 1.0)
        _check("weight_decay", self.weight_decay)
        if self.nesterov and (np.any(np.asarray(self.momentum) <= 0) or np.any(np.asarray(self.dampening) != 0)):
            raise ValueError("nesterov=True requires momentum in (0, 1] and dampening == 0")

    def init(self, x):
        return SGDState(0, _zeros(x) if self._momentum_on else None)  # plain SGD keeps no state

    def update(self, x, g, state):
        ops = _ops(x)
        g = self._grad(x, g)
        t = state.step + 1
        b = state.momentum_buffer
        if self._momentum_on:
            if t == 1:
                b = ops.clone(g)  # b₁ = g₁: a new buffer, as torch.optim makes it
            else:
                b = ops.add_(ops.mul_(b, self.momentum), g, alpha=1 - self.dampening)
            d = ops.add(g, b, alpha=self.momentum) if self.nesterov else b
            if isinstance(self.momentum, np.ndarray) and not np.all(self.momentum != 0):
                d = ops.where(self.momentum != 0, d, g)  # entries with momentum 0 are plain SGD
        else:
            d = g
        return ops.add_(x, d, alpha=-self.lr), SGDState(t, b)


# --------------------------------------------------------------------------- Momentum (EMA form)
class MomentumState(NamedTuple):
    step: int
    velocity: Any  # v


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Momentum(Optimizer):
    r"""Momentum in the exponential-moving-average form used by many textbooks.

    .. math::
        v_0 = 0,\qquad v_t = \beta v_{t-1} + (1-\beta) g_t,\qquad \theta_t = \theta_{t-1} - \eta v_t

    **Three ways to write momentum, one trajectory.**  Starting from rest (``v₀ = 0``):

    * EMA form (this class): ``v ← βv + (1−β)g,  θ ← θ − ηv``;
    * PyTorch, ``SGD(momentum=μ)``: ``b ← μb + g,  θ ← θ − η′b`` — the same path when
      ``μ = β`` and ``η′ = (1−β)η``;
    * classical (Polyak): ``u ← γu + η″g,  θ ← θ − u`` — the same path when ``γ = β`` and
      ``η″ = (1−β)η``.

    (Induction: ``b_t = v_t / (1−β)`` and ``u_t = η v_t``.)  PyTorch's buffer starts at
    ``b₁ = g₁`` rather than ``b₀ = 0``, which is the same as ``b₀ = 0`` followed by
    ``b₁ = μ·0 + g₁``, so the mapping holds from the first step.  The EMA form keeps the size of
    a step independent of β; the other two take steps up to ``1/(1−β)`` times larger.
    """

    lr: Any = 1e-3
    beta: Any = 0.9
    weight_decay: Any = 0.0
    maximize: bool = False

    def _validate(self):
        _check("lr", self.lr)
        _check("beta", self.beta, 0.0, 1.0, hi_open=True)
        _check("weight_decay", self.weight_decay)

    def init(self, x):
        return MomentumState(0, _zeros(x))

    def update(self, x, g, state):
        ops = _ops(x)
        g = self._grad(x, g)
        v = ops.lerp_(state.velocity, g, 1 - self.beta)  # v ← βv + (1−β)g
        return ops.add_(x, v, alpha=-self.lr), MomentumState(state.step + 1, v)


# --------------------------------------------------------------------------- RMSprop
class RMSpropState(NamedTuple):
    step: int
    square_avg: Any       # v, running mean of g²
    grad_avg: Any         # ḡ, running mean of g (centered only, else None)
    momentum_buffer: Any  # b (momentum > 0 only, else None)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class RMSprop(Optimizer):
    r"""RMSprop: divide each coordinate's step by the root of a running mean of its squared gradient.

    .. math::
        v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\qquad
        \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{v_t} + \varepsilon}

    ``centered=True`` subtracts the squared running mean of the gradient,
    :math:`\sqrt{v_t - \bar g_t^2}` with :math:`\bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t`;
    ``momentum=μ>0`` accumulates :math:`b_t = \mu b_{t-1} + g_t/(\sqrt{v_t}+\varepsilon)` and
    steps :math:`\theta_t = \theta_{t-1} - \eta b_t`.  ε is outside the root (PyTorch).
    ``v₀ = 0`` and there is no bias correction, so the first steps are larger than ``η``.
    """

    lr: Any = 1e-2
    alpha: Any = 0.99
    eps: Any = 1e-8
    weight_decay: Any = 0.0
    momentum: Any = 0.0
    centered: bool = False
    maximize: bool = False

    def _validate(self):
        _check("lr", self.lr)
        _check("alpha", self.alpha, 0.0, 1.0)
        _check("eps", self.eps)
        _check("weight_decay", self.weight_decay)
        _check("momentum", self.momentum, 0.0, 1.0)

    def init(self, x):
        return RMSpropState(0, _zeros(x), _zeros(x) if self.centered else None,
                            _zeros(x) if self._momentum_on else None)

    def update(self, x, g, state):
        ops = _ops(x)
        g = self._grad(x, g)
        v, g_avg, b = state.square_avg, state.grad_avg, state.momentum_buffer
        v = ops.addcmul_(ops.mul_(v, self.alpha), g, g, value=1 - self.alpha)
        if self.centered:
            g_avg = ops.lerp_(g_avg, g, 1 - self.alpha)
            denom = ops.sqrt_(ops.addcmul(v, g_avg, g_avg, value=-1))
        else:
            denom = ops.sqrt(v)
        denom = ops.add_(denom, self.eps)
        if b is not None:
            b = ops.addcdiv_(ops.mul_(b, self.momentum), g, denom)
            x = ops.add_(x, b, alpha=-self.lr)
        else:
            x = ops.addcdiv_(x, g, denom, value=-self.lr)
        return x, RMSpropState(state.step + 1, v, g_avg, b)


# --------------------------------------------------------------------------- Adagrad
class AdagradState(NamedTuple):
    step: int
    sum: Any  # G, running *sum* of g²


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Adagrad(Optimizer):
    r"""Adagrad: divide by the root of the *sum* of all squared gradients so far.

    .. math::
        G_t = G_{t-1} + g_t^2,\qquad
        \theta_t = \theta_{t-1} - \frac{\eta}{1 + (t-1)\,\delta}\, \frac{g_t}{\sqrt{G_t} + \varepsilon}

    with :math:`G_0` = ``initial_accumulator_value`` and δ = ``lr_decay``.  G only grows, so
    the effective step shrinks like :math:`1/\sqrt t` even when the gradient does not.
    """

    lr: Any = 1e-2
    lr_decay: Any = 0.0
    weight_decay: Any = 0.0
    initial_accumulator_value: Any = 0.0
    eps: Any = 1e-10
    maximize: bool = False

    def _validate(self):
        _check("lr", self.lr)
        _check("lr_decay", self.lr_decay)
        _check("weight_decay", self.weight_decay)
        _check("initial_accumulator_value", self.initial_accumulator_value)
        _check("eps", self.eps)

    def init(self, x):
        return AdagradState(0, _zeros(x) + self.initial_accumulator_value)

    def update(self, x, g, state):
        ops = _ops(x)
        g = self._grad(x, g)
        t = state.step + 1
        G = ops.addcmul_(state.sum, g, g, value=1)
        std = ops.add_(ops.sqrt(G), self.eps)
        x = ops.addcdiv_(x, g, std, value=-(self.lr / (1 + (ops.value(t) - 1) * self.lr_decay)))
        return x, AdagradState(t, G)


# --------------------------------------------------------------------------- Adam / AdamW
class AdamState(NamedTuple):
    step: int
    m: Any      # first moment, EMA of g
    v: Any      # second moment, EMA of g²
    v_max: Any  # running max of v (amsgrad only, else None)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop scaling, both bias-corrected.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

        \hat m_t = \frac{m_t}{1-\beta_1^t},\qquad \hat v_t = \frac{v_t}{1-\beta_2^t},\qquad
        \theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}

    ``amsgrad=True`` divides by the running maximum of :math:`v_t` instead (Reddi et al. 2018).
    ``weight_decay`` adds :math:`\lambda\theta` to the gradient (L2); with
    ``decoupled_weight_decay=True`` it shrinks :math:`\theta \leftarrow (1-\eta\lambda)\theta`
    before the step instead (AdamW).
    """

    lr: Any = 1e-3
    betas: tuple = (0.9, 0.999)
    eps: Any = 1e-8
    weight_decay: Any = 0.0
    amsgrad: bool = False
    maximize: bool = False
    decoupled_weight_decay: bool = False

    weight_decay_mode = "option"
    has_betas = True

    def _validate(self):
        _check("lr", self.lr)
        _check("eps", self.eps)
        _check("weight_decay", self.weight_decay)

    def init(self, x):
        return AdamState(0, _zeros(x), _zeros(x), _zeros(x) if self.amsgrad else None)

    def update(self, x, g, state):
        ops = _ops(x)
        beta1, beta2 = self.betas
        g = self._grad(x, g)
        x = self._decay(x, ops)
        t = state.step + 1
        m = ops.lerp_(state.m, g, 1 - beta1)
        v = ops.addcmul_(ops.mul_(state.v, beta2), g, g, value=1 - beta2)
        v_max = ops.maximum_(state.v_max, v) if self.amsgrad else None
        t_ = ops.value(t)
        # √v̂ + ε = √v / √(1−β₂ᵗ) + ε, and η m̂ = η/(1−β₁ᵗ) · m
        denom = ops.add_(ops.div(ops.sqrt(v_max if self.amsgrad else v), (1 - beta2 ** t_) ** 0.5),
                         self.eps)
        x = ops.addcdiv_(x, m, denom, value=-(self.lr / (1 - beta1 ** t_)))
        return x, AdamState(t, m, v, v_max)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019).

    .. math::
        \theta \leftarrow (1-\eta\lambda)\,\theta,\quad\text{then the Adam step on } g
        \text{ (without } \lambda\theta\text{)}

    Same as ``Adam(..., decoupled_weight_decay=True)``; the default ``weight_decay`` is 0.01.
    """

    weight_decay: Any = 1e-2
    decoupled_weight_decay: bool = True

    def _validate(self):
        super()._validate()
        if not self.decoupled_weight_decay:
            raise ValueError("AdamW always decouples weight decay: decoupled_weight_decay must be True")


# --------------------------------------------------------------------------- NAdam
class NAdamState(NamedTuple):
    step: int
    mu_product: Any  # ∏ μ_i
    m: Any
    v: Any


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class NAdam(Optimizer):
    r"""NAdam: Adam with a Nesterov-style look-ahead on the first moment (Dozat 2016).

    .. math::
        \mu_t = \beta_1\bigl(1 - \tfrac12\, 0.96^{t\psi}\bigr),\qquad
        \theta_t = \theta_{t-1} - \eta\Bigl(\frac{(1-\mu_t)\, g_t}{1-\prod_{i\le t}\mu_i}
        + \frac{\mu_{t+1}\, m_t}{1-\prod_{i\le t+1}\mu_i}\Bigr)\Big/\bigl(\sqrt{\hat v_t}+\varepsilon\bigr)

    with :math:`m_t, v_t` as in Adam, :math:`\hat v_t = v_t/(1-\beta_2^t)` and ψ =
    ``momentum_decay``.
    """

    lr: Any = 2e-3
    betas: tuple = (0.9, 0.999)
    eps: Any = 1e-8
    weight_decay: Any = 0.0
    momentum_decay: Any = 4e-3
    decoupled_weight_decay: bool = False
    maximize: bool = False

    weight_decay_mode = "option"
    has_betas = True

    def _validate(self):
        Adam._validate(self)
        _check("momentum_decay", self.momentum_decay)

    def init(self, x):
        return NAdamState(0, 1.0, _zeros(x), _zeros(x))

    def update(self, x, g, state):
        ops = _ops(x)
        beta1, beta2 = self.betas
        g = self._grad(x, g)
        x = self._decay(x, ops)
        t = state.step + 1
        t_ = ops.value(t)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t_ * self.momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t_ + 1) * self.momentum_decay))
        # The running product stays in the counter's own type: optimlab.torch passes torch.optim's
        # 0-dim tensor, so a float32 product is rounded to float32 each step, as torch.optim's is.
        mu_product = state.mu_product * mu
        product = ops.value(mu_product)
        m = ops.lerp_(state.m, g, 1 - beta1)
        v = ops.addcmul_(ops.mul_(state.v, beta2), g, g, value=1 - beta2)
        denom = ops.add_(ops.sqrt(ops.div(v, 1 - beta2 ** t_)), self.eps)
        x = ops.addcdiv_(x, g, denom, value=-self.lr * (1 - mu) / (1 - product))
        x = ops.addcdiv_(x, m, denom, value=-self.lr * mu_next / (1 - product * mu_next))
        return x, NAdamState(t, mu_product, m, v)


# --------------------------------------------------------------------------- Lion
class LionState(NamedTuple):
    step: int
    m: Any  # EMA of g with β₂ (the only state Lion keeps)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Lion(Optimizer):
    r"""Lion: the sign of an interpolation of momentum and gradient (Chen et al. 2023).

    .. math::
        c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
        \theta_t = (1-\eta\lambda)\,\theta_{t-1} - \eta\,\operatorname{sign}(c_t),\qquad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    Every coordinate moves by exactly η (or 0 where :math:`c_t = 0`): Lion fixes the size of a
    step and keeps only its direction.  Weight decay is decoupled.  torch.optim has no Lion; the
    reference is Algorithm 2 of the paper ("Symbolic Discovery of Optimization Algorithms"),
    whose defaults (β₁, β₂) = (0.9, 0.99) are kept; ``lr=1e-4`` follows the paper's advice of a
    rate 3–10× smaller than AdamW's.
    """

    lr: Any = 1e-4
    betas: tuple = (0.9, 0.99)
    weight_decay: Any = 0.0
    maximize: bool = False

    weight_decay_mode = "decoupled"
    has_betas = True

    def _validate(self):
        _check("lr", self.lr)
        _check("weight_decay", self.weight_decay)

    def init(self, x):
        return LionState(0, _zeros(x))

    def update(self, x, g, state):
        ops = _ops(x)
        beta1, beta2 = self.betas
        g = self._grad(x, g)
        x = self._decay(x, ops)
        c = ops.add(ops.mul_(ops.clone(state.m), beta1), g, alpha=1 - beta1)  # β₁m + (1−β₁)g
        x = ops.add_(x, ops.sign_(c), alpha=-self.lr)
        m = ops.add_(ops.mul_(state.m, beta2), g, alpha=1 - beta2)
        return x, LionState(state.step + 1, m)


# --------------------------------------------------------------------------- RAdam
class RAdamState(NamedTuple):
    step: int
    m: Any
    v: Any


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class RAdam(Optimizer):
    r"""RAdam: Adam whose adaptive step is switched on only once its variance is tame (Liu et al. 2020).

    .. math::
        \rho_\infty = \frac{2}{1-\beta_2} - 1,\qquad
        \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t},\qquad
        r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

        \theta_t = \theta_{t-1} - \eta\,\hat m_t \cdot
        \begin{cases} r_t\,\dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\varepsilon} & \rho_t > 5\\
        1 & \text{otherwise (SGD with momentum)}\end{cases}

    with :math:`m_t, v_t, \hat m_t` as in Adam.  The rectifier :math:`r_t` rises from 0 towards 1
    — a warmup derived from the variance of :math:`1/\sqrt{\hat v_t}` instead of a schedule.
    As in torch.optim.RAdam, ε is added to :math:`\sqrt{v_t}` (not to :math:`\sqrt{\hat v_t}`).
    ``decoupled_weight_decay=True`` shrinks θ before the step (as AdamW).
    """

    lr: Any = 1e-3
    betas: tuple = (0.9, 0.999)
    eps: Any = 1e-8
    weight_decay: Any = 0.0
    decoupled_weight_decay: bool = False
    maximize: bool = False

    weight_decay_mode = "option"
    has_betas = True
    _validate = Adam._validate  # lr, eps, weight_decay: Adam's checks

    def init(self, x):
        return RAdamState(0, _zeros(x), _zeros(x))

    def rectifier(self, t):
        """``(ρ_t, r_t)`` at step ``t``; ``r_t`` is only meaningful where ``ρ_t > 5``."""
        beta2 = self.betas[1]
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        with np.errstate(divide="ignore", invalid="ignore"):
            rt = np.maximum(rho_t, 5.0) if not isinstance(rho_t, float) else max(rho_t, 5.0)
            r = ((rt - 4) * (rt - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rt)) ** 0.5
        return rho_t, r

    def update(self, x, g, state):
        ops = _ops(x)
        beta1, beta2 = self.betas
        g = self._grad(x, g)
        x = self._decay(x, ops)
        t = state.step + 1
        t_ = ops.value(t)
        m = ops.lerp_(state.m, g, 1 - beta1)
        v = ops.addcmul_(ops.mul_(state.v, beta2), g, g, value=1 - beta2)
        step = ops.div(m, 1 - beta1 ** t_) * self.lr          # η m̂
        rho_t, r = self.rectifier(t_)
        if isinstance(rho_t, np.ndarray) or rho_t > 5.0:     # (per configuration for arrays)
            adaptive = step * ((1 - beta2 ** t_) ** 0.5 / ops.add_(ops.sqrt(v), self.eps)) * r
            step = adaptive if not isinstance(rho_t, np.ndarray) else np.where(rho_t > 5.0, adaptive, step)
        return ops.add_(x, step, alpha=-1.0), RAdamState(t, m, v)


# --------------------------------------------------------------------------- rules on whole tensors
def _scalars(rule, names):
    """Refuse to step with array hyperparameters a rule whose statistics span the whole parameter
    (such a rule may describe several configurations; :func:`optimlab.nets.train` steps them one
    by one)."""
    for name in names:
        value = getattr(rule, name)
        for v in value if isinstance(value, tuple) else (value,):
            if v is not None and np.ndim(v) != 0:
                raise ValueError(
                    f"{type(rule).__name__}: {name} must be a single number, got an array of shape "
                    f"{np.shape(v)} to step ({type(rule).__name__} computes statistics over a "
                    "whole parameter, so it steps one configuration at a time; ol.nets.train "
                    "loops over the configurations)")


def _norm(a, axis=None, keepdims=False):
    """The 2-norm of ``a`` (over ``axis``), for numpy arrays and torch tensors."""
    if _xp(a) is np:
        return np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims))
    return a.norm(2) if axis is None else a.norm(dim=axis, keepdim=keepdims)


def _value(v) -> float:
    """A 0-dim array or tensor as a Python number."""
    return float(v.item() if hasattr(v, "item") else v)


class AdafactorState(NamedTuple):
    step: int
    row_var: Any   # matrices: EMA of the mean of g² over each row, shape (…, m, 1); else None
    col_var: Any   # matrices: EMA of the mean of g² over each column, shape (…, 1, n); else None
    variance: Any  # vectors (and scalars): EMA of g², shaped like θ; else None


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Adafactor(Optimizer):
    r"""Adafactor: a factored second moment for matrices (Shazeer & Stern 2018), as torch.optim.

    For a matrix gradient :math:`G \in \mathbb R^{m\times n}` it keeps only row and column
    averages of :math:`G^2` — :math:`m + n` numbers instead of :math:`mn` — and rebuilds the
    second moment as their outer product:

    .. math::
        \hat\beta_{2,t} = 1 - t^{c},\quad
        R_t = \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\,\mathrm{mean}_j\, G_{t,ij}^2,\quad
        C_t = \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\,\mathrm{mean}_i\, G_{t,ij}^2,

        \hat V_t = \frac{R_t C_t}{\max(\mathrm{mean}(R_t), \varepsilon_1)},\qquad
        U_t = \frac{G_t}{\sqrt{\max(\hat V_t, \varepsilon_1^2)}},\qquad
        \theta_t = (1-\eta\lambda)\theta_{t-1}
        - \frac{\alpha_t}{\max(1, \mathrm{RMS}(U_t)/d)}\, U_t

    with the step size :math:`\alpha_t = \max(\varepsilon_2, \mathrm{RMS}(\theta_{t-1}))
    \cdot \min(\eta, 1/\sqrt t)` (the weights' scale times the relative step) and
    :math:`c` = ``beta2_decay``.  Vectors keep an unfactored :math:`V_t` (same EMA).  There is no
    first moment.  Tensors with more than two axes are factored over their last two.
    ``eps=(None, …)`` takes ε₁ as the machine epsilon of θ's dtype.  The RMS norms span the whole
    parameter, so the hyperparameters are single numbers.
    """

    lr: Any = 1e-2
    beta2_decay: Any = -0.8
    eps: tuple = (None, 1e-3)
    d: Any = 1.0
    weight_decay: Any = 0.0
    maximize: bool = False

    weight_decay_mode = "decoupled"
    whole_tensor = True

    def _validate(self):
        if not (isinstance(self.eps, (tuple, list)) and len(self.eps) == 2):
            raise ValueError(f"eps must be a pair (eps1 or None, eps2), got {self.eps!r}")
        object.__setattr__(self, "eps", tuple(self.eps))
        _check("lr", self.lr)
        _check("beta2_decay", self.beta2_decay, -math.inf, 0.0, lo_open=True)
        if self.eps[0] is not None:
            _check("eps[0]", self.eps[0])
        _check("eps[1]", self.eps[1])
        _check("d", self.d, 1.0)
        _check("weight_decay", self.weight_decay)

    def init(self, x):
        _scalars(self, ("lr", "beta2_decay", "eps", "d", "weight_decay"))
        xp = _xp(x)
        if np.ndim(x) > 1:
            rows, cols = tuple(x.shape[:-1]) + (1,), tuple(x.shape[:-2]) + (1, x.shape[-1])
            return AdafactorState(0, xp.zeros(rows, dtype=x.dtype), xp.zeros(cols, dtype=x.dtype), None)
        return AdafactorState(0, None, None, _zeros(x))

    def step(self, x, g, state):
        g = self._grad(x, g)
        eps1 = self.eps[0]
        if eps1 is None:  # the machine epsilon of θ's dtype
            eps1 = float(_xp(x).finfo(x.dtype).eps)
        t = state.step + 1
        w = t ** self.beta2_decay                      # 1 − β̂₂,t
        alpha = max(self.eps[1], _value(_norm(x)) / math.sqrt(_numel(x))) * min(self.lr, 1 / t ** 0.5)
        x = self._decay(x)
        row_var, col_var, variance = state.row_var, state.col_var, state.variance
        if np.ndim(x) > 1:
            row_var = _lerp(row_var, _norm(g, -1, True) ** 2 / g.shape[-1], w)
            col_var = _lerp(col_var, _norm(g, -2, True) ** 2 / g.shape[-2], w)
            v_hat = (row_var @ col_var) / _clamp(_mean(row_var, -2), eps1)
        else:
            variance = _lerp(variance, g * g, w)
            v_hat = variance
        u = g / _sqrt(_clamp(v_hat, eps1 * eps1))
        denom = max(1.0, _value(_norm(u)) / (math.sqrt(_numel(u)) * self.d))
        return x - alpha / denom * u, AdafactorState(t, row_var, col_var, variance)


def _numel(a) -> int:
    return int(np.prod(a.shape)) if len(a.shape) else 1


def _clamp(a, lo):
    """``max(a, lo)`` elementwise."""
    return np.maximum(a, lo) if _xp(a) is np else a.clamp(min=lo)


def _mean(a, axis):
    """The mean over ``axis``, keeping it (numpy arrays and torch tensors)."""
    return a.mean(axis, keepdims=True) if _xp(a) is np else a.mean(dim=axis, keepdim=True)


def _lerp(start, end, weight):
    """``start + weight·(end − start)``, rounded as torch's ``lerp`` computes it (the form
    ``end − (1 − weight)·(end − start)`` once the weight reaches 1/2)."""
    if np.ndim(weight):  # an array of weights (one per configuration)
        return np.where(weight < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight))
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


class MuonState(NamedTuple):
    step: int
    momentum_buffer: Any  # B, an EMA of the gradient


def newton_schulz(G, coefficients=(3.4445, -4.775, 2.0315), steps: int = 5, eps: float = 1e-7):
    r"""An approximate orthogonalisation of the matrix ``G`` (Muon's quintic Newton–Schulz).

    With :math:`X_0 = G/\max(\|G\|_F, \varepsilon)` (transposed if taller than wide),
    :math:`A = X X^\top` and :math:`X \leftarrow aX + (bA + cA^2)X`, ``steps`` times.  The
    coefficients push the singular values of :math:`X` towards 1 quickly (they end roughly in
    [0.7, 1.2], not exactly 1).  As in torch.optim.Muon, a torch tensor (one matrix) is iterated
    in bfloat16.  A numpy array is iterated in its own precision, and may hold a stack of
    matrices in its last two axes (one configuration each, as :func:`optimlab.nets.train`
    batches them).
    """
    a, b, c = coefficients
    if _xp(G) is not np:
        torch = _xp(G)
        X = G.bfloat16()
        tall = G.size(0) > G.size(1)
        X = X.T if tall else X
        X = X / X.norm().clamp(min=eps)
        for _ in range(steps):
            A = X @ X.T
            X = torch.addmm(X, torch.addmm(A, A, A, beta=b, alpha=c), X, beta=a)
        return X.T if tall else X
    X = np.array(G, dtype=np.result_type(G, 0.0))
    tall = X.shape[-2] > X.shape[-1]
    X = np.swapaxes(X, -1, -2) if tall else X
    X = X / np.maximum(np.sqrt(np.sum(X * X, axis=(-2, -1), keepdims=True)), eps)
    for _ in range(steps):
        A = X @ np.swapaxes(X, -1, -2)
        X = a * X + (b * A + c * (A @ A)) @ X
    return np.swapaxes(X, -1, -2) if tall else X


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Muon(Optimizer):
    r"""Muon: momentum whose update is orthogonalised before the step (Jordan et al. 2024), as torch.optim.

    .. math::
        B_t = \mu B_{t-1} + (1-\mu) G_t,\qquad
        \tilde B_t = \begin{cases} (1-\mu) G_t + \mu B_t & \text{nesterov}\\ B_t\end{cases},

        O_t = \mathrm{NS}_k(\tilde B_t),\qquad
        \theta_t = (1-\eta\lambda)\,\theta_{t-1} - \eta\, s(m, n)\, O_t

    where :func:`optimlab.rules.newton_schulz` maps :math:`\tilde B_t = U\Sigma V^\top` to roughly
    :math:`UV^\top`: every direction the momentum has is stepped by about the same amount.
    :math:`s(m,n) = \sqrt{\max(1, m/n)}` (``adjust_lr_fn=None`` or ``"original"``) or
    :math:`0.2\sqrt{\max(m, n)}` (``"match_rms_adamw"``).  Muon is for 2-D weight matrices only
    (a numpy array may stack several, one per configuration, in its leading axes).
    The momentum is torch.optim.Muon's as its code computes it — an EMA (``lerp``); the formula
    in torch's docstring, :math:`B_t = \mu B_{t-1} + G_t`, is not what it runs.
    """

    lr: Any = 1e-3
    weight_decay: Any = 0.1
    momentum: Any = 0.95
    nesterov: bool = True
    ns_coefficients: tuple = (3.4445, -4.775, 2.0315)
    eps: Any = 1e-7
    ns_steps: int = 5
    adjust_lr_fn: Any = None

    weight_decay_mode = "decoupled"
    has_maximize = False

    def _validate(self):
        _check("lr", self.lr)
        _check("weight_decay", self.weight_decay)
        _check("momentum", self.momentum, 0.0, 1.0)
        _check("eps", self.eps)
        if not (isinstance(self.ns_coefficients, (tuple, list)) and len(self.ns_coefficients) == 3):
            raise ValueError(f"ns_coefficients must be three numbers (a, b, c), got {self.ns_coefficients!r}")
        object.__setattr__(self, "ns_coefficients", tuple(self.ns_coefficients))
        if isinstance(self.ns_steps, bool) or not (isinstance(self.ns_steps, (int, np.integer))
                                                   and 0 <= self.ns_steps < 100):
            raise ValueError(f"ns_steps must be an integer in [0, 100), got {self.ns_steps!r}")
        if self.adjust_lr_fn not in (None, "original", "match_rms_adamw"):
            raise ValueError(f"adjust_lr_fn must be None, 'original' or 'match_rms_adamw', "
                             f"got {self.adjust_lr_fn!r}")

    def init(self, x):
        _scalars(self, ("ns_coefficients", "eps"))
        if np.ndim(x) < 2 or (np.ndim(x) > 2 and _xp(x) is not np):
            raise ValueError(f"Muon steps 2-D weight matrices only; got a parameter of shape "
                             f"{tuple(np.shape(x))} (use AdamW or SGD for biases and others)")
        return MuonState(0, _zeros(x))

    def lr_scale(self, shape) -> float:
        """:math:`s(m, n)`: the factor on η for an ``m × n`` matrix (the last two axes)."""
        m, n = shape[-2:]
        if self.adjust_lr_fn == "match_rms_adamw":
            return 0.2 * math.sqrt(max(m, n))
        return math.sqrt(max(1, m / n))

    def step(self, x, g, state):
        g = self._grad(x, g)
        if np.ndim(x) < 2:
            raise ValueError(f"Muon steps 2-D weight matrices only; got shape {tuple(np.shape(x))}")
        mu = self.momentum
        b = _lerp(state.momentum_buffer, g, 1 - mu)
        u = _lerp(g, b, mu) if self.nesterov else b
        o = newton_schulz(u, self.ns_coefficients, self.ns_steps, self.eps)
        if _xp(o) is not np:
            o = o.to(x.dtype)  # back from bfloat16 before scaling, as torch's param.add_(o, alpha=…)
        x = self._decay(x)
        return x - self.lr * self.lr_scale(x.shape) * o, MuonState(state.step + 1, b)
