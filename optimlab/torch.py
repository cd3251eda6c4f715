"""The optimlab update rules as real ``torch.optim.Optimizer`` subclasses, drop-in for torch.optim.

There is no second copy of the math: each class below hands every parameter tensor to the
matching rule in :mod:`optimlab.rules` (whose code runs unchanged on tensors).  What this module
adds is the bookkeeping that makes ``optimlab.torch.Adam`` interchangeable with
``torch.optim.Adam``::

    import optimlab.torch as olt
    opt = olt.Adam(model.parameters(), lr=1e-3)

* **Signature and param groups.**  Each class takes the arguments of its ``torch.optim`` twin
  (read from that class: names, order, defaults, keyword-only flags), and its param groups hold
  the same keys in the same order, ``foreach``, ``fused``, ``differentiable`` and ``capturable``
  included.  Param groups, closures, ``zero_grad``, hooks and ``torch.optim.lr_scheduler`` work
  as on any PyTorch optimizer.
* **State layout.**  ``self.state[p]`` is torch.optim's: the same entry names, ``step`` (and
  NAdam's ``mu_product``) as a 0-dim float tensor, the buffers as tensors shaped like ``p``.  A
  checkpoint saved by ``torch.optim.Adam`` loads into ``optimlab.torch.Adam`` and the other way
  round, and training continues identically.  The rules keep the book's names (``m``, ``v``,
  ``v_max``); :data:`STATE_NAMES` is the one place where the two namings meet.
  ``load_state_dict`` fills param-group keys that an older checkpoint lacks with the defaults.
* **Validation.**  Whatever ``torch.optim`` refuses is refused with the same exception type and
  torch's sentence, followed by optimlab's (which names the allowed range).  optimlab refuses a
  little more (a momentum above 1, an infinite learning rate, an array hyperparameter), always
  with a ``ValueError`` that says why.
* **Complex parameters** are stepped as their real view (``torch.view_as_real``), as
  ``torch.optim`` does.  **Sparse gradients** are supported by ``SGD``, ``Momentum`` and
  ``Adagrad`` (as in torch.optim: without weight decay); the other optimizers raise
  ``RuntimeError``, as torch.optim's do.
* **One deliberate difference.**  A param group's own ``initial_accumulator_value`` is honoured
  by ``Adagrad``; torch.optim.Adagrad starts every group from the optimizer's value.
* **Implementation switches.**  optimlab always runs torch.optim's single-tensor ("for-loop")
  algorithm.  ``foreach`` may be ``None``, ``False`` or ``True`` (it only chooses how torch
  batches its kernels, and torch's own tests hold the for-loop result as the reference).
  ``fused=True`` keeps what a fused optimizer promises besides speed (float32 counters,
  floating-point parameters, torch.amp.GradScaler's ``grad_scale``/``found_inf`` protocol).
  ``differentiable=True`` lets autograd run through the step (to the parameters, gradients and
  state; a hyperparameter tensor that requires grad is refused).  ``capturable=True`` (CUDA-graph
  capture) cannot be honoured and raises a ``ValueError`` naming the option.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import warnings

import numpy as np
import torch

from . import registry, rules

__all__ = [*registry.RULES, "STATE_NAMES"]

# --------------------------------------------------------------------------- the state mapping
#: optimlab's state fields that ``torch.optim`` names differently (every other field has
#: torch's name): the book's :math:`m_t`, :math:`v_t` and :math:`\max v_t` of Adam and NAdam.
STATE_NAMES = {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"}

#: Counters: Python numbers in the rules, 0-dim float tensors in torch.optim's state.  The rule
#: reads the step as a Python number (as torch.optim does), the μ-product as torch.optim's tensor
#: (so that it is rounded to the tensor's dtype each step, as torch.optim's is).
_COUNTERS = {"step": float, "mu_product": torch.Tensor}
assert set(_COUNTERS) == set(rules.COUNTERS)

#: State fields torch.optim does not keep, and how to rebuild them from what it keeps.  torch's
#: SGD has no step counter: the rule only needs to know whether a buffer exists yet (on the
#: first momentum step it sets b₁ = g₁).
_REBUILT = {rules.SGDState: {"step": lambda stored: int("momentum_buffer" in stored)},
            rules.MuonState: {"step": lambda stored: 0}}  # torch's Muon keeps no counter (unused)

#: The order in which torch.optim writes the entries of a parameter's state.
_TORCH_ORDER = ("step", "mu_product", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg",
                "momentum_buffer", "grad_avg", "sum")


def _torch_name(field: str) -> str:
    return STATE_NAMES.get(field, field)


def _memo(function):
    """A cache on the one argument, emptied past 64 entries (a scheduler builds a rule per step).
    A dict, not lru_cache: torch.compile traces through it without a warning."""
    cache = {}

    @functools.wraps(function)
    def cached(*key):
        try:
            return cache[key]
        except KeyError:
            if len(cache) >= 64:
                cache.clear()
            value = cache[key] = function(*key)
            return value
    return cached


@_memo
def _torch_order(state_type: type) -> tuple[str, ...]:
    """The fields of a rule's state, in the order torch.optim writes their entries."""
    order = {name: i for i, name in enumerate(_TORCH_ORDER)}
    return tuple(sorted(state_type._fields, key=lambda f: order.get(_torch_name(f), len(order))))


