"""``optimlab.torch`` accepts what torch.optim accepts, or refuses it clearly; never a silent wrong answer.

* the signature (names, order, defaults, keyword-only flags) and the param-group keys are
  torch.optim's;
* ``foreach``/``fused``/``differentiable``/``capturable``: torch's defaults, ``foreach=True``,
  ``fused=True`` (float32 counters, GradScaler's protocol) and ``differentiable=True`` (the
  gradients torch.optim computes through a step) are accepted; ``capturable=True`` cannot be
  honoured and raises a ValueError naming the option;
* invalid arguments: the same exception type as torch.optim in every case where torch.optim
  raises, with torch's sentence first; the few values only optimlab refuses get a ValueError;
* tensor learning rates follow torch's rules and give the same steps as a float;
* complex parameters are stepped as their real view, exactly as torch.optim does;
* sparse gradients work for SGD, Momentum and Adagrad as in torch.optim, and are refused with
  torch's exception types elsewhere.
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch

import optimlab.torch as olt

NAMES = ["SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "NAdam"]  # those with a torch.optim twin
T = torch.tensor


def param(*shape, dtype=torch.float64, seed=0):
    return torch.nn.Parameter(torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                                          dtype=dtype))


def feed(opt, params, grads):
    """Step ``opt`` once per entry of ``grads`` (one gradient per parameter, or None)."""
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else g.clone()
        opt.step()


def random_grads(params, steps, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return [[torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params] for _ in range(steps)]


def rtol_for(name, rtol=1e-12):
    """float64 parameters: to rounding, except NAdam under torch's float32 default dtype, where
    torch.optim steps with its float32-rounded product of μ_t (see test_torch_state.rtol)."""
    return max(rtol, 1e-8) if name == "NAdam" else rtol


def close(a, b, rtol):
    a, b = torch.as_tensor(a).detach(), torch.as_tensor(b).detach()
    return float((a - b).abs().max()) <= rtol * float(b.abs().max())


# --------------------------------------------------------------------------- signature and groups
@pytest.mark.parametrize("name", NAMES)
def test_signature_and_param_group_keys_are_torch_optims(name):
    ours, theirs = getattr(olt, name), getattr(torch.optim, name)
    assert inspect.signature(ours) == inspect.signature(theirs)
    a, b = ours([param(2)]), theirs([param(2)])
    assert list(a.param_groups[0]) == list(b.param_groups[0])
    assert a.defaults == b.defaults
    positional = (0.05,) + tuple(p.default for p in list(inspect.signature(theirs).parameters.values())[2:]
                                 if p.kind is p.POSITIONAL_OR_KEYWORD)
    assert ours([param(2)], *positional).defaults == theirs([param(2)], *positional).defaults


def test_momentum_has_sgds_switches():
    opt = olt.Momentum([param(2)], 0.1, 0.8, maximize=True, foreach=False, differentiable=False, fused=None)
    assert list(opt.defaults) == ["lr", "beta", "weight_decay", "maximize", "foreach",
                                  "differentiable", "fused"]


# --------------------------------------------------------------------------- implementation switches
def switches_of(name):
    return [s for s in ("foreach", "fused", "differentiable", "capturable")
            if s in inspect.signature(getattr(torch.optim, name)).parameters]


@pytest.mark.parametrize("name", NAMES)
def test_torch_defaults_and_foreach_are_accepted_and_give_torchs_numbers(name):
    p0 = param(3, 2)
    grads = random_grads([p0], 5)
    ref = param(3, 2)
    feed(getattr(torch.optim, name)([ref], lr=0.01, foreach=False), [ref], grads)
    settings = [dict(), {s: getattr(torch.optim, name)([param(1)]).defaults[s] for s in switches_of(name)},
                dict(foreach=False), dict(foreach=True)]
    for kwargs in settings:
        p = param(3, 2)
        feed(getattr(olt, name)([p], lr=0.01, **kwargs), [p], grads)
        assert close(p, ref, rtol_for(name)), kwargs


@pytest.mark.parametrize("name", NAMES + ["Momentum"])
@pytest.mark.parametrize("switch", ["capturable"])
def test_switches_optimlab_cannot_honour_are_refused_by_name(name, switch):
    known = switch in inspect.signature(getattr(olt, name)).parameters
    with pytest.raises(ValueError if known else TypeError, match=switch):
        getattr(olt, name)([param(2)], **{switch: True})
    if known:  # also in a param group, and in a checkpoint
        with pytest.raises(ValueError, match=f"{switch}=True"):
            getattr(olt, name)([{"params": [param(2)], switch: True}])
        opt = getattr(olt, name)([param(2)])
        state = opt.state_dict()
        state["param_groups"][0][switch] = True
        with pytest.raises(ValueError, match=f"{switch}=True"):
            opt.load_state_dict(state)


# --------------------------------------------------------------------------- torch.optim's refusals
COMMON = [dict(lr=-1.0), dict(lr=None), dict(lr="0.1"), dict(lr=T([1e-3, 1e-3])), dict(lr=T([[1e-3]])),
          dict(lr=math.nan), dict(weight_decay=-1.0), dict(foo=1)]
SPECIFIC = {
    "SGD": [dict(momentum=-0.5), dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1),
            dict(weight_decay=T([1.0, 2.0])), dict(weight_decay=T(0.1)), dict(capturable=False),
            dict(fused=True, foreach=True), dict(fused=True, differentiable=True)],
    "RMSprop": [dict(eps=-1.0), dict(momentum=-1.0), dict(alpha=-1.0)],
    "Adagrad": [dict(lr_decay=-0.5), dict(initial_accumulator_value=-1.0), dict(eps=-1.0),
                dict(capturable=False)],
    "Adam": [dict(betas=(1.0, 0.0)), dict(betas=(0.9, 1.0)), dict(betas=(0, 0.99)),
             dict(betas=(0.9, T(0.99))), dict(betas=(T(0.9), T(0.99))), dict(betas=[0.9, 0.99]),
             dict(betas=(T(0.9), T(0.99)), foreach=True), dict(lr=T(0.001), foreach=True),
             dict(betas=(T([0.9, 0.8]), T(0.99))), dict(betas=(T([[0.9]]), T([0.99]))),
             dict(betas=(0.9,)), dict(eps=-1.0), dict(fused=True, foreach=True)],
    "NAdam": [dict(betas=(1.0, 0.0)), dict(momentum_decay=-0.2), dict(betas=(0, 0.99)), dict(eps=-1.0)],
}
SPECIFIC["AdamW"] = SPECIFIC["Adam"] + [dict(decoupled_weight_decay=False)]
PARITY = [(name, kwargs) for name in NAMES for kwargs in COMMON + SPECIFIC[name]
          if not (name == "SGD" and kwargs is COMMON[5])]  # lr=nan: torch.optim.SGD takes it, see STRICTER


def outcome(cls, kwargs):
    try:
        cls([param(2)], **kwargs)
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return error
    return None


@pytest.mark.parametrize("name, kwargs", PARITY, ids=[f"{n}-{i}" for i, (n, _) in enumerate(PARITY)])
def test_refuses_what_torch_refuses_with_the_same_exception_type(name, kwargs):
    theirs, ours = outcome(getattr(torch.optim, name), kwargs), outcome(getattr(olt, name), kwargs)
    if theirs is None:
        assert ours is None, f"torch.optim accepts {kwargs}, optimlab.torch raised {ours!r}"
        return
    assert type(ours) is type(theirs), f"{kwargs}: torch {theirs!r}, optimlab {ours!r}"
    if isinstance(theirs, (ValueError, RuntimeError)):
        assert str(ours).startswith(str(theirs)), (str(ours), str(theirs))


STRICTER = [("SGD", dict(momentum=1.5)), ("SGD", dict(dampening=-1.0)), ("SGD", dict(lr=math.nan)),
            ("RMSprop", dict(alpha=1.5)), ("RMSprop", dict(momentum=1.5)), ("Adam", dict(lr=math.inf)),
            ("Adam", dict(lr=np.array([0.1, 0.2]))), ("NAdam", dict(betas=(np.array([0.5, 0.9]), 0.99))),
            ("Adam", dict(capturable=True))]


@pytest.mark.parametrize("name, kwargs", STRICTER, ids=[f"{n}-{list(k)[0]}" for n, k in STRICTER])
def test_values_only_optimlab_refuses_get_a_clear_value_error(name, kwargs):
    """Values torch.optim takes (and would run with) but optimlab cannot run correctly."""
    key = list(kwargs)[0]
    with pytest.raises(ValueError, match=key):
        getattr(olt, name)([param(2)], **kwargs)


@pytest.mark.parametrize("name", ["Adam", "SGD"])
def test_invalid_param_group_is_refused_when_added(name):
    opt = getattr(olt, name)([param(2)], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": [param(3)], "lr": -1.0})
    assert len(opt.param_groups) == 1


# --------------------------------------------------------------------------- tensor learning rates
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)], ids=["0-dim", "1", "1x1"])
@pytest.mark.parametrize("name", NAMES)
def test_tensor_lr_steps_like_the_float_and_like_torch(name, shape):
    grads = random_grads([param(4, 3)], 5)
    results = {}
    for label, module, lr in [("float", olt, 0.01), ("tensor", olt, torch.full(shape, 0.01, dtype=torch.float64)),
                              ("torch", torch.optim, torch.full(shape, 0.01, dtype=torch.float64))]:
        p = param(4, 3)
        opt = getattr(module, name)([p], lr=lr)
        feed(opt, [p], grads)
        results[label] = p
        if label == "tensor":
            assert opt.param_groups[0]["lr"] is lr  # kept as given, as torch.optim does
    assert torch.equal(results["tensor"], results["float"])
    assert close(results["tensor"], results["torch"], rtol_for(name))


def test_tensor_lr_follows_a_scheduler_like_torch():
    results = []
    for module in (olt, torch.optim):
        p = param(3)
        opt = module.Adam([p], lr=torch.tensor(0.05))
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        for grads in random_grads([p], 6):
            p.grad = grads[0]
            opt.step()
            sched.step()
        results.append((p.detach().clone(), float(opt.param_groups[0]["lr"])))
    assert results[0][1] == results[1][1] == pytest.approx(0.05 / 8, rel=1e-6)
    assert close(results[0][0], results[1][0], 1e-6)


# --------------------------------------------------------------------------- complex parameters
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=str)
@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, lr_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
])
def test_complex_parameters_are_stepped_as_their_real_view_like_torch(name, kwargs, dtype):
    """The same numbers as torch.optim, the same state dtypes (complex), and exactly the numbers
    of the same optimizer on the real view, as torch.optim's own test_complex demands."""
    real_dtype = torch.float32 if dtype == torch.complex64 else torch.float64
    rtol = 1e-5 if dtype == torch.complex64 else rtol_for(name)
    grads = random_grads([param(3, 2, dtype=dtype)], 6)
    ours, theirs, as_real = param(3, 2, dtype=dtype), param(3, 2, dtype=dtype), None
    opt, ref = getattr(olt, name)([ours], **kwargs), getattr(torch.optim, name)([theirs], **kwargs)
    as_real = torch.nn.Parameter(torch.view_as_real(ours.detach()).clone())
    real_opt = getattr(olt, name)([as_real], **kwargs)
    feed(opt, [ours], grads)
    feed(ref, [theirs], grads)
    feed(real_opt, [as_real], [[torch.view_as_real(g) for g in step] for step in grads])
    assert close(torch.view_as_real(ours), torch.view_as_real(theirs), rtol)
    assert torch.equal(torch.view_as_real(ours), as_real)
    assert {k: v.dtype for k, v in opt.state[ours].items()} == {k: v.dtype for k, v in ref.state[theirs].items()}
    for key, value in opt.state[ours].items():
        if value.dim():
            assert value.dtype == dtype and torch.equal(torch.view_as_real(value), real_opt.state[as_real][key])
    assert real_dtype == as_real.dtype


