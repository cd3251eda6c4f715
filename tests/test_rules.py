"""Tests of the pure update rules in ``optimlab.rules``.

* parity with ``torch.optim`` for every optimizer and option (hypothesis: random hyperparameters
  and parameter shapes, float64, 100 steps); the numpy rule *and* the ``optimlab.torch`` adapter
  are fed the gradients torch.optim saw and must reproduce its parameters and state;
* the three ways of writing momentum give one trajectory;
* purity, state layout, validation, gradient-shape checks, array hyperparameters.
"""
from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import optimlab as ol
import optimlab.torch as olt
from optimlab import registry

STEPS = 100
MAX_EXAMPLES = 20
RTOL = 1e-10

NAMES = [r.name for r in registry.RULES.values() if r.twin]  # those with a torch.optim twin
GENERIC = [n for n in NAMES if n != "Muon"]  # Muon has its own parity test (bfloat16, matrices)
RULES = [r.cls for r in registry.RULES.values()]


def assert_close(actual, expected, rtol=RTOL, what="", floor=1e-300):
    """Max-norm relative comparison: ``max|a − e| <= rtol · max(max|e|, floor)``.

    ``floor`` is the natural size of the quantity (e.g. the largest gradient for a momentum
    buffer), for quantities that legitimately shrink towards 0 during a run.
    """
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(float(np.max(np.abs(expected), initial=0.0)), floor)
    err = float(np.max(np.abs(actual - expected), initial=0.0))
    assert err <= rtol * scale, f"{what}: max |diff| = {err:.3e} > {rtol:g} * {scale:.3e}"


# --------------------------------------------------------------------------- strategies
def log_uniform(lo, hi):
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0 ** e)


def maybe_zero(strategy):
    return st.one_of(st.just(0.0), strategy)


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
weight_decays = maybe_zero(st.floats(0.0, 0.1))
epsilons = log_uniform(1e-10, 1e-3)
betas = st.tuples(st.floats(0.0, 0.99), st.floats(0.5, 0.9999))


@st.composite
def sgd_kwargs(draw):
    momentum = draw(maybe_zero(st.floats(0.0, 0.99)))
    nesterov = momentum > 0 and draw(st.booleans())
    return dict(lr=draw(log_uniform(1e-3, 0.3)), momentum=momentum,
                dampening=0.0 if nesterov else draw(maybe_zero(st.floats(0.0, 0.9))),
                weight_decay=draw(weight_decays), nesterov=nesterov, maximize=draw(st.booleans()))


@st.composite
def rmsprop_kwargs(draw):
    # centered divides by √(v − ḡ²); under a steady gradient v − ḡ² = α^t(1−α^t) g², which for
    # small α sinks below rounding within 100 steps (torch.optim itself then returns NaN), so
    # centered runs draw α ≥ 0.9 (α^100 ≥ 2.7e-5): the comparison stays well-conditioned.
    centered = draw(st.booleans())
    return dict(lr=draw(log_uniform(1e-4, 3e-2)),
                alpha=draw(st.floats(0.9 if centered else 0.0, 0.999)), eps=draw(epsilons),
                weight_decay=draw(weight_decays), momentum=draw(maybe_zero(st.floats(0.0, 0.9))),
                centered=centered, maximize=draw(st.booleans()))
adagrad_kwargs = st.fixed_dictionaries(dict(
    lr=log_uniform(1e-3, 0.5), lr_decay=maybe_zero(st.floats(0.0, 0.1)),
    weight_decay=weight_decays, initial_accumulator_value=maybe_zero(st.floats(0.0, 1.0)),
    eps=epsilons, maximize=st.booleans()))
_adam_common = dict(lr=log_uniform(1e-4, 0.1), betas=betas, eps=epsilons,
                    weight_decay=weight_decays, amsgrad=st.booleans(), maximize=st.booleans())
adam_kwargs = st.fixed_dictionaries(dict(_adam_common, decoupled_weight_decay=st.booleans()))
adamw_kwargs = st.fixed_dictionaries(_adam_common)
nadam_kwargs = st.fixed_dictionaries(dict(
    lr=log_uniform(1e-4, 0.1), betas=betas, eps=epsilons, weight_decay=weight_decays,
    momentum_decay=maybe_zero(st.floats(0.0, 0.01)), decoupled_weight_decay=st.booleans(),
    maximize=st.booleans()))

radam_kwargs = st.fixed_dictionaries(dict(
    lr=log_uniform(1e-4, 0.1), betas=betas, eps=epsilons, weight_decay=weight_decays,
    decoupled_weight_decay=st.booleans(), maximize=st.booleans()))