@_memo
def _template(rule: rules.Optimizer, ndim: int = 1):
    """The rule's initial state for a small tensor with ``ndim`` axes: which fields its options
    use (not None) for such a parameter (Adafactor keeps other fields for matrices)."""
    return rule.init(torch.zeros((1,) * ndim))


@_memo
def _plan(rule: rules.Optimizer, ndim: int):
    """How each field of the rule's state is read from torch.optim's entries: the state type,
    (field, torch's key, how) triples, and whether torch.optim keeps no state at all for these
    options.  how is None (unused), a function (rebuilt from the entries), "buffer", or the
    counter's type (float: read as a number; torch.Tensor: passed as is)."""
    template = _template(rule, ndim)
    rebuilt = _REBUILT.get(type(template), {})
    plan = tuple((field, _torch_name(field), rebuilt[field] if field in rebuilt
                  else None if used is None else _COUNTERS.get(field, "buffer"))
                 for field, used in zip(template._fields, template))
    stateless = all(how is None or field in rebuilt for field, _, how in plan)
    return type(template), plan, stateless and _in_place(rule)


def _in_place(rule: rules.Optimizer) -> bool:
    """Whether the rule has an in-place ``update`` (else optimlab.torch runs its pure ``step``)."""
    return type(rule).update is not rules.Optimizer.update


def _scalar_dtype() -> torch.dtype:
    """The dtype torch.optim gives its counters: float64 under a float64 default, else float32."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _counter(value, p: torch.Tensor, fused=False) -> torch.Tensor:
    """A counter as torch.optim stores it: a 0-dim float tensor; float32 on p's device if fused."""
    dtype, device = (torch.float32, p.device) if fused else (_scalar_dtype(), torch.device("cpu"))
    if torch.is_tensor(value):  # (not float(value): a compiled step keeps it a tensor)
        return value.detach().to(dtype=dtype, device=device, copy=True)
    return torch.tensor(float(value), dtype=dtype, device=device)


def _real(t: torch.Tensor) -> torch.Tensor:
    """A complex tensor as its real view (last dimension: real, imaginary), as torch.optim steps it."""
    return torch.view_as_real(t) if t.is_complex() else t


def _number(value):
    """A hyperparameter as the rule takes it: 1-element tensors become Python numbers."""
    if isinstance(value, torch.Tensor):
        return value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(_number(v) for v in value)
    return value


# --------------------------------------------------------------------------- implementation switches
#: torch.optim's implementation switches and the values optimlab honours.  optimlab always runs
#: the single-tensor algorithm.  ``foreach`` only picks how torch batches its kernels, so any value
#: gives the numbers torch's own tests treat as the reference.  ``fused=True`` keeps what a fused
#: optimizer promises besides speed: float32 counters, floating-point parameters only, and
#: torch.amp.GradScaler's protocol (it sets ``grad_scale``, which unscales the gradients, and
#: ``found_inf``, which skips the step).  ``differentiable=True`` runs the (pure) rule with
#: autograd on, so gradients flow through the step to the parameters, gradients and state.
_SWITCHES = {"foreach": (None, False, True), "fused": (None, False, True),
             "differentiable": (False, True), "capturable": (False,)}