def test_complex_momentum_matches_its_real_view():
    c = param(4, dtype=torch.complex128)
    r = torch.nn.Parameter(torch.view_as_real(c.detach()).clone())
    grads = random_grads([c], 5)
    feed(olt.Momentum([c], lr=0.1, beta=0.8), [c], grads)
    feed(olt.Momentum([r], lr=0.1, beta=0.8), [r], [[torch.view_as_real(g) for g in s] for s in grads])
    assert torch.equal(torch.view_as_real(c), r)


# --------------------------------------------------------------------------- sparse gradients
def sparse_grads(shape, steps, seed=2):
    """Uncoalesced sparse gradients over the rows of a (rows, cols) parameter, with a repeated row."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(steps):
        rows = torch.tensor([[0, 2, 2]])
        values = torch.randn(3, *shape[1:], generator=gen, dtype=torch.float64)
        out.append(torch.sparse_coo_tensor(rows, values, shape, check_invariants=True))
    return out


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)), ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.2, maximize=True)),
])
def test_sparse_gradients_step_like_torch(name, kwargs):
    shape = (5, 3)
    grads = [[g] for g in sparse_grads(shape, 5)]
    ours, theirs = param(*shape), param(*shape)
    opt, ref = getattr(olt, name)([ours], **kwargs), getattr(torch.optim, name)([theirs], **kwargs)
    feed(opt, [ours], grads)
    with torch.sparse.check_sparse_tensor_invariants():  # (torch.optim.Adagrad builds sparse tensors)
        feed(ref, [theirs], grads)
    assert close(ours, theirs, 1e-12)
    assert torch.equal(ours[[1, 3, 4]], param(*shape)[[1, 3, 4]])  # rows without gradient
    assert {k: (v.layout, v.dtype) for k, v in opt.state[ours].items()} == \
        {k: (v.layout, v.dtype) for k, v in ref.state[theirs].items()}


def test_sparse_adagrad_leaves_rows_without_gradient_alone():
    """Row by row, as torch.optim: with eps=0 a dense zero gradient would give 0/0 = nan."""
    p = param(5, 3)
    opt = olt.Adagrad([p], lr=0.1, eps=0.0)
    feed(opt, [p], [[g] for g in sparse_grads((5, 3), 3)])
    assert torch.isfinite(p).all() and torch.equal(p[[1, 3, 4]], param(5, 3)[[1, 3, 4]])


def test_sparse_momentum_equals_dense_momentum():
    grads = sparse_grads((5, 3), 4)
    a, b = param(5, 3), param(5, 3)
    feed(olt.Momentum([a], lr=0.1, beta=0.9), [a], [[g] for g in grads])
    feed(olt.Momentum([b], lr=0.1, beta=0.9), [b], [[g.to_dense()] for g in grads])
    assert close(a, b, 1e-15)


@pytest.mark.parametrize("name, kwargs", [("RMSprop", {}), ("Adam", {}), ("AdamW", {}), ("NAdam", {}),
                                          ("SGD", dict(weight_decay=0.1)), ("Adagrad", dict(weight_decay=0.1))])
def test_sparse_gradients_are_refused_where_torch_refuses_them(name, kwargs):
    for module in (torch.optim, olt):
        p = param(5, 3)
        p.grad = sparse_grads((5, 3), 1)[0]
        with pytest.raises(RuntimeError):
            getattr(module, name)([p], lr=0.1, **kwargs).step()


@pytest.mark.parametrize("name", ["SGD", "Adagrad"])
def test_sparse_gradients_of_complex_parameters_are_refused(name):
    p = param(4, dtype=torch.complex64)
    p.grad = torch.sparse_coo_tensor(torch.tensor([[1]]), torch.ones(1, dtype=torch.complex64), (4,),
                                     check_invariants=True)
    with pytest.raises(ValueError, match="complex"):
        getattr(olt, name)([p], lr=0.1).step()


# --------------------------------------------------------------------------- Adagrad's eager state
def test_adagrad_creates_its_state_at_construction_like_torch():
    ps = [param(2, 3), torch.nn.Parameter(torch.ones(2), requires_grad=False)]
    ours = olt.Adagrad(ps, initial_accumulator_value=0.3).state_dict()
    theirs = torch.optim.Adagrad(ps, initial_accumulator_value=0.3).state_dict()
    assert list(ours["state"]) == list(theirs["state"]) == [0, 1]
    for i in ours["state"]:
        for key, value in theirs["state"][i].items():
            assert torch.equal(ours["state"][i][key], value) and ours["state"][i][key].dtype == value.dtype


def test_adagrad_honours_a_param_groups_own_initial_accumulator():
    """The one place where optimlab.torch departs from torch.optim on purpose: torch.optim.Adagrad
    starts every group's sum from the optimizer's initial_accumulator_value, whatever the group
    says; optimlab uses the group's value, as param groups promise."""
    a, b, late = param(2), param(2), param(3)
    ours = olt.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 0.5}])
    ours.add_param_group({"params": [late], "initial_accumulator_value": 0.25})
    late.grad = torch.zeros(3, dtype=torch.float64)
    ours.step()
    assert [float(ours.state[p]["sum"][0]) for p in (a, b, late)] == [0.0, 0.5, 0.25]
    theirs = torch.optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 0.5}])
    assert float(theirs.state[b]["sum"][0]) == 0.0