adafactor_kwargs = st.fixed_dictionaries(dict(
    lr=log_uniform(1e-3, 0.3), beta2_decay=st.floats(-1.0, -0.1),
    eps=st.tuples(st.one_of(st.none(), log_uniform(1e-30, 1e-3)), log_uniform(1e-5, 1e-2)),
    d=st.floats(1.0, 3.0), weight_decay=weight_decays, maximize=st.booleans()))

#: Hypothesis strategies per rule with a torch.optim twin (test_registry checks none is missing).
STRATEGIES = {"SGD": sgd_kwargs(), "RMSprop": rmsprop_kwargs(), "Adagrad": adagrad_kwargs,
              "Adam": adam_kwargs, "AdamW": adamw_kwargs, "NAdam": nadam_kwargs,
              "RAdam": radam_kwargs, "Adafactor": adafactor_kwargs}

# optimlab state field -> torch.optim state key
STATE_KEYS = {
    "SGD": {"momentum_buffer": "momentum_buffer"},
    "Momentum": {},
    "RMSprop": {"square_avg": "square_avg", "grad_avg": "grad_avg",
                "momentum_buffer": "momentum_buffer"},
    "Adagrad": {"sum": "sum"},
    "Adam": {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"},
    "AdamW": {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"},
    "NAdam": {"mu_product": "mu_product", "m": "exp_avg", "v": "exp_avg_sq"},
    "RAdam": {"m": "exp_avg", "v": "exp_avg_sq"},
    "Lion": {"m": "exp_avg"},
    "Adafactor": {"row_var": "row_var", "col_var": "col_var", "variance": "variance"},
    "Muon": {"momentum_buffer": "momentum_buffer"},
}


def _feed(rule, x0, grads):
    """Run a numpy rule on a fixed sequence of gradients; return the points and final state."""
    x, state = np.array(x0), rule.init(np.array(x0))
    xs = [x]
    for g in grads:
        x, state = rule.step(x, g, state)
        xs.append(x)
    return xs, state


def _feed_adapter(opt_cls, kwargs, x0, grads):
    """Like _feed for an optimlab.torch class; the state comes back in torch.optim's layout.

    Under a float64 default dtype, as the reference: torch.optim's counters take that dtype.
    """
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
        opt = opt_cls([p], **kwargs)
        xs = [x0]
        for g in grads:
            p.grad = torch.tensor(g)
            opt.step()
            xs.append(p.detach().numpy().copy())
    finally:
        torch.set_default_dtype(default)
    return xs, opt.state[p]


SQUARED = {"square_avg", "sum", "v", "v_max"}  # averages of g², the others scale like g


def _compare_runs(name, xs, state, ref_xs, ref_state, grads, what):
    g_max = max(float(np.max(np.abs(g))) for g in grads)
    # θ's rounding errors accumulate at the size of the path, not of the current θ (which may pass
    # near 0): compare each point relative to the largest |θ| seen along the reference path.
    theta_max = max(float(np.max(np.abs(e))) for e in ref_xs)
    for k, (a, e) in enumerate(zip(xs, ref_xs)):
        assert_close(a, e, what=f"{what}: θ after step {k}", floor=theta_max)
    adapter = isinstance(state, dict)  # optimlab.torch: torch.optim's names and entries
    if adapter:
        assert list(state) == list(ref_state), f"{what}: state entries {list(state)}"
    if "step" in ref_state or not adapter:  # torch.optim.SGD keeps no step counter
        assert int(state["step"] if adapter else state.step) == len(ref_xs) - 1
    for field, key in STATE_KEYS[name].items():
        ref = ref_state.get(key)
        if ref is None:  # e.g. torch keeps no momentum buffer when momentum == 0
            continue
        ours = state[key] if adapter else getattr(state, field)
        assert ours is not None, f"{what}: state.{field} missing"
        floor = g_max ** 2 if field in SQUARED else g_max if np.ndim(ref) else 0.0
        assert_close(ours, ref, what=f"{what}: state.{field} vs torch {key}", floor=floor)


# --------------------------------------------------------------------------- parity with torch.optim
@pytest.mark.parametrize("name", GENERIC)
@settings(deadline=None, max_examples=MAX_EXAMPLES)
@given(data=st.data())
def test_rule_and_adapter_match_torch_optim(name, data, problem, torch_reference):
    """optimlab.<name> and optimlab.torch.<name> reproduce torch.optim.<name> for 100 steps.

    The gradients come from a non-quadratic loss through torch autograd, evaluated along the
    torch.optim trajectory; both optimlab versions are fed exactly those gradients, so any
    difference in the update rule (not in the loss) shows up.
    """
    kwargs = data.draw(STRATEGIES[name], label="hyperparameters")
    prob = problem(data.draw(st.integers(0, 2 ** 16), label="seed"), data.draw(shapes, label="shape"))
    twin = getattr(torch.optim, registry.RULES[name].twin)
    ref_xs, grads, ref_opt, ref_p = torch_reference(twin, kwargs, prob, STEPS)
    ref_state = {k: (v.numpy() if torch.is_tensor(v) else v) for k, v in ref_opt.state[ref_p].items()}
    assert np.all(np.isfinite(ref_xs[-1]))

    xs, state = _feed(getattr(ol, name)(**kwargs), prob.theta0, grads)
    _compare_runs(name, xs, state, ref_xs, ref_state, grads, f"optimlab.{name}")

    xs, state = _feed_adapter(getattr(olt, name), kwargs, prob.theta0, grads)
    _compare_runs(name, xs, state, ref_xs, ref_state, grads, f"optimlab.torch.{name}")


@settings(deadline=None, max_examples=MAX_EXAMPLES)
@given(beta=st.floats(0.0, 0.99), lr=log_uniform(1e-3, 0.3), weight_decay=weight_decays,
       maximize=st.booleans(), seed=st.integers(0, 2 ** 16), shape=shapes)
def test_momentum_matches_torch_sgd_through_mapping(beta, lr, weight_decay, maximize, seed, shape,
                                                    problem, torch_reference):
    """Momentum(lr=η, beta=β) (EMA form) == torch.optim.SGD(lr=(1−β)η, momentum=β)."""
    prob = problem(seed, shape)
    ref_xs, grads, _, _ = torch_reference(
        torch.optim.SGD, dict(lr=(1 - beta) * lr, momentum=beta, weight_decay=weight_decay,
                              maximize=maximize), prob, STEPS)
    kwargs = dict(lr=lr, beta=beta, weight_decay=weight_decay, maximize=maximize)
    xs, _ = _feed(ol.Momentum(**kwargs), prob.theta0, grads)
    for k, (a, e) in enumerate(zip(xs, ref_xs)):
        assert_close(a, e, what=f"Momentum step {k}")
    xs, _ = _feed_adapter(olt.Momentum, kwargs, prob.theta0, grads)
    for k, (a, e) in enumerate(zip(xs, ref_xs)):
        assert_close(a, e, what=f"optimlab.torch.Momentum step {k}")


@settings(deadline=None, max_examples=MAX_EXAMPLES)
@given(beta=st.floats(0.0, 0.99), lr=log_uniform(1e-3, 0.3), seed=st.integers(0, 2 ** 16),
       shape=shapes)
def test_three_ways_to_write_momentum(beta, lr, seed, shape, problem):
    """Three ways to write momentum, one trajectory (each run computes its own gradients).

    With v₀ = b₀ = u₀ = 0 and the same start:

    * EMA form ``v ← βv + (1−β)g, θ ← θ − ηv``           (optimlab.Momentum(lr=η, beta=β));
    * PyTorch form ``b ← μb + g, θ ← θ − η'b``             with μ = β, η' = (1−β)η
      (optimlab.SGD and torch.optim.SGD(lr=η', momentum=μ));
    * classical (Polyak) ``u ← γu + η''g, θ ← θ − u``     with γ = β, η'' = (1−β)η.

    By induction b_t = v_t/(1−β) and u_t = η v_t, so all three produce the same θ_t.
    """
    prob = problem(seed, shape)
    x0 = prob.theta0

    ema = [x0]
    rule = ol.Momentum(lr=lr, beta=beta)
    x, s = x0, rule.init(x0)
    for _ in range(STEPS):
        x, s = rule.step(x, prob.grad(x), s)
        ema.append(x)

    pytorch_form = [x0]
    rule = ol.SGD(lr=(1 - beta) * lr, momentum=beta)
    x, s = x0, rule.init(x0)
    for _ in range(STEPS):
        x, s = rule.step(x, prob.grad(x), s)
        pytorch_form.append(x)

    torch_sgd = [x0]
    p = torch.nn.Parameter(torch.tensor(x0))
    opt = torch.optim.SGD([p], lr=(1 - beta) * lr, momentum=beta)
    for _ in range(STEPS):
        opt.zero_grad()
        prob.loss(p).backward()
        opt.step()
        torch_sgd.append(p.detach().numpy().copy())

    classical = [x0]
    theta, u = x0.copy(), np.zeros_like(x0)
    for _ in range(STEPS):                         # the independent reference implementation
        u = beta * u + (1 - beta) * lr * prob.grad(theta)
        theta = theta - u
        classical.append(theta)

    for k in range(STEPS + 1):
        for other, label in [(pytorch_form, "optimlab.SGD"), (torch_sgd, "torch.optim.SGD"),
                             (classical, "classical loop")]:
            assert_close(ema[k], other[k], rtol=1e-9, what=f"EMA vs {label}, step {k}")
    assert np.max(np.abs(ema[-1] - x0)) > 1e-3  # the runs actually moved


# --------------------------------------------------------------------------- state layout and purity
STATE_FIELDS = {
    ol.SGD: ("SGDState", ("step", "momentum_buffer")),
    ol.Momentum: ("MomentumState", ("step", "velocity")),
    ol.RMSprop: ("RMSpropState", ("step", "square_avg", "grad_avg", "momentum_buffer")),
    ol.Adagrad: ("AdagradState", ("step", "sum")),
    ol.Adam: ("AdamState", ("step", "m", "v", "v_max")),
    ol.AdamW: ("AdamState", ("step", "m", "v", "v_max")),
    ol.NAdam: ("NAdamState", ("step", "mu_product", "m", "v")),
}

PURITY_CASES = [
    ol.SGD(lr=0.1),
    ol.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    ol.SGD(lr=0.1, momentum=0.9, dampening=0.3, maximize=True),
    ol.Momentum(lr=0.1, beta=0.8, weight_decay=0.1),
    ol.RMSprop(),
    ol.RMSprop(centered=True, momentum=0.5, weight_decay=0.1),
    ol.Adagrad(lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.1),
    ol.Adam(amsgrad=True, weight_decay=0.1),
    ol.Adam(decoupled_weight_decay=True, weight_decay=0.1, maximize=True),
    ol.AdamW(amsgrad=True),
    ol.NAdam(weight_decay=0.1),
    ol.NAdam(weight_decay=0.1, decoupled_weight_decay=True),
]


def _arrays(state):
    return [f for f in state if isinstance(f, np.ndarray)]


@pytest.mark.parametrize("opt", PURITY_CASES, ids=repr)
def test_step_is_pure_and_init_does_not_alias(opt):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 2))
    state = opt.init(x)
    name, fields = STATE_FIELDS[type(opt)]
    assert type(state).__name__ == name and state._fields == fields
    assert state.step == 0
    assert not any(np.shares_memory(f, x) for f in _arrays(state))
    before = [f.copy() for f in _arrays(state)]
    x += 1.0                                      # mutating x must not reach the state
    for b, f in zip(before, _arrays(state)):
        np.testing.assert_array_equal(b, f)

    for k in range(1, 5):
        g = rng.normal(size=x.shape)
        x_copy, g_copy = x.copy(), g.copy()
        state_copy = [f.copy() for f in _arrays(state)]
        new_x, new_state = opt.step(x, g, state)
        np.testing.assert_array_equal(x, x_copy)
        np.testing.assert_array_equal(g, g_copy)
        for b, f in zip(state_copy, _arrays(state)):
            np.testing.assert_array_equal(b, f)
        assert new_state.step == k and type(new_state) is type(state)
        assert not np.shares_memory(new_x, x) and not np.shares_memory(new_x, g)
        for f in _arrays(new_state):
            assert not any(np.shares_memory(f, a) for a in (x, g, new_x))
        assert not np.allclose(new_x, x)
        x, state = new_x, new_state