_WHY_NOT = {"capturable": "it keeps the counters on the device for CUDA-graph capture, and "
                          "optimlab.torch reads them as Python numbers"}
#: Devices on which torch.optim accepts fused=True.
_FUSED_DEVICES = ("cpu", "cuda", "xpu", "mps", "hpu")

# --------------------------------------------------------------------------- torch.optim's checks
#: torch.optim's constructor checks "0 <= value" (and 0 <= beta < 1), in torch's order, with the
#: label of torch's message "Invalid <label>: <value>".
_NONNEGATIVE = {
    "SGD": {"lr": "learning rate", "momentum": "momentum value", "weight_decay": "weight_decay value"},
    "Adagrad": {"lr": "learning rate", "lr_decay": "lr_decay value",
                "weight_decay": "weight_decay value",
                "initial_accumulator_value": "initial_accumulator_value value", "eps": "epsilon value"},
    "RMSprop": {"lr": "learning rate", "eps": "epsilon value", "momentum": "momentum value",
                "weight_decay": "weight_decay value", "alpha": "alpha value"},
    "Adam": {"lr": "learning rate", "eps": "epsilon value", "betas": "beta parameter",
             "weight_decay": "weight_decay value"},
    "NAdam": {"lr": "learning rate", "eps": "epsilon value", "betas": "beta parameter",
              "weight_decay": "weight_decay value", "momentum_decay": "momentum_decay value"},
}
_NONNEGATIVE["AdamW"] = _NONNEGATIVE["RAdam"] = _NONNEGATIVE["Adam"]


#: What optimlab.torch says, once per optimizer, when a param group asks for fused=True.
FUSED_WARNING = ("optimlab.torch.{name}(fused=True) runs torch.optim's single-tensor algorithm, not "
                 "a fused kernel: it keeps fused's float32 counters and GradScaler protocol, at the "
                 "speed of fused=False (1.3-3.3x the time of torch's fused kernel on CPU; see the README)")


def _hyperparameters(cls) -> set[str]:
    return set(inspect.signature(cls).parameters) - {"params"} - set(_SWITCHES)


#: Every torch.optim optimizer's hyperparameter names (switches excluded), to recognise a state
#: dict saved by another optimizer (most specific first); optimlab's Momentum joins at the end.
_OPTIMIZERS = dict(sorted(
    ((f"torch.optim.{name}", _hyperparameters(cls)) for name, cls in vars(torch.optim).items()
     if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) and cls is not torch.optim.Optimizer),
    key=lambda item: -len(item[1])))
_ALL_HYPERPARAMETERS = set().union(*_OPTIMIZERS.values())