def test_adagrad_share_memory():
    p = param(3)
    opt = olt.Adagrad([p])
    opt.share_memory()
    assert opt.state[p]["sum"].is_shared()


# --------------------------------------------------------------------------- differentiable=True
# One step from a given state, as torch.optim's own TestDifferentiableOptimizer sets it up: the
# parameter, its gradient and the state tensors are inputs; the parameter and state are outputs.
DIFFERENTIABLE = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1), ["momentum_buffer"]),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
     ["square_avg", "momentum_buffer", "grad_avg"]),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, maximize=True), ["sum"]),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1), ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
    ("AdamW", dict(lr=0.01), ["exp_avg", "exp_avg_sq"]),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), ["exp_avg", "exp_avg_sq"]),
]


def differentiable_step(cls, kwargs, p0, grad, tensors, counters):
    """The parameter and state after one differentiable step of ``cls`` (outputs for autograd)."""
    p = p0.clone()
    p.grad = grad
    opt = cls([p], differentiable=True, **kwargs)
    opt.state[p].update({k: torch.tensor(v, dtype=torch.float64) for k, v in counters.items()})
    opt.state[p].update({k: v.clone() for k, v in tensors.items()})
    opt.step()
    return [p] + [opt.state[p][k] for k in tensors]


@pytest.mark.parametrize("name, kwargs, keys", DIFFERENTIABLE, ids=[d[0] for d in DIFFERENTIABLE])
def test_differentiable_step_gives_torchs_gradients(name, kwargs, keys):
    gen = torch.Generator().manual_seed(3)
    leaf = lambda shift=0.0: (torch.rand(3, 2, generator=gen, dtype=torch.float64) + shift).requires_grad_()
    # (a centered RMSprop needs square_avg > grad_avg², as any real history gives)
    p0, grad, tensors = leaf(), leaf(), {k: leaf(1.0 if k == "square_avg" else 0.0) for k in keys}
    counters = {"step": 3.0} | ({"mu_product": 0.7} if name == "NAdam" else {})
    counters = {} if name == "SGD" else counters
    weights = [torch.rand(3, 2, generator=gen, dtype=torch.float64) for _ in range(len(keys) + 1)]
    inputs = [p0, grad, *tensors.values()]
    grads = []
    for cls in (getattr(olt, name), getattr(torch.optim, name)):
        outputs = differentiable_step(cls, kwargs, p0, grad, tensors, counters)
        loss = sum((w * o).sum() for w, o in zip(weights, outputs))
        grads.append(torch.autograd.grad(loss, inputs))
    for ours, theirs in zip(*grads):
        assert float(theirs.abs().max()) > 0 and close(ours, theirs, 1e-12)


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1, amsgrad=True))])
def test_differentiable_steps_pass_gradcheck_from_an_empty_state(name, kwargs):
    """Two steps from scratch, by finite differences.  (torch.optim.SGD detaches its first
    momentum buffer b₁ = g₁ from the graph; optimlab's gradient goes through it.)"""
    def two_steps(p0, g1, g2):
        p = p0.clone()
        opt = getattr(olt, name)([p], differentiable=True, **kwargs)
        for g in (g1, g2):
            p.grad = g
            opt.step()
        return p
    gen = torch.Generator().manual_seed(4)
    inputs = [torch.rand(3, generator=gen, dtype=torch.float64).requires_grad_() for _ in range(3)]
    assert torch.autograd.gradcheck(two_steps, inputs)


