r"""A small neural network in numpy, trained by the book's rules — many configurations at once.

:class:`MLP` is a multilayer perceptron (``nn.Sequential(Linear, ReLU, …, Linear)``) with the mean
cross-entropy of its logits as the loss, its backpropagation written out.  :func:`train` runs any
:class:`optimlab.Optimizer` on it with mini-batches, the way ``torch.optim`` would::

    import optimlab as ol
    data = ol.datasets.digits()
    net = ol.nets.MLP((64, 64, 10))
    rec = ol.nets.train(ol.Adam(lr=1e-3), net, data, epochs=10, batch_size=32, seed=0)
    rec.test_accuracy[-1]

Batched like :func:`optimlab.run`: give hyperparameters as 1-D arrays (one value per
configuration) and/or several seeds, and all ``C`` configurations train **at once** in one numpy
program, every array of the record carrying an axis of length ``C`` (``W1`` has shape
``(C, 64, 64)``).  A learning-rate grid times seeds is one call.

Everything a second implementation needs is explicit:

* parameters in ``nn.Linear``'s layout and order ``[W1 (h, d), b1 (h,), W2 (k, h), b2 (k,)]``,
  drawn as PyTorch's default initialisation draws them, ``U(−1/√fan_in, 1/√fan_in)`` for weights
  and biases alike, from ``numpy.random.default_rng([seed, 1])``, in that order, row by row;
* batch order: ``rng = numpy.random.default_rng(seed)`` and one ``rng.permutation(n_train)`` per
  epoch, cut into consecutive batches, the last short batch kept;
* the loss: ``mean(logsumexp(z) − z_y)`` over the batch (``nn.CrossEntropyLoss``), ReLU's
  derivative 0 at 0 (as autograd's);
* clipping: ``torch.nn.utils.clip_grad_norm_``: every gradient times
  ``min(1, clip / (‖g‖ + 1e-6))``, ``‖g‖`` the norm over all parameters of a configuration.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from . import tuning
from .rules import Optimizer
from .runs import _select

__all__ = ["MLP", "Training", "train", "tune", "sharpness", "cosine_schedule", "Plane", "loss_plane", "flatten", "project"]


def _is_int(v, lo=1):
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= lo


def _T(a):
    return np.swapaxes(a, -1, -2)


def _times_transpose(a, W):
    """``a @ Wᵀ`` over leading batch axes, arranged so that numpy hands contiguous blocks to BLAS.

    (A transposed view, or a 2-D ``a`` broadcast against a stack of ``W``, takes numpy's slow
    path: up to 15× slower here.)
    """
    if a.ndim == 2 and W.ndim > 2:  # shared inputs: one matrix product for every configuration
        out = a @ W.reshape(-1, W.shape[-1]).T
        return np.ascontiguousarray(np.moveaxis(out.reshape(a.shape[0], *W.shape[:-1]), 0, -2))
    return np.ascontiguousarray(a) @ np.ascontiguousarray(_T(W))


@dataclasses.dataclass(frozen=True)
class MLP:
    """A multilayer perceptron: ``Linear(sizes[0], sizes[1])``, ReLU, …, ``Linear(sizes[-2], sizes[-1])``.

    The loss is the mean cross-entropy of the logits (``nn.CrossEntropyLoss()``); labels are the
    integers ``0 … sizes[-1] − 1``.  Parameters are a list ``[W1, b1, W2, b2, …]`` of float64
    arrays; every function also takes parameters with leading batch axes (``(C, out, in)``).
    """

    sizes: tuple = (64, 64, 10)

    def __post_init__(self):
        sizes = tuple(self.sizes) if isinstance(self.sizes, (tuple, list)) else ()
        if len(sizes) < 2 or not all(_is_int(s) for s in sizes):
            raise ValueError(f"sizes must be at least two integers in [1, inf), got {self.sizes!r}")
        object.__setattr__(self, "sizes", tuple(int(s) for s in sizes))

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        """The parameters' shapes, ``[(h, d), (h,), (k, h), (k,)]`` for ``sizes=(d, h, k)``."""
        out = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            out += [(fan_out, fan_in), (fan_out,)]
        return out

    @property
    def size(self) -> int:
        """The number of scalar parameters."""
        return sum(math.prod(s) for s in self.shapes)

    def init(self, seed: int) -> list[np.ndarray]:
        """PyTorch's default ``nn.Linear`` initialisation, from ``default_rng([seed, 1])``.

        Every weight and bias of a layer with ``fan_in`` inputs is drawn from
        ``U(−1/√fan_in, 1/√fan_in)`` (``kaiming_uniform_(a=√5)`` gives that bound), in the order
        ``W1, b1, W2, b2, …``, each array row by row.
        """
        if not _is_int(seed, 0):
            raise ValueError(f"seed must be an integer in [0, inf), got {seed!r}")
        rng = np.random.default_rng([int(seed), 1])
        params = []
        for shape in self.shapes:
            k = 1.0 / math.sqrt(shape[-1] if len(shape) == 2 else params[-1].shape[-1])
            params.append(rng.uniform(-k, k, size=shape))
        return params

    # -- forward and backward -------------------------------------------------------------
    def _activations(self, params, X):
        acts = [X]
        layers = len(params) // 2
        for i in range(layers):
            z = _times_transpose(acts[-1], params[2 * i]) + params[2 * i + 1][..., None, :]
            acts.append(np.maximum(z, 0.0) if i < layers - 1 else z)
        return acts

    def logits(self, params, X) -> np.ndarray:
        """The network's outputs, shape ``(*C, n, k)``."""
        return self._activations(params, X)[-1]

    @staticmethod
    def _log_softmax(z):
        zmax = z.max(axis=-1, keepdims=True)
        e = np.exp(z - zmax)
        s = e.sum(axis=-1, keepdims=True)
        return z - zmax - np.log(s), e / s

    def _loss(self, z, y):
        logp, p = self._log_softmax(z)
        yb = np.broadcast_to(y, z.shape[:-1])
        return -np.take_along_axis(logp, yb[..., None], axis=-1)[..., 0].mean(axis=-1), p

    def _loss_and_grad(self, params, X, y):
        acts = self._activations(params, X)
        loss, p = self._loss(acts[-1], y)
        dz = (p - np.eye(p.shape[-1])[y]) / p.shape[-2]  # d loss / d logits
        grads = [None] * len(params)
        for i in reversed(range(len(params) // 2)):
            grads[2 * i] = _T(dz) @ acts[i]
            grads[2 * i + 1] = dz.sum(axis=-2)
            if i > 0:
                dz = (dz @ params[2 * i]) * (acts[i] > 0)
        for j, p_ in enumerate(params):  # a shared input (no batch axis) still gives batched grads
            if grads[j].shape != p_.shape:
                grads[j] = np.broadcast_to(grads[j], p_.shape).copy()
        return loss, grads

    def loss_and_grad(self, params, X, y):
        """The mean cross-entropy on ``(X, y)`` and its exact gradient (backpropagation).

        ``X`` has shape ``(n, d)`` (or ``(*C, n, d)``), ``y`` integer labels of shape ``(n,)``
        (or ``(*C, n)``).  Returns ``(loss, grads)``: ``loss`` of shape ``C`` (a float for
        unbatched parameters), ``grads`` shaped like ``params``.
        """
        params = self._check_params(params)
        X, y = self._check_data(X, y, "X", "y")
        loss, grads = self._loss_and_grad(params, X, y)
        return (float(loss) if np.ndim(loss) == 0 else loss), grads

    def evaluate(self, params, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Mean cross-entropy and accuracy (fraction of correct argmax) on ``(X, y)``."""
        params = self._check_params(params)
        X, y = self._check_data(X, y, "X", "y")
        return self._evaluate(params, X, y)

    def _evaluate(self, params, X, y):
        z = self.logits(params, X)
        loss, _ = self._loss(z, y)
        return loss, (z.argmax(axis=-1) == y).mean(axis=-1)

    # -- validation -------------------------------------------------------------------------
    def _check_params(self, params, batch=None):
        if not isinstance(params, (list, tuple)) or len(params) != len(self.shapes):
            raise ValueError(f"params must be a list of {len(self.shapes)} arrays shaped {self.shapes}")
        out = []
        for j, (p, shape) in enumerate(zip(params, self.shapes)):
            p = np.asarray(p, dtype=float)
            if p.shape[p.ndim - len(shape):] != shape or (batch is not None and p.shape[:-len(shape)] not in ((), batch)):
                want = shape if batch is None else (*batch, *shape)
                raise ValueError(f"params[{j}] must have shape {want}, got {p.shape}")
            if not np.all(np.isfinite(p)):
                raise ValueError(f"params[{j}] must be finite")
            out.append(p)
        return out

    def _check_data(self, X, y, xname, yname):
        X = np.asarray(X, dtype=float)
        if X.ndim < 2 or X.shape[-1] != self.sizes[0]:
            raise ValueError(f"{xname} must have shape (n, {self.sizes[0]}) ({self.sizes[0]} features), got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{xname} must be finite (no NaN or inf)")
        y = np.asarray(y)
        if y.shape != X.shape[:-1] or not (np.issubdtype(y.dtype, np.integer) or y.size == 0):
            raise ValueError(f"{yname} must be integer labels of shape {X.shape[:-1]}, got dtype {y.dtype}, shape {y.shape}")
        if y.size and (y.min() < 0 or y.max() >= self.sizes[-1]):
            raise ValueError(f"{yname} must hold labels in [0, {self.sizes[-1] - 1}], got {y.min() if y.min() < 0 else y.max()}")
        return X, y.astype(np.int64)


@dataclasses.dataclass(frozen=True, eq=False)
class Training:
    """The record of :func:`train`.  ``C`` is the configurations' shape: ``()`` or ``(C,)``.

    Attributes
    ----------
    train_loss : shape ``(steps, *C)``, the mini-batch loss before each step.
    grad_norm : shape ``(steps, *C)``, the norm of each step's mini-batch gradient over all
        parameters, before any clipping (what ``clip_grad_norm_`` returns).
    train_loss_epoch, test_loss, test_accuracy : shape ``(epochs + 1, *C)``; row ``e`` is
        measured after ``e`` epochs (row 0 at the initial parameters) on the whole training set,
        resp. the test set.
    params : the final parameters, a list of arrays of shapes ``(*C, *shape)``.
    diverged_at : integers of shape ``C``, the step at which a configuration's parameters left
        the bound (or became non-finite), or −1.  A diverged configuration keeps its last
        in-bound parameters and optimizer state; its losses are those of those parameters.
    steps_per_epoch : the number of mini-batches per epoch.
    averaged : with ``ema=β``, the same three per-epoch metrics for the exponential average of
        the parameters (``{"train_loss_epoch": …, "test_loss": …, "test_accuracy": …}``), else None.
    params_epoch : with ``keep_params=True``, the parameters after every epoch (row 0 the
        initial ones), else None.
    """

    train_loss: np.ndarray
    grad_norm: np.ndarray
    train_loss_epoch: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    params: list
    diverged_at: np.ndarray
    steps_per_epoch: int
    averaged: Any = None
    params_epoch: Any = None

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    def final(self, name: str = "test_loss") -> np.ndarray:
        """The last epoch's value of a metric, NaN where the configuration diverged (for tuning)."""
        if name not in ("train_loss_epoch", "test_loss", "test_accuracy"):
            raise ValueError(f"name must be one of train_loss_epoch, test_loss, test_accuracy, got {name!r}")
        return np.where(self.diverged, np.nan, getattr(self, name)[-1])


def _per_parameter(opt: Optimizer, ndim: int) -> Optimizer:
    """``opt`` with each 1-D array hyperparameter reshaped to ``(C, 1, …, 1)`` for an ``ndim``-axis parameter."""

    def shaped(v):
        if isinstance(v, tuple):
            return tuple(shaped(u) for u in v)
        if np.ndim(v) == 1:
            return np.asarray(v, dtype=float).reshape((-1,) + (1,) * ndim)
        return v

    changes = {k: shaped(v) for k, v in opt.hyperparameters.items() if shaped(v) is not v}
    return opt.replace(**changes) if changes else opt


class _PerConfiguration:
    """A rule whose statistics span a whole tensor (Adafactor, Muon), stepped one configuration at
    a time over the leading axis ``C``; the states of the configurations are stacked along it."""

    def __init__(self, rule: Optimizer, C: int):
        self.rule, self.C = rule, C
        self.rules = [rule.replace(**{k: _pick(v, c) for k, v in rule.hyperparameters.items()})
                      for c in range(C)]
        self.lr = rule.lr

    def replace(self, **changes):
        return _PerConfiguration(self.rule.replace(**changes), self.C)

    def init(self, p):
        return _stack([r.init(p[c]) for c, r in enumerate(self.rules)])

    def step(self, p, g, state):
        out = [r.step(p[c], g[c], _unstack(state, c)) for c, r in enumerate(self.rules)]
        return np.stack([x for x, _ in out]), _stack([s for _, s in out])


def _pick(v, c):
    """Configuration ``c``'s value of a hyperparameter (a number, a (C, 1, …) array, a tuple)."""
    if isinstance(v, tuple):
        return tuple(_pick(u, c) for u in v)
    return float(np.ravel(v)[c]) if np.ndim(v) else v


def _stack(states):
    first = states[0]
    return type(first)(*(np.stack(f) if isinstance(f0, np.ndarray) else f0
                         for f0, f in zip(first, zip(*states))))


def _unstack(state, c):
    return type(state)(*(f[c] if isinstance(f, np.ndarray) else f for f in state))


def _rule_for(rule, shape, batch):
    """The rule that steps a parameter of ``shape`` (batched over ``batch``)."""
    rule = _per_parameter(rule, len(shape))
    if getattr(rule, "whole_tensor", False) and batch:
        return _PerConfiguration(rule, batch[0])
    return rule


def _configurations(opt, seed, clip):
    """The configurations' shape, ``()`` or ``(C,)``, from the hyperparameters, seeds and clip."""
    lengths = []
    for name, shape in (("hyperparameter arrays", opt.shape), ("seed", np.shape(seed)),
                        ("clip", np.shape(clip))):
        if len(shape) > 1:
            raise ValueError(f"{name} must be scalars or 1-D (one value per configuration), got shape {shape}")
        lengths += list(shape)
    if not lengths:
        return ()
    C = max(lengths)
    if any(n not in (1, C) for n in lengths):
        raise ValueError(f"hyperparameters, seed and clip must have one length (or 1), got {sorted(set(lengths))}")
    return (C,)


def train(optimizer: Optimizer, net: MLP, data, *, epochs: int, batch_size: int, seed=0,
          params=None, lr_schedule=None, clip=None, ema=None, bound: float = 1e6,
          keep_params: bool = False) -> Training:
    """Train ``net`` on ``data`` with mini-batches and ``optimizer``; all configurations at once.

    Parameters
    ----------
    optimizer : any :class:`optimlab.Optimizer`, or a list of them, one per parameter (in the
        order of :attr:`MLP.shapes`, like ``torch.optim`` param groups: e.g. a matrix rule for
        the weights and another for the biases).  Hyperparameters may be 1-D arrays of length
        ``C`` (one value per configuration).  Each parameter gets its own copy of the rule, the
        arrays reshaped to ``(C, 1, …)`` against its shape (a rule that treats the last two axes
        as a matrix sees ``(C, out, in)``: a batch of matrices).
    net : :class:`MLP`.
    data : anything with ``X_train``, ``y_train``, ``X_test``, ``y_test``
        (:func:`optimlab.datasets.digits`).
    epochs, batch_size : integers ≥ 1; a batch size above the training set's size is one
        full batch.
    seed : an integer ≥ 0 or a 1-D sequence of them (one per configuration): the batch order
        (``default_rng(seed).permutation`` per epoch) and, without ``params``, the initial
        parameters (:meth:`MLP.init`).
    params : initial parameters (shapes of :attr:`MLP.shapes`, optionally with the leading
        axis ``C``), instead of ``net.init(seed)``.
    lr_schedule : callable ``t -> factor`` (``t = 1`` for the first step), as in
        :func:`optimlab.run`; the learning rate of step ``t`` is ``lr · factor``.
    clip : maximum gradient norm (``clip_grad_norm_``), a number in (0, inf] or one per
        configuration (``inf``: that configuration is not clipped).
    ema : β in [0, 1): also keep ``θ̄ ← βθ̄ + (1−β)θ`` after every step (the first step copies
        θ, as ``torch.optim.swa_utils.AveragedModel`` does) and evaluate it every epoch.
    bound : a configuration whose parameters leave ``[−bound, bound]`` has diverged.
    keep_params : keep the parameters after every epoch in ``Training.params_epoch``.
    """
    if not isinstance(net, MLP):
        raise ValueError(f"net must be an optimlab.nets.MLP, got {net!r}")
    optimizers = list(optimizer) if isinstance(optimizer, (list, tuple)) else [optimizer] * len(net.shapes)
    if len(optimizers) != len(net.shapes) or not all(isinstance(o, Optimizer) for o in optimizers):
        raise ValueError(f"optimizer must be an optimlab.Optimizer or a list of {len(net.shapes)} of them "
                         f"(one per parameter), got {optimizer!r}")
    if not _is_int(epochs):
        raise ValueError(f"epochs must be an integer in [1, inf), got {epochs!r}")
    if not _is_int(batch_size):
        raise ValueError(f"batch_size must be an integer in [1, inf), got {batch_size!r}")
    seeds = np.asarray(seed)
    if seeds.ndim > 1 or seeds.size == 0 or not all(_is_int(s, 0) for s in seeds.ravel().tolist()) \
            or not np.issubdtype(seeds.dtype, np.integer):
        raise ValueError(f"seed must be an integer in [0, inf) or a 1-D sequence of them, got {seed!r}")
    if clip is not None:
        c = np.asarray(clip, dtype=float)
        if not np.all(c > 0):  # False for NaN
            raise ValueError(f"clip must be in (0, inf], got {clip!r}")
    if lr_schedule is not None and not callable(lr_schedule):
        raise ValueError(f"lr_schedule must be a callable t -> factor, got {lr_schedule!r}")
    if ema is not None and not (0 <= ema < 1):
        raise ValueError(f"ema must be in [0, 1), got {ema!r}")
    if not bound > 0:
        raise ValueError(f"bound must be in (0, inf), got {bound!r}")
    X, y = net._check_data(data.X_train, data.y_train, "data.X_train", "data.y_train")
    Xt, yt = net._check_data(data.X_test, data.y_test, "data.X_test", "data.y_test")
    if len(y) == 0:
        raise ValueError("data.y_train must hold at least one example")
    batch = ()
    for o in optimizers:
        shape = _configurations(o, seeds, clip)
        if batch and shape and shape != batch and 1 not in (shape[0], batch[0]):
            raise ValueError(f"the optimizers' hyperparameters must have one length, got {batch[0]} and {shape[0]}")
        batch = max(batch, shape)
    C = batch[0] if batch else None
    seeds = np.broadcast_to(seeds, batch).astype(np.int64)
    if params is None:
        inits = [net.init(int(s)) for s in np.atleast_1d(seeds)]
        params = [np.stack(ps) for ps in zip(*inits)] if batch else inits[0]
    else:
        params = net._check_params(params, batch)
        params = [np.array(np.broadcast_to(p, (*batch, *shape))) for p, shape in zip(params, net.shapes)]
    rules = [_rule_for(o, shape, batch) for o, shape in zip(optimizers, net.shapes)]
    states = [r.init(p) for r, p in zip(rules, params)]
    clip = None if clip is None else np.broadcast_to(np.asarray(clip, dtype=float), batch)

    n = len(y)
    B = min(batch_size, n)
    per_epoch = -(-n // B)
    unique, which = np.unique(np.atleast_1d(seeds), return_inverse=True)
    rngs = [np.random.default_rng(int(s)) for s in unique]
    axes = [tuple(range(len(batch), len(batch) + len(s))) for s in net.shapes]

    train_loss = np.empty((epochs * per_epoch, *batch))
    grad_norm = np.empty_like(train_loss)
    metrics = np.empty((3, epochs + 1, *batch))
    avg_metrics = np.empty((3, epochs + 1, *batch)) if ema is not None else None
    kept = [[p.copy() for p in params]] if keep_params else None
    diverged_at = np.full(batch, -1)
    alive = np.ones(batch, dtype=bool)
    averaged = None

    def evaluate(ps, out, e):
        out[0, e] = net._evaluate(ps, X, y)[0]
        out[1, e], out[2, e] = net._evaluate(ps, Xt, yt)

    with np.errstate(all="ignore"):
        evaluate(params, metrics, 0)
        if ema is not None:
            evaluate(params, avg_metrics, 0)
        t = 0
        for e in range(1, epochs + 1):
            order = np.stack([r.permutation(n) for r in rngs])
            order = order[which] if batch else order[0]
            for k in range(per_epoch):
                idx = order[..., k * B:(k + 1) * B]
                loss, grads = net._loss_and_grad(params, X[idx], y[idx])
                norm = np.sqrt(sum((g * g).sum(axis=ax) for g, ax in zip(grads, axes)))
                train_loss[t], grad_norm[t] = loss, norm
                t += 1
                if clip is not None:
                    coef = np.minimum(clip / (norm + 1e-6), 1.0)
                    grads = [g * coef.reshape(coef.shape + (1,) * (g.ndim - coef.ndim)) for g in grads]
                step_rules = rules
                if lr_schedule is not None:
                    factor = lr_schedule(t)
                    if not (isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool)
                            and 0 <= factor < math.inf):
                        raise ValueError(f"lr_schedule must return a number in [0, inf), got {factor!r} at step {t}")
                    step_rules = [r.replace(lr=r.lr * float(factor)) for r in rules]
                stepped = [r.step(p, g, s) for r, p, g, s in zip(step_rules, params, grads, states)]
                new_params = [p for p, _ in stepped]
                new_states = [s for _, s in stepped]
                ok = np.ones(batch, dtype=bool)
                for p, ax in zip(new_params, axes):
                    ok &= np.abs(p).max(axis=ax) <= bound  # False for NaN
                if ok.all() and alive.all():
                    params, states = new_params, new_states
                else:
                    diverged_at[alive & ~ok] = t
                    alive &= ok
                    params = [np.where(alive.reshape(alive.shape + (1,) * (p.ndim - alive.ndim)), pn, p)
                              for pn, p in zip(new_params, params)]
                    states = [_select(alive, sn, s) for sn, s in zip(new_states, states)]
                if ema is not None:
                    averaged = ([p.copy() for p in params] if averaged is None else
                                [ema * a + (1 - ema) * p for a, p in zip(averaged, params)])
            evaluate(params, metrics, e)
            if ema is not None:
                evaluate(averaged, avg_metrics, e)
            if keep_params:
                kept.append([p.copy() for p in params])
    avg = None
    if ema is not None:
        avg = dict(zip(("train_loss_epoch", "test_loss", "test_accuracy"), avg_metrics))
    return Training(train_loss, grad_norm, metrics[0], metrics[1], metrics[2], params, diverged_at,
                    per_epoch, avg, kept)


def cosine_schedule(total_steps: int, warmup_steps: int = 0):
    """A learning-rate factor for :func:`train`'s ``lr_schedule``: linear warmup, then cosine decay.

    Returns ``f(t)`` (``t = 1`` for the first step): ``t / warmup_steps`` for the first
    ``warmup_steps`` steps, then ``0.5 · (1 + cos(π (t − warmup_steps − 1) / (total_steps −
    warmup_steps)))``, which is 1 at the first step after the warmup and falls towards 0 at
    ``total_steps``.  Without warmup it is ``0.5 · (1 + cos(π (t − 1) / total_steps))``, the
    cosine decay of chapter 9.  The network explorer's schedules are this function (network.js
    computes the same factors).
    """
    if not _is_int(total_steps):
        raise ValueError(f"total_steps must be an integer in [1, inf), got {total_steps!r}")
    if not _is_int(warmup_steps, 0):
        raise ValueError(f"warmup_steps must be an integer in [0, inf), got {warmup_steps!r}")
    total, warm = int(total_steps), int(warmup_steps)

    def factor(t):
        if t <= warm:
            return t / warm
        return 0.5 * (1 + math.cos(math.pi * (t - warm - 1) / (total - warm)))

    factor.__qualname__ = factor.__name__ = f"cosine_schedule({total}, warmup_steps={warm})"
    return factor


def tune(make_optimizer, net: MLP, data, lrs, *, seeds=(0, 1, 2, 3, 4), metric: str = "test_loss",
         **train_kwargs) -> tuple[tuning.Tuning, Training]:
    """The book's tuning protocol (:func:`optimlab.tuning.tune`) on a network, in one batched call.

    ``make_optimizer(lr)`` builds the optimizer for an array of learning rates; every rate of
    ``lrs`` is trained with every seed (``C = len(lrs) · len(seeds)`` configurations, learning
    rate slowest) by :func:`train` with ``train_kwargs``, and scored by the last epoch's
    ``metric`` on ``data``'s test part (pass a :meth:`~optimlab.datasets.Dataset.validation`
    split to tune on held-out training data); a diverged run scores worst.  Returns the
    :class:`~optimlab.tuning.Tuning` and the :class:`Training` record (configuration ``i·S + s``
    is rate ``i``, seed ``s``).
    """
    lrs = np.asarray(lrs, dtype=float)
    seeds = tuple(int(s) for s in seeds)
    if lrs.ndim != 1 or not seeds:
        raise ValueError("lrs must be a 1-D grid and seeds a non-empty sequence of integers")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    rec = train(make_optimizer(np.repeat(lrs, len(seeds))), net, data,
                seed=np.tile(seeds, len(lrs)), **train_kwargs)
    rows = rec.final(metric).reshape(len(lrs), len(seeds)).T
    result = tuning.tune(lambda _, seed: rows[seeds.index(seed)], lrs, seeds=seeds,
                         maximize=metric == "test_accuracy")
    return result, rec


def _hvp(net: MLP, params, V, X, y):
    """The exact Hessian-vector product ``H v`` (Pearlmutter's R-operator on backpropagation).

    ReLU's second derivative is taken as 0, as autograd takes it, so ``H`` is the Hessian that
    ``torch.autograd.functional.hessian`` returns.
    """
    layers = len(params) // 2
    acts = net._activations(params, X)
    masks = [acts[i] > 0 for i in range(1, layers)]
    r_in = [None] * (layers + 1)  # R(a_i), the tangent of each layer's input; R(a_0) = 0 (the data)
    for i in range(layers):
        r = _times_transpose(acts[i], V[2 * i]) + V[2 * i + 1][..., None, :]
        if r_in[i] is not None:
            r = r + _times_transpose(r_in[i], params[2 * i])
        r_in[i + 1] = r * masks[i] if i < layers - 1 else r  # the last one: the logits' tangent
    _, p = net._log_softmax(acts[-1])
    n = p.shape[-2]
    delta = (p - np.eye(p.shape[-1])[y]) / n  # d loss / d logits, and its tangent (softmax's Jacobian)
    r_delta = p * (r_in[-1] - (p * r_in[-1]).sum(axis=-1, keepdims=True)) / n
    out = [None] * len(params)
    for i in reversed(range(layers)):
        out[2 * i] = _T(r_delta) @ acts[i]
        if r_in[i] is not None:
            out[2 * i] = out[2 * i] + _T(delta) @ r_in[i]
        out[2 * i + 1] = r_delta.sum(axis=-2)
        if i > 0:
            r_delta = (r_delta @ params[2 * i] + delta @ V[2 * i]) * masks[i - 1]
            delta = (delta @ params[2 * i]) * masks[i - 1]
    return [np.broadcast_to(o, P.shape).copy() if o.shape != P.shape else o for o, P in zip(out, params)]


def sharpness(net: MLP, params, X, y, *, iters: int = 30, seed: int = 0) -> np.ndarray:
    """The largest Hessian eigenvalue of the loss on ``(X, y)``, by power iteration.

    Hessian-vector products are exact (Pearlmutter's R-operator on backpropagation, no finite
    differences: a difference of gradients across a ReLU's kink would be meaningless); the start vector is Gaussian from
    ``default_rng(seed)``.  Batched over the parameters' leading axes.  Returns the Rayleigh
    quotient ``vᵀHv`` after ``iters`` iterations: the eigenvalue of largest magnitude, which for
    these losses is the top one (their negative eigenvalues are far smaller).
    """
    if not _is_int(iters):
        raise ValueError(f"iters must be an integer in [1, inf), got {iters!r}")
    params = net._check_params(params)
    X, y = net._check_data(X, y, "X", "y")
    batch = params[0].shape[:-2]
    axes = [tuple(range(len(batch), p.ndim)) for p in params]
    rng = np.random.default_rng(seed)
    v = [rng.standard_normal(p.shape) for p in params]

    def normalised(v):
        norm = np.sqrt(sum((u * u).sum(axis=ax) for u, ax in zip(v, axes)))
        return [u / norm.reshape(norm.shape + (1,) * (u.ndim - norm.ndim)) for u in v]

    v = normalised(v)
    for _ in range(iters):
        hv = _hvp(net, params, v, X, y)
        rayleigh = sum((u * w).sum(axis=ax) for u, w, ax in zip(v, hv, axes))
        v = normalised(hv)
    return rayleigh


# --------------------------------------------------------------------------- a plane through the weights
def flatten(params) -> np.ndarray:
    """Parameters ``[W1, b1, W2, b2, …]`` as one vector in the page's order (each array row by row,
    in turn), shape ``(*C, size)`` for parameters with leading axes ``C``."""
    lead = np.shape(params[0])[:-2]
    return np.concatenate([np.reshape(p, (*lead, -1)) for p in params], axis=-1)


def _paths(runs):
    """Each configuration of each record as one path: an array ``(epochs + 1, size)``."""
    out = []
    for rec in runs:
        if not isinstance(rec, Training) or rec.params_epoch is None:
            raise ValueError("runs must be ol.nets.train records made with keep_params=True")
        flat = np.stack([flatten(ps) for ps in rec.params_epoch])  # (E + 1, *C, size)
        out += [flat] if flat.ndim == 2 else [flat[:, c] for c in range(flat.shape[1])]
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class Plane:
    """The loss on a plane through the weights, and training paths projected onto it (:func:`loss_plane`).

    Attributes
    ----------
    net : the network.
    origin : the flat initial parameters θ₀ (:func:`flatten`).
    d1, d2 : orthonormal directions; the point ``(a, b)`` of the plane is ``θ₀ + a·d1 + b·d2``.
    a, b : the grid's coordinates along ``d1`` and ``d2``.
    loss : shape ``(len(b), len(a))``: the mean cross-entropy on the training set at each grid
        point (row ``j`` is ``b[j]``, as a surface's ``grid`` lays out ``Z``).
    paths : per path, shape ``(epochs + 1, 2)``: ``((θₑ − θ₀)·d1, (θₑ − θ₀)·d2)`` per epoch
        (:func:`project`).
    captured : per path, the fraction of its displacement the plane holds,
        ``Σₑ (aₑ² + bₑ²) / Σₑ ‖θₑ − θ₀‖²`` (1: the path lies in the plane).
    explained : the same fraction over every path together (the top two principal
        components' share, uncentred, of the displacements).
    """

    net: MLP
    origin: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    paths: list
    captured: np.ndarray
    explained: float

    def params(self, a, b) -> list:
        """The network's parameters at the plane's points ``(a, b)`` (arrays of one shape ``S``):
        ``θ₀ + a·d1 + b·d2``, as :meth:`MLP.init` lays them out, with the leading axes ``S``."""
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        flat = self.origin + a[..., None] * self.d1 + b[..., None] * self.d2
        ends = np.cumsum([0] + [math.prod(s) for s in self.net.shapes])
        return [flat[..., i:j].reshape(*flat.shape[:-1], *s) for i, j, s in zip(ends[:-1], ends[1:], self.net.shapes)]


def project(path, origin, d1, d2):
    """A path's coordinates on a plane and the fraction of it the plane holds: ``(coords, captured)``.

    ``path``: flat parameters per epoch (:func:`flatten`), shape ``(epochs + 1, size)``, or a
    :class:`Training` record of one configuration made with ``keep_params=True``; ``origin``,
    ``d1``, ``d2``: the plane (:class:`Plane`, or the directions as a page decodes them).
    ``coords[e] = ((θₑ − θ₀)·d1, (θₑ − θ₀)·d2)``; ``captured = Σₑ |coords[e]|² / Σₑ ‖θₑ − θ₀‖²``
    (NaN for a path that never moves).
    """
    if isinstance(path, Training):
        (path,) = _paths([path])
    disp = np.asarray(path, dtype=float) - origin
    coords = np.stack([disp @ d1, disp @ d2], axis=-1)
    total = (disp * disp).sum()
    return coords, float((coords * coords).sum() / total) if total > 0 else math.nan


def loss_plane(net: MLP, data, runs, *, n: int = 41, margin: float = 0.2) -> Plane:
    """The loss of ``net`` on a plane that holds as much of the training paths ``runs`` as a plane can.

    The picture of Li et al. (2018), "Visualizing the loss landscape of neural nets", adapted to
    several runs from one start: every path ``θ₀, θ₁, …`` (the parameters after each epoch of
    each record of ``runs``, all starting at the same θ₀) is a curve in a space of ``net.size``
    dimensions; ``d1`` and ``d2`` are the top two principal directions (right singular vectors)
    of all their displacements ``θₑ − θ₀`` stacked, each signed so that the displacements'
    coordinates along it add up to ≥ 0.  The plane goes through the shared start, so every path
    begins at ``(0, 0)``; Li et al. plot one run and centre it on its final point instead.  The
    loss is evaluated on an ``n × n`` grid over a window that holds every projected path and the
    start, widened by ``margin`` of its extent on each side.

    Parameters
    ----------
    net : :class:`MLP`.
    data : the data the runs were trained on: the loss is the mean cross-entropy on
        ``data.X_train, data.y_train``.
    runs : :func:`train` records made with ``keep_params=True`` (each configuration of a batched
        record is a path).
    n, margin : the grid's points per axis (≥ 2), the window's margin (≥ 0).
    """
    if not isinstance(net, MLP):
        raise ValueError(f"net must be an optimlab.nets.MLP, got {net!r}")
    if not _is_int(n, 2):
        raise ValueError(f"n must be an integer in [2, inf), got {n!r}")
    if not (isinstance(margin, (int, float)) and 0 <= margin < math.inf):
        raise ValueError(f"margin must be a number in [0, inf), got {margin!r}")
    paths = _paths(runs)
    if not paths:
        raise ValueError("runs must hold at least one record")
    origin = paths[0][0]
    if paths[0].shape[1] != net.size or any(p.shape[1] != net.size for p in paths):
        raise ValueError(f"runs must train net ({net.size} parameters)")
    if any(not np.array_equal(p[0], origin) for p in paths):
        raise ValueError("runs must start from the same initial parameters (the plane goes through them)")
    X, y = net._check_data(data.X_train, data.y_train, "data.X_train", "data.y_train")
    disp = np.concatenate([p[1:] - origin for p in paths])
    _, sv, vt = np.linalg.svd(disp, full_matrices=False)
    if len(sv) < 2 or not sv[1] > 0:
        raise ValueError("the paths must move in at least two independent directions")
    d1, d2 = (v if (disp @ v).sum() >= 0 else -v for v in vt[:2])
    projected = [project(p, origin, d1, d2) for p in paths]
    pts = np.concatenate([c for c, _ in projected])
    lo, hi = pts.min(axis=0), pts.max(axis=0)  # the start (0, 0) is every path's first point
    pad = margin * np.maximum(hi - lo, 1e-3 * (hi - lo).max())
    a = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
    b = np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
    A, B = (g.ravel() for g in np.meshgrid(a, b))
    plane = Plane(net, origin, d1, d2, a, b, np.empty((n, n)), [c for c, _ in projected],
                  np.array([f for _, f in projected]), float((sv[:2] ** 2).sum() / (sv ** 2).sum()))
    loss = plane.loss.reshape(-1)
    for k in range(0, n * n, 64):  # 64 networks at a time: a few MB of activations
        loss[k:k + 64] = net._evaluate(plane.params(A[k:k + 64], B[k:k + 64]), X, y)[0]
    return plane