# --------------------------------------------------------------------------- the adapter
class _RuleOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose step is an :class:`optimlab.rules.Optimizer` rule."""

    rule: type[rules.Optimizer]
    _twin: str | None           # name of the torch.optim twin, if any
    _group_defaults: dict       # every param-group key with its default, in torch's order
    _fixed: dict                # group keys the class fixes (AdamW: decoupled_weight_decay=True)
    _sparse: str | None         # None (refuse), "linear" (rule is linear in g, steps the sparse g),
    #                             "dense" (linear in g, steps it densified) or "rows" (Adagrad)
    _matrix: bool = False       # 2-D parameters only (Muon)
    # torch.optim.Adagrad creates its state in __init__.  (It starts every group's sum from the
    # optimizer's initial_accumulator_value; optimlab honours a group's own value.)
    _state_at_construction: bool = False

    def __init__(self, params, *args, **kwargs):
        bound = self.__signature__.bind(params, *args, **kwargs).arguments
        hyper = {key: bound.get(key, default) for key, default in self._group_defaults.items()}
        self._check_like_torch(hyper)
        self._check_group(hyper)
        torch.optim.Optimizer.__init__(self, params, hyper)  # (not the twin's: see _wrap)
        if hyper.get("fused"):
            self._step_supports_amp_scaling = True  # GradScaler then hands us grad_scale, found_inf
        if self._state_at_construction:
            with torch.no_grad():
                for group in self.param_groups:
                    rule = self._rule_for(group)
                    for p in group["params"]:
                        self._store(self.state[p], rule.init(_real(p)), p, fused=group["fused"])

    # -- validation ----------------------------------------------------------------------
    def _explain(self, **hyper) -> str:
        """optimlab's own sentence on these values (it names the allowed range), or ''."""
        try:
            self.rule(**{key: _number(value) for key, value in hyper.items()})
        except ValueError as error:
            return f" ({error})"
        return ""

    def _check_like_torch(self, hyper: dict) -> None:
        """Refuse what the torch.optim twin refuses, with its exception type and its sentence."""
        name, lr = type(self).__name__, hyper["lr"]
        for key, value in hyper.items():  # an array would make torch's checks ambiguous
            for item in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(item, np.ndarray) and item.ndim > 0:
                    raise ValueError(f"{key} must be single numbers in optimlab.torch (arrays of "
                                     f"hyperparameters are for optimlab's batched rules), got an "
                                     f"array of shape {item.shape}" + self._explain(**{key: value}))
        tensor_lr = isinstance(lr, torch.Tensor)
        if name in ("Adam", "AdamW") and tensor_lr and hyper["foreach"] and not hyper["capturable"]:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        if tensor_lr and lr.numel() != 1:
            raise ValueError(f"Tensor lr must be 1-element, got shape {tuple(lr.shape)}")
        if self._twin is not None and self._twin not in _NONNEGATIVE:
            self._check_by_twin(hyper)
        for key, label in _NONNEGATIVE.get(self._twin, {}).items():
            if key == "betas":
                for i in (0, 1):
                    beta = hyper["betas"][i]
                    if not 0.0 <= beta < 1.0:
                        betas = list(self._group_defaults["betas"])
                        betas[i] = beta
                        raise ValueError(f"Invalid beta parameter at index {i}: {beta}"
                                         + self._explain(betas=tuple(betas)))
            elif not 0.0 <= hyper[key]:
                raise ValueError(f"Invalid {label}: {hyper[key]}" + self._explain(**{key: hyper[key]}))
        if self._twin == "SGD" and hyper["nesterov"] and (hyper["momentum"] <= 0
                                                          or hyper["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening" + self._explain(
                **{key: hyper[key] for key in ("nesterov", "momentum", "dampening")}))
        if self._twin in ("Adam", "AdamW"):
            self._check_tensor_betas(hyper)

    def _check_by_twin(self, hyper: dict) -> None:
        """Let the torch.optim twin judge the values (on a probe matrix): its exception type and
        sentence, then optimlab's.  For twins whose checks are not tabled in _NONNEGATIVE."""
        twin = getattr(torch.optim, self._twin)
        accepted = inspect.signature(twin).parameters
        probe = torch.nn.Parameter(torch.zeros(1, 1))
        try:
            twin([probe], **{k: v for k, v in hyper.items() if k in accepted})
        except (ValueError, TypeError, RuntimeError) as error:
            raise type(error)(f"{error}{self._explain(**{k: v for k, v in hyper.items() if k not in _SWITCHES})}") from None

    @staticmethod
    def _check_tensor_betas(hyper: dict) -> None:
        """torch.optim.Adam's rules for betas given as tensors; stores them as torch does."""
        betas = hyper["betas"]
        floats = all(isinstance(b, float) for b in betas[:2])
        if not (floats or all(isinstance(b, torch.Tensor) for b in betas[:2])):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas[:2]):
            if isinstance(beta, torch.Tensor):
                if hyper["foreach"] and not hyper["capturable"]:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     "capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        hyper["betas"] = tuple(b.squeeze() if isinstance(b, torch.Tensor) else b for b in betas)

    def _check_group(self, group: dict) -> None:
        """The switches optimlab cannot honour, and the rule's own checks, for one group."""
        name = type(self).__name__
        if group.get("fused") and group.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
        if group.get("fused") and group.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for switch, allowed in _SWITCHES.items():
            if switch in group and group[switch] not in allowed:
                raise ValueError(f"{name}: {switch}={group[switch]!r} is not supported, because "
                                 f"{_WHY_NOT[switch]}; use {switch}={allowed[0]!r}")
        self._build_rule(group)

    def add_param_group(self, param_group: dict) -> None:
        self._check_group({**self.defaults, **param_group})  # before the group is added
        torch.optim.Optimizer.add_param_group(self, param_group)
        if self._matrix:  # Muon: 2-D weight matrices only (torch.optim.Muon refuses the rest)
            for p in self.param_groups[-1]["params"]:
                if p.ndim != 2:
                    raise ValueError(f"{type(self).__name__} only supports 2D parameters whereas we "
                                     f"found a parameter with size: {p.size()} (use AdamW or SGD "
                                     "for biases and other parameters, in a second optimizer)")
        self._rule_for(self.param_groups[-1])  # built here, not inside a (compiled) step
        if self.param_groups[-1].get("fused") and not self.__dict__.get("_warned_fused"):
            self._warned_fused = True  # never a silent slow path
            warnings.warn(FUSED_WARNING.format(name=type(self).__name__), UserWarning, stacklevel=4)

    def __setstate__(self, state: dict) -> None:
        """Also what ``load_state_dict`` calls: fill keys an older checkpoint lacks, as torch does."""
        torch.optim.Optimizer.__setstate__(self, state)
        self.__dict__["_rule_cache"] = {}
        for group in self.param_groups:
            self._refuse_foreign(group)
            for key, default in self._group_defaults.items():
                group.setdefault(key, default)
            group.update(self._fixed)
            self._check_group(group)
            self._rule_for(group)
            for p in group["params"]:
                stored = self.state.get(p, {})
                for key in _COUNTERS:  # old checkpoints keep the step as a Python number
                    if key in stored and not torch.is_tensor(stored[key]):
                        stored[key] = _counter(stored[key], p, group.get("fused"))

    def _refuse_foreign(self, group: dict) -> None:
        """A loaded param group that lacks this optimizer's hyperparameters and holds another
        optimizer's was saved by that optimizer: refuse it, as torch.optim does (a KeyError).  A
        group that only lacks some keys is an older checkpoint of this optimizer: its defaults
        are filled in."""
        missing = [key for key in self._hyper_names if key not in group]
        foreign = sorted(set(group) & _ALL_HYPERPARAMETERS - set(self._group_defaults))
        if missing and foreign:
            name = type(self).__name__
            others = [other for other, keys in _OPTIMIZERS.items()
                      if keys <= set(group) and set(foreign) <= keys]
            who = f"{others[0]} (its keys)" if others else "another optimizer"
            raise KeyError(f"{name}.load_state_dict: this state dict was saved by {who}: its param "
                           f"groups hold {', '.join(foreign)} and lack {name}'s "
                           f"{', '.join(missing)}")

    def _rule_for(self, group: dict) -> rules.Optimizer:
        """The group's rule, rebuilt (and validated) only when one of its values changed."""
        key = tuple(group[name] for name in self._hyper_names)
        cache = self._rules
        hit = cache.get(id(group))
        if hit is not None and hit[0] == key and not hit[2]:
            return hit[1]
        rule = self._build_rule(group)
        tensors = any(isinstance(item, torch.Tensor) for value in key
                      for item in (value if isinstance(value, (tuple, list)) else (value,)))
        cache[id(group)] = (key, rule, tensors)  # a tensor may change in place: rebuild each step
        return rule

    @property
    def _rules(self) -> dict:
        try:
            return self.__dict__["_rule_cache"]
        except KeyError:  # (a pickled optimizer comes back without it)
            return self.__dict__.setdefault("_rule_cache", {})

    def _build_rule(self, group: dict) -> rules.Optimizer:
        values = {f.name: group[f.name] for f in dataclasses.fields(self.rule)}
        if group.get("differentiable"):
            for key, value in values.items():
                for item in value if isinstance(value, (tuple, list)) else (value,):
                    if isinstance(item, torch.Tensor) and item.requires_grad:
                        raise ValueError(
                            f"{type(self).__name__}: {key} is a tensor that requires grad; "
                            "optimlab's rules take hyperparameters as numbers, so with "
                            "differentiable=True no gradient would reach it")
        return self.rule(**{key: _number(value) for key, value in values.items()})

    # -- the step ------------------------------------------------------------------------
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        differentiable = self.defaults.get("differentiable", False)
        with torch.set_grad_enabled(differentiable):  # usually: no autograd
            for group in self.param_groups:
                rule = self._rule_for(group)
                fused = group.get("fused")
                fast = not (fused or differentiable) and _in_place(rule)
                for p in group["params"]:
                    grad = p.grad
                    if grad is None:
                        continue
                    if fast and not grad.is_sparse and (p in self.state or _plan(rule, p.ndim)[2]):
                        self._update_in_place(rule, p, grad)
                    else:
                        self._step_tensor(rule, p, grad, fused, differentiable)
        return loss

    def _update_in_place(self, rule: rules.Optimizer, p: torch.Tensor, grad: torch.Tensor) -> None:
        """The usual step: the rule's update on ``p`` and its state tensors, in place."""
        stored = self.state.get(p, {})  # (none for a rule that keeps no state: plain SGD)
        complex_ = p.is_complex()
        x = torch.view_as_real(p) if complex_ else p
        plan = _plan(rule, x.ndim)
        state = self._rule_state(rule, stored, x, plan)
        new_x, new_state = rule.update(x, torch.view_as_real(grad) if complex_ else grad, state)
        if new_x is not x:  # (a rule whose update could not run in place)
            x.copy_(new_x)
        for (field, key, how), before, after in zip(plan[1], state, new_state):
            if after is before or after is None:
                continue
            if how == "buffer":  # a buffer the rule made anew
                stored[key] = torch.view_as_complex(after) if complex_ else after
            elif how is float or how is torch.Tensor:  # a counter
                stored[key].copy_(after) if torch.is_tensor(after) else stored[key].fill_(after)

    def _step_tensor(self, rule: rules.Optimizer, p: torch.Tensor, grad: torch.Tensor,
                     fused: bool | None, differentiable: bool = False) -> None:
        """One rule step for one parameter, reading and writing torch.optim's state layout."""
        if fused:
            grad = self._fused_grad(p, grad)
            if grad is None:  # GradScaler found an inf or a nan: a fused optimizer skips the step
                return
        stored = self.state.get(p) or {}
        x = _real(p)
        if not (grad.is_sparse or differentiable) and _in_place(rule):  # the rule's update, in place
            state = self._rule_state(rule, stored, x) if stored else None
            fresh = state is None
            if fresh:  # a first step: the counters the rule updates made torch.optim's tensors
                state = rule.init(x)
                compiling = torch.compiler.is_compiling()  # (then the step is a tensor too)
                state = state._replace(**{f: _counter(getattr(state, f), p, fused) for f in state._fields
                                          if _COUNTERS.get(f) is torch.Tensor or (
                                              compiling and f in _COUNTERS
                                              and f not in _REBUILT.get(type(state), ()))})
            new_x, new_state = rule.update(x, _real(grad), state)
            if new_x is not x:  # (a rule whose update could not run in place)
                x.copy_(new_x)
            self._store(stored, new_state, p, fused=fused, unchanged=None if fresh else state)
        elif grad.is_sparse and self._check_sparse(rule, p) == "rows":
            if not stored:
                self._store(stored, rule.init(x), p, fused=fused)
            grad = grad.coalesce()
            rows = tuple(grad.indices())  # torch.optim.Adagrad steps only the rows a gradient holds
            state = self._rule_state(rule, stored, x)
            state = type(state)(*(v[rows] if torch.is_tensor(v) else v for v in state))
            new_x, new_state = rule.step(x[rows], grad.values(), state)
            x[rows] = new_x
            self._store(stored, new_state, p, rows, fused=fused)
        else:  # under autograd, a rule without update, or sparse into a rule linear in g: pure step
            if grad.is_sparse and self._sparse == "dense":
                grad = grad.to_dense()
            state = self._rule_state(rule, stored, x) if stored else rule.init(x)
            new_x, new_state = rule.step(x, _real(grad), state)
            x.copy_(new_x)
            self._store(stored, new_state, p, fused=fused)
        if stored:  # like torch.optim, keep no entry for a parameter without state (plain SGD)
            self.state[p] = stored

    def _fused_grad(self, p: torch.Tensor, grad: torch.Tensor) -> torch.Tensor | None:
        """fused=True: torch's parameter check, then GradScaler's protocol (None: skip the step)."""
        if not (p.is_floating_point() and p.device.type in _FUSED_DEVICES):
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of "
                               f"supported devices: {list(_FUSED_DEVICES)} but {p.dtype} and "
                               f"{p.device.type}")
        if grad.is_sparse:
            raise RuntimeError(f"{type(self).__name__}: fused=True does not support sparse gradients")
        found_inf, grad_scale = getattr(self, "found_inf", None), getattr(self, "grad_scale", None)
        if found_inf is not None and bool(found_inf):
            return None
        return grad if grad_scale is None else grad / grad_scale.to(grad.device)

    def _check_sparse(self, rule: rules.Optimizer, p: torch.Tensor) -> str:
        name = type(self).__name__
        if self._sparse is None:
            raise RuntimeError(f"{name} does not support sparse gradients")
        if p.is_complex():
            raise ValueError(f"{name}: sparse gradients of complex parameters are not supported")
        if rule.weight_decay != 0:
            raise RuntimeError(f"{name}: weight_decay is not compatible with sparse gradients "
                               "(torch.optim refuses the combination too)")
        return self._sparse

    # -- between torch.optim's layout and the rule's NamedTuple ---------------------------
    def _rule_state(self, rule: rules.Optimizer, stored: dict, x: torch.Tensor, plan=None):
        """The rule's state from torch.optim's entries (views of them, never copies)."""
        state_type, plan, _ = plan or _plan(rule, x.ndim)
        values = []
        for field, key, how in plan:
            value = stored.get(key)
            if how == "buffer" and value is not None:
                values.append(value if value.dtype == x.dtype else _real(value))
            elif how is None:  # a field these options do not use
                values.append(None)
            elif how is not float and how is not torch.Tensor and how != "buffer":
                values.append(how(stored))  # a field torch.optim does not keep
            elif value is None:
                raise KeyError(f"{type(self).__name__}: a parameter's state has no {key!r} "
                               f"(it has {sorted(stored)}); was it saved by another optimizer, "
                               "or with other options?")
            else:  # a counter
                if value.requires_grad:
                    raise RuntimeError(f"`requires_grad` is not supported for `{key}` in "
                                       "differentiable mode")
                # As torch.optim: the step as a Python number (a tensor while compiling); the
                # μ-product as its tensor, so that it is rounded to its dtype as torch's is.
                values.append(value if how is torch.Tensor or torch.compiler.is_compiling()
                              else value.item())
        return state_type(*values)

    @staticmethod
    def _store(stored: dict, state, p: torch.Tensor, rows=None, fused=False, unchanged=None) -> None:
        """Write a rule state into torch.optim's entries: in place where they exist, except under
        autograd (differentiable=True), where the new tensors, with their history, replace them.
        Fields that are still the objects of ``unchanged`` (updated in place) are skipped."""
        rebuilt = _REBUILT.get(type(state), {})
        for field in _torch_order(type(state)):
            value = getattr(state, field)
            if value is None or field in rebuilt or \
                    (unchanged is not None and value is getattr(unchanged, field)):
                continue
            key, old = _torch_name(field), stored.get(_torch_name(field))
            if field in _COUNTERS:
                if not torch.is_tensor(old):
                    stored[key] = _counter(value, p, fused)
                elif torch.is_tensor(value):
                    old.copy_(value)
                else:
                    old.fill_(value)
            elif rows is not None:
                _real(old)[rows] = value
            elif old is not None and not old.is_sparse and not value.is_sparse \
                    and not torch.is_grad_enabled():
                _real(old).copy_(value)
            else:
                stored[key] = torch.view_as_complex(value) if p.is_complex() else value