def test_differentiable_refuses_a_hyperparameter_tensor_that_requires_grad():
    """Its gradient would silently be lost: the rules take hyperparameters as numbers."""
    lr = torch.tensor(0.1, requires_grad=True)
    with pytest.raises(ValueError, match="lr"):
        olt.SGD([param(2)], lr=lr, differentiable=True)
    olt.SGD([param(2)], lr=lr)  # without differentiable=True, lr is just a value (as in torch)


def test_non_leaf_parameters_need_differentiable_like_torch():
    w = param(3)
    for module in (torch.optim, olt):
        with pytest.raises(ValueError, match="non-leaf"):
            module.Adam([w * 2])
        module.Adam([w * 2], differentiable=True)


# --------------------------------------------------------------------------- fused=True
FUSED = ["SGD", "Adagrad", "Adam", "AdamW"]  # those torch.optim offers fused=True for
#: optimlab warns once per optimizer that fused=True is not a fused kernel (test_torch_dropin.py).
quiet_fused = pytest.mark.filterwarnings("ignore:optimlab.torch.*fused=True")


@quiet_fused
@pytest.mark.parametrize("name", FUSED)
def test_fused_gives_torchs_numbers_and_float32_counters(name):
    """Even under a float64 default dtype, a fused optimizer's step counter is float32."""
    kwargs = dict(lr=0.01, momentum=0.9) if name == "SGD" else dict(lr=0.01)
    grads = random_grads([param(3, 2)], 4)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        states = []
        for module in (olt, torch.optim):
            p = param(3, 2)
            opt = getattr(module, name)([p], fused=True, **kwargs)
            feed(opt, [p], grads)
            states.append((p, opt.state[p]))
    finally:
        torch.set_default_dtype(previous)
    (ours, ours_state), (theirs, theirs_state) = states
    assert close(ours, theirs, 1e-12)
    assert {k: (v.dtype, v.shape) for k, v in ours_state.items()} == \
        {k: (v.dtype, v.shape) for k, v in theirs_state.items()}
    assert name == "SGD" or ours_state["step"].dtype == torch.float32