def test_rules_are_frozen_and_rebuildable():
    opt = ol.Adam(lr=0.1, betas=(0.8, 0.99))
    with pytest.raises(dataclasses.FrozenInstanceError):
        opt.lr = 1.0
    assert type(opt)(**opt.hyperparameters).hyperparameters == opt.hyperparameters
    assert opt.shape == ()


def test_defaults_match_torch_optim():
    """Every optimlab rule has torch.optim's hyperparameter names and default values."""
    import inspect
    for name in NAMES:
        params = inspect.signature(getattr(torch.optim, name).__init__).parameters
        for f in dataclasses.fields(getattr(ol, name)):
            if (name, f.name) == ("AdamW", "decoupled_weight_decay"):
                continue  # torch.optim.AdamW is Adam with this fixed to True
            assert f.name in params, f"{name}.{f.name} is not a torch.optim argument"
            assert f.default == params[f.name].default, f"{name}.{f.name} default"


# --------------------------------------------------------------------------- validation
RANGES = {
    "lr": "[0, inf)", "weight_decay": "[0, inf)", "eps": "[0, inf)", "lr_decay": "[0, inf)",
    "initial_accumulator_value": "[0, inf)", "momentum_decay": "[0, inf)",
    "momentum": "[0, 1]", "dampening": "[0, 1]", "alpha": "[0, 1]", "beta": "[0, 1)",
}