class _AdagradMethods:
    def share_memory(self) -> None:
        """Calls ``tensor.share_memory_()`` on the state sum tensors (as torch.optim.Adagrad)."""
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()


def _own_signature(rule: type[rules.Optimizer]) -> inspect.Signature:
    """A rule without a torch.optim twin (Momentum, Lion): its fields, then SGD's switches."""
    kind, kw = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
    fields = [f for f in dataclasses.fields(rule) if f.name != "maximize"]
    return inspect.Signature(
        [inspect.Parameter("params", kind)]
        + [inspect.Parameter(f.name, kind, default=f.default) for f in fields]
        + [inspect.Parameter(name, kw, default=default) for name, default in
           (("maximize", False), ("foreach", None), ("differentiable", False), ("fused", None))])


def _wrap(rule: type[rules.Optimizer], sparse: str | None = None,
          twin_name: str | None = None, matrix: bool = False) -> type[_RuleOptimizer]:
    """``rule`` as a torch.optim.Optimizer with the signature and group keys of its torch twin."""
    twin = getattr(torch.optim, twin_name) if twin_name else None
    if twin is not None:
        signature = inspect.signature(twin)
        probe = torch.nn.Parameter(torch.zeros(1, 1))  # a matrix: Muon takes nothing else
        group_defaults = dict(twin([probe]).defaults)  # torch's keys, in torch's order
    else:
        signature = _own_signature(rule)
        group_defaults = {k: p.default for k, p in signature.parameters.items() if k != "params"}
    fields = {f.name for f in dataclasses.fields(rule)}
    if set(group_defaults) - set(_SWITCHES) != fields:  # a torch version with other arguments
        raise TypeError(f"optimlab.rules.{rule.__name__} has the hyperparameters {sorted(fields)}, "
                        f"torch.optim.{rule.__name__} {sorted(set(group_defaults) - set(_SWITCHES))}")
    namespace = {
        "rule": rule,
        "_twin": twin.__name__ if twin is not None else None,
        "_group_defaults": group_defaults,
        "_fixed": {k: v for k, v in group_defaults.items() if k not in signature.parameters},
        "_sparse": sparse,
        "_hyper_names": tuple(f.name for f in dataclasses.fields(rule)),
        "_matrix": matrix,
        "_state_at_construction": rule is rules.Adagrad,
        "__signature__": signature,
        "__module__": __name__,
        "__doc__": (f"{rule.__name__}{signature}\n\n"
                    f"PyTorch optimizer running :class:`optimlab.rules.{rule.__name__}`"
                    + (f", a drop-in for ``torch.optim.{rule.__name__}``" if twin else "")
                    + ".\n\n" + (rule.__doc__ or "")),
    }
    # A subclass of its twin too, so that isinstance(olt.Adam(...), torch.optim.Adam) holds; every
    # method the twin defines (__init__, __setstate__, step, share_memory) is optimlab's own.
    bases = ((_AdagradMethods,) if rule is rules.Adagrad else ()) + (_RuleOptimizer,) \
        + ((twin,) if twin is not None else ())
    return type(rule.__name__, bases, namespace)


# One class per rule of the registry, named after it (optimlab.torch.Adam, …).
for _rule in registry.RULES.values():
    globals()[_rule.name] = _wrap(_rule.cls, sparse=_rule.sparse, twin_name=_rule.twin,
                                  matrix=_rule.matrix)
    if _rule.twin is None:  # optimlab's own (Momentum, Lion): their keys identify their state dicts
        _OPTIMIZERS[f"optimlab.torch.{_rule.name}"] = _hyperparameters(globals()[_rule.name])
        _ALL_HYPERPARAMETERS |= _OPTIMIZERS[f"optimlab.torch.{_rule.name}"]
del _rule
rules._ops(torch.empty(0))  # torch's ops namespaces built now, not inside a (compiled) step