@quiet_fused
@pytest.mark.parametrize("name", FUSED)
def test_fused_follows_gradscalers_protocol(name):
    """grad_scale unscales the gradients; a found_inf skips the whole step, state included."""
    kwargs = dict(lr=0.01, momentum=0.9) if name == "SGD" else dict(lr=0.01)
    plain, scaled = param(3, 2), param(3, 2)
    opt_plain, opt_scaled = getattr(olt, name)([plain], **kwargs), getattr(olt, name)([scaled], fused=True, **kwargs)
    assert opt_scaled._step_supports_amp_scaling
    for k, (g,) in enumerate(random_grads([plain], 5)):
        plain.grad, scaled.grad = g.clone(), 1024 * g
        opt_scaled.grad_scale, opt_scaled.found_inf = torch.tensor(1024.0), torch.tensor(0.0)
        opt_plain.step()
        opt_scaled.step()
        if k == 2:  # an overflow: nothing moves
            before = (scaled.detach().clone(), {key: v.clone() for key, v in opt_scaled.state[scaled].items()})
            opt_scaled.found_inf = torch.tensor(1.0)
            opt_scaled.step()
            assert torch.equal(scaled, before[0])
            assert all(torch.equal(v, before[1][key]) for key, v in opt_scaled.state[scaled].items())
    assert close(scaled, plain, 1e-12)