def _interval_re(interval):
    """'[0, 1)' -> a pattern that also accepts '[0.0, 1.0)'; for inf either bracket will do."""
    lo, hi = interval[1:-1].split(", ")
    num = lambda v: re.escape(v) + r"(?:\.0+)?"
    end = r"[\]\)]" if hi == "inf" else re.escape(interval[-1])
    return re.compile(r"\[" + num(lo) + ", " + num(hi) + end)


ABOVE = {"momentum": 1.5, "dampening": 1.5, "alpha": 1.01, "beta": 1.0}


def _invalid_cases():
    """(class, kwargs, name, range) for every numeric hyperparameter of every rule."""
    cases = []
    for cls in RULES:
        for f in dataclasses.fields(cls):
            if f.name == "betas":
                for i in (0, 1):
                    for bad in (-0.1, 1.0, 1.5, math.nan, np.array([0.5, 1.0, 0.7])):
                        b = [0.9, 0.999]
                        b[i] = bad
                        cases.append((cls, dict(betas=tuple(b)), f"betas[{i}]", "[0, 1)"))
                continue
            if f.name not in RANGES or isinstance(f.default, tuple):  # booleans; Adafactor's eps pair
                continue
            bads = [-0.1, -1e-12, math.nan]
            if not cls.whole_tensor:  # the others refuse any array ("a single number", tested below)
                bads.append(np.array([0.5, -0.1, 0.3])[:, None])
            if f.name in ABOVE:
                bads.append(ABOVE[f.name])
            for bad in bads:
                cases.append((cls, {f.name: bad}, f.name, RANGES[f.name]))
    return cases


INVALID = _invalid_cases()


@pytest.mark.parametrize("cls, kwargs, name, interval", INVALID,
                         ids=[f"{c.__name__}-{k}" for c, k, *_ in INVALID])
def test_invalid_hyperparameters_raise(cls, kwargs, name, interval):
    """Rule and torch adapter both raise ValueError naming the parameter and its range.

    (Where torch.optim refuses the value too, the adapter's message starts with torch's sentence.)
    """
    with pytest.raises(ValueError) as info:
        cls(**kwargs)
    message = str(info.value)
    assert name in message and _interval_re(interval).search(message), message
    p = torch.nn.Parameter(torch.zeros(2, 2, dtype=torch.float64))  # a matrix: Muon takes only those
    with pytest.raises(ValueError) as info_torch:
        getattr(olt, cls.__name__)([p], **kwargs)
    assert message in str(info_torch.value)


@pytest.mark.parametrize("kwargs, words", [
    (dict(nesterov=True), ("nesterov", "momentum")),
    (dict(nesterov=True, momentum=0.0), ("nesterov", "momentum")),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), ("nesterov", "dampening")),
    (dict(nesterov=True, momentum=np.array([[0.9], [0.0]])), ("nesterov", "momentum")),
])
def test_nesterov_needs_momentum_without_dampening(kwargs, words):
    with pytest.raises(ValueError, match=".*".join(map(re.escape, words))):
        ol.SGD(lr=0.1, **kwargs)
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    with pytest.raises(ValueError):
        olt.SGD([p], lr=0.1, **kwargs)


def test_adamw_cannot_be_coupled():
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        ol.AdamW(decoupled_weight_decay=False)