@quiet_fused
def test_fused_adam_with_a_real_gradscaler_matches_torch():
    results = []
    for module in (olt, torch.optim):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        opt = module.Adam(model.parameters(), lr=0.01, fused=True)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 8)
        x = torch.randn(16, 4)
        for k in range(6):
            opt.zero_grad()
            loss = model(x).pow(2).mean() * (math.inf if k == 3 else 1.0)  # step 3 overflows
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        results.append((torch.cat([p.detach().flatten() for p in model.parameters()]), scaler.get_scale()))
    assert results[0][1] == results[1][1] == 2.0 ** 7
    assert close(results[0][0], results[1][0], 1e-5)


@quiet_fused
@pytest.mark.parametrize("name", FUSED)
def test_fused_refuses_what_torch_refuses_at_the_step(name):
    """Parameters that are not floating point (complex, meta-device...), and sparse gradients."""
    for module in (torch.optim, olt):
        c = param(3, dtype=torch.complex64)
        c.grad = torch.ones_like(c)
        with pytest.raises(RuntimeError, match="fused=True"):
            getattr(module, name)([c], fused=True).step()
    p = param(5, 3)
    p.grad = sparse_grads((5, 3), 1)[0]
    with pytest.raises(RuntimeError, match="fused"):
        getattr(olt, name)([p], fused=True).step()