@pytest.mark.parametrize("cls", RULES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("x_shape, g_shape", [((2,), (3,)), ((4, 2), (2,)), ((2,), (1, 2)),
                                              ((3, 2), (2, 3))])
def test_gradient_shape_mismatch_raises(cls, x_shape, g_shape):
    opt = cls()
    x = np.ones(x_shape)
    with pytest.raises(ValueError, match="shape"):
        opt.step(x, np.ones(g_shape), opt.init(x))


# --------------------------------------------------------------------------- array hyperparameters
def _bumpy_grad(xy):
    """Gradient of log(1+x²) + log cosh(x+2y) + 0.1 y², row by row (bounded, non-quadratic)."""
    x, y = xy[..., 0], xy[..., 1]
    t = np.tanh(x + 2 * y)
    return np.stack([2 * x / (1 + x * x) + t, 2 * t + 0.2 * y], axis=-1)


ARRAY_CASES = [
    (ol.SGD, dict(lr=[0.01, 0.1, 0.3]), dict()),
    (ol.SGD, dict(momentum=[0.1, 0.5, 0.9], dampening=[0.0, 0.3, 0.6]), dict(lr=0.05)),
    (ol.SGD, dict(momentum=[0.2, 0.5, 0.9], weight_decay=[0.0, 0.1, 0.2]),
     dict(lr=0.05, nesterov=True)),
    (ol.Momentum, dict(lr=[0.01, 0.1, 0.5], beta=[0.0, 0.5, 0.95]), dict(weight_decay=0.05)),
    (ol.RMSprop, dict(lr=[1e-3, 1e-2, 3e-2], alpha=[0.5, 0.9, 0.99]), dict(centered=True)),
    (ol.RMSprop, dict(momentum=[0.0, 0.5, 0.9], eps=[1e-8, 1e-4, 1e-2]), dict(lr=0.01)),
    (ol.Adagrad, dict(lr=[0.01, 0.1, 0.5], lr_decay=[0.0, 0.01, 0.1],
                      initial_accumulator_value=[0.0, 0.1, 1.0]), dict()),
    (ol.Adam, dict(lr=[1e-3, 1e-2, 1e-1]), dict()),
    (ol.Adam, dict(betas=([0.0, 0.5, 0.9], [0.9, 0.99, 0.999]), weight_decay=[0.0, 0.1, 0.3]),
     dict(lr=0.05, amsgrad=True)),
    (ol.AdamW, dict(lr=[1e-3, 1e-2, 1e-1], weight_decay=[0.0, 0.01, 0.5]), dict()),
    (ol.NAdam, dict(betas=([0.0, 0.5, 0.9], [0.9, 0.99, 0.999]), momentum_decay=[0.0, 4e-3, 0.1]),
     dict(lr=0.05)),
    # momenta containing 0 with dampening: those entries must be plain SGD, as in torch.optim
    pytest.param(ol.SGD, dict(momentum=[0.0, 0.5, 0.9]), dict(lr=0.05, dampening=0.5),
                 id="SGD-momentum-with-zero-and-dampening"),
]


def _column(values):
    return np.asarray(values, dtype=float)[:, None]


@pytest.mark.parametrize("cls, varying, fixed", ARRAY_CASES)
def test_array_hyperparameters_equal_separate_runs(cls, varying, fixed):
    """cls(h=values[:, None]) on x of shape (N, 2) equals N runs with the scalar values."""
    n = 3
    batched = {k: (tuple(_column(b) for b in v) if k == "betas" else _column(v))
               for k, v in varying.items()}
    opt = cls(**fixed, **batched)
    assert opt.shape == (n, 1)
    rng = np.random.default_rng(2)
    x0 = rng.normal(size=(n, 2))
    xs, _ = _feed_closed(opt, x0, 50)
    for i in range(n):
        scalar = {k: (tuple(b[i] for b in v) if k == "betas" else v[i]) for k, v in varying.items()}
        xs_i, _ = _feed_closed(cls(**fixed, **scalar), x0[i], 50)
        for k in range(51):
            assert_close(xs[k][i], xs_i[k], rtol=1e-13, what=f"run {i}, step {k}")


def _feed_closed(opt, x0, steps):
    x, state = x0, opt.init(x0)
    xs = [x]
    for _ in range(steps):
        x, state = opt.step(x, _bumpy_grad(x), state)
        xs.append(x)
    return xs, state


def test_array_lr_broadcasts_one_start_to_many_runs():
    """Adam(lr=lrs[:, None]) on x0 broadcast to (N, 2) == N scalar Adam runs (the book's idiom)."""
    lrs = np.logspace(-3, 0, 7)
    x0 = np.array([-1.5, 1.0])
    xs, _ = _feed_closed(ol.Adam(lr=lrs[:, None]), np.broadcast_to(x0, (7, 2)), 40)
    for i, lr in enumerate(lrs):
        xs_i, _ = _feed_closed(ol.Adam(lr=float(lr)), x0, 40)
        assert_close(xs[-1][i], xs_i[-1], rtol=1e-13, what=f"lr={lr:g}")


def test_infinite_hyperparameters_are_rejected():
    """Every range ends below infinity: lr=inf (accepted by torch) is refused with the range."""
    with pytest.raises(ValueError, match=r"lr must be in \[0.0, inf\), got inf"):
        ol.SGD(lr=float("inf"))
    with pytest.raises(ValueError, match=r"eps must be in \[0.0, inf\)"):
        ol.Adam(eps=np.array([1e-8, np.inf]))


def test_betas_may_be_a_list_like_in_torch():
    opt = ol.Adam(betas=[0.8, 0.99])
    assert opt.betas == (0.8, 0.99) and isinstance(opt.betas, tuple)
    with pytest.raises(ValueError, match="betas must be a pair"):
        ol.Adam(betas=[0.9])


def test_replace_changes_hyperparameters_and_validates_them():
    opt = ol.Adam(lr=0.1, betas=(0.8, 0.99), amsgrad=True)
    new = opt.replace(lr=0.01)
    assert type(new) is ol.Adam and new.lr == 0.01 and opt.lr == 0.1
    assert {k: v for k, v in new.hyperparameters.items() if k != "lr"} == \
           {k: v for k, v in opt.hyperparameters.items() if k != "lr"}
    x, g = np.array([1.0, -2.0]), np.array([0.3, 0.4])
    np.testing.assert_array_equal(new.step(x, g, new.init(x))[0],
                                  ol.Adam(lr=0.01, betas=(0.8, 0.99), amsgrad=True).step(x, g, new.init(x))[0])
    assert type(ol.AdamW().replace(weight_decay=0.5)) is ol.AdamW
    with pytest.raises(ValueError, match=r"lr must be in \[0.0, inf\)"):
        opt.replace(lr=-1.0)
    with pytest.raises(ValueError, match="Adam has no hyperparameter 'momentum'"):
        opt.replace(momentum=0.9)


# --------------------------------------------------------------------------- rules without a torch twin
def _lion_reference(theta, grads, lr, beta1, beta2, wd, maximize):
    """Algorithm 2 of Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms", one
    coordinate at a time with Python floats: update = interp(g, m, β₁).sign() + λθ;
    θ ← θ − η·update;  m ← interp(g, m, β₂)   (interp(g, m, β) = βm + (1 − β)g)."""
    theta, m, path = [float(v) for v in theta], [0.0] * len(theta), []
    for g in grads:
        g = [-float(v) if maximize else float(v) for v in g]
        for i in range(len(theta)):
            c = beta1 * m[i] + (1 - beta1) * g[i]
            update = (c > 0) - (c < 0) + wd * theta[i]
            theta[i] -= lr * update
            m[i] = beta2 * m[i] + (1 - beta2) * g[i]
        path.append(list(theta))
    return path


@settings(deadline=None, max_examples=MAX_EXAMPLES)
@given(lr=log_uniform(1e-4, 0.1), betas=betas, wd=weight_decays, maximize=st.booleans(),
       seed=st.integers(0, 2 ** 16), shape=shapes)
def test_lion_matches_the_papers_algorithm(lr, betas, wd, maximize, seed, shape, problem):
    prob = problem(seed, shape)
    kwargs = dict(lr=lr, betas=betas, weight_decay=wd, maximize=maximize)
    grads = [prob.grad(prob.theta0 * (1 + 0.1 * k)) for k in range(STEPS)]  # a fixed sequence
    xs, _ = _feed(ol.Lion(**kwargs), prob.theta0, grads)
    ref = _lion_reference(prob.theta0.ravel(), [g.ravel() for g in grads], lr, *betas, wd, maximize)
    scale = max(1.0, float(np.max(np.abs(prob.theta0))))
    for k, (a, e) in enumerate(zip(xs[1:], ref)):
        assert_close(np.ravel(a), e, what=f"Lion step {k + 1}", floor=scale)
    xs, state = _feed_adapter(olt.Lion, kwargs, prob.theta0, grads)
    for k, (a, e) in enumerate(zip(xs[1:], ref)):
        assert_close(np.ravel(a), e, what=f"optimlab.torch.Lion step {k + 1}", floor=scale)
    assert list(state) == ["step", "exp_avg"]


def test_lion_moves_every_coordinate_by_exactly_lr():
    x, g = np.array([3.0, -1.0, 0.5]), np.array([10.0, -1e-6, 0.0])
    new, _ = ol.Lion(lr=0.01).step(x, g, ol.Lion().init(x))
    np.testing.assert_allclose(new - x, [-0.01, 0.01, 0.0])


#: Each rule without a torch.optim twin and the test that holds it to a reference
#: (tests/test_registry.py requires one per such rule).
REFERENCES = {"Momentum": test_momentum_matches_torch_sgd_through_mapping,
              "Lion": test_lion_matches_the_papers_algorithm}


# --------------------------------------------------------------------------- Muon
def _newton_schulz_float64(grad, coefficients, steps, eps):
    """torch.optim.Muon's Newton–Schulz iteration, unchanged but in float64 (torch runs it in
    bfloat16): the reference for optimlab's numpy rule, which iterates in the array's precision."""
    a, b, c = coefficients
    X = grad.double()
    if grad.size(0) > grad.size(1):
        X = X.T
    X = X / X.norm().clamp(min=eps)
    for _ in range(steps):
        A = X @ X.T
        X = torch.addmm(X, torch.addmm(A, A, A, beta=b, alpha=c), X, beta=a)
    return X.T if grad.size(0) > grad.size(1) else X


muon_kwargs = st.fixed_dictionaries(dict(
    lr=log_uniform(1e-3, 0.1), weight_decay=weight_decays, momentum=st.floats(0.0, 0.99),
    nesterov=st.booleans(), ns_steps=st.integers(0, 6),
    adjust_lr_fn=st.sampled_from([None, "original", "match_rms_adamw"])))


@settings(deadline=None, max_examples=MAX_EXAMPLES)
@given(kwargs=muon_kwargs, seed=st.integers(0, 2 ** 16),
       shape=st.tuples(st.integers(1, 6), st.integers(1, 6)))
def test_muon_matches_torch_optim(kwargs, seed, shape, problem, torch_reference):
    """optimlab.torch.Muon == torch.optim.Muon (both iterate Newton–Schulz in bfloat16), and the
    numpy rule == torch.optim.Muon with its iteration run in float64."""
    import torch.optim._muon as muon_module

    prob = problem(seed, shape)
    ref_xs, grads, ref_opt, ref_p = torch_reference(torch.optim.Muon, kwargs, prob, 30)
    xs, state = _feed_adapter(olt.Muon, kwargs, prob.theta0, grads)
    theta_max = max(float(np.max(np.abs(e))) for e in ref_xs)
    for k, (a, e) in enumerate(zip(xs, ref_xs)):
        assert_close(a, e, what=f"optimlab.torch.Muon step {k}", floor=theta_max)
    assert list(state) == ["momentum_buffer"]

    original = muon_module._zeropower_via_newtonschulz
    muon_module._zeropower_via_newtonschulz = _newton_schulz_float64
    try:
        ref_xs, grads, _, _ = torch_reference(torch.optim.Muon, kwargs, prob, 30)
    finally:
        muon_module._zeropower_via_newtonschulz = original
    xs, _ = _feed(ol.Muon(**kwargs), prob.theta0, grads)
    theta_max = max(float(np.max(np.abs(e))) for e in ref_xs)
    for k, (a, e) in enumerate(zip(xs, ref_xs)):
        assert_close(a, e, what=f"optimlab.Muon step {k}", floor=theta_max)


def test_newton_schulz_flattens_the_singular_values():
    G = np.random.default_rng(0).normal(size=(8, 5)) @ np.diag([10, 3, 1, 0.3, 0.1])
    s = np.linalg.svd(rules_newton_schulz()(G), compute_uv=False)
    assert 0.6 < s.min() and s.max() < 1.3  # from a spread of 100 to about one
    with pytest.raises(ValueError, match="2-D weight matrices"):
        ol.Muon().init(np.zeros(3))
    # a stack of matrices (numpy) is orthogonalised one matrix at a time
    stack = np.stack([G, 3 * G[::-1]])
    out = rules_newton_schulz()(stack)
    np.testing.assert_allclose(out[1], rules_newton_schulz()(3 * G[::-1]), rtol=1e-12)


def rules_newton_schulz():
    from optimlab.rules import newton_schulz
    return newton_schulz


@pytest.mark.parametrize("cls, kwargs, words", [
    (ol.Adafactor, dict(beta2_decay=0.1), ["beta2_decay", "(-inf, 0.0]"]),
    (ol.Adafactor, dict(d=0.9), ["d", "[1.0, inf)"]),
    (ol.Adafactor, dict(eps=(-1.0, 1e-3)), ["eps[0]", "[0"]),
    (ol.Adafactor, dict(eps=(None, -1.0)), ["eps[1]", "[0"]),
    (ol.Adafactor, dict(eps=1e-3), ["eps", "pair"]),
    (ol.Muon, dict(ns_steps=100), ["ns_steps", "[0, 100)"]),
    (ol.Muon, dict(ns_coefficients=(1.0, 2.0)), ["ns_coefficients", "three numbers"]),
    (ol.Muon, dict(adjust_lr_fn="rms"), ["adjust_lr_fn", "match_rms_adamw"]),
])
def test_whole_tensor_rules_refuse_bad_values_by_name(cls, kwargs, words):
    with pytest.raises(ValueError, match=".*".join(map(re.escape, words))):
        cls(**kwargs)


def test_whole_tensor_rules_step_single_numbers_only():
    with pytest.raises(ValueError, match="lr must be a single number"):
        ol.Adafactor(lr=np.array([0.1, 0.2])).init(np.zeros(3))
    with pytest.raises(ValueError, match="lr must be in"):
        ol.Adafactor(lr=np.array([0.1, -0.2]))  # the values are still checked at construction


def test_adafactor_keeps_m_plus_n_numbers_for_a_matrix():
    state = ol.Adafactor().init(np.zeros((30, 20)))
    assert state.row_var.shape == (30, 1) and state.col_var.shape == (1, 20) and state.variance is None
    assert ol.Adafactor().init(np.zeros(7)).variance.shape == (7,)
    with pytest.raises(ValueError, match=r"d must be in \[1"):
        ol.Adafactor(d=0.5)


#: Rules with a twin whose parity is tested outside the generic test (test_registry checks it).
PARITY_TESTS = {"Muon": test_muon_matches_torch_optim}
