"""``optimlab.torch``: the rules as real ``torch.optim.Optimizer`` subclasses.

Step-by-step parity with torch.optim on fed gradients, for random hyperparameters, lives in
``test_rules.py`` (together with the numpy rules); the state layout and checkpoints that cross
over to and from torch.optim in ``test_torch_state.py``; options, validation, tensor learning
rates, complex parameters and sparse gradients in ``test_torch_options.py``.  Here: closed-loop
training of a small network, param groups, closures, ``zero_grad``, skipped parameters,
``state_dict`` round trips, learning-rate schedulers and import isolation.
"""
from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
import torch

import optimlab.torch as olt

# (name, hyperparameters) with every state field in use; Momentum is compared with torch SGD.
CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.2, maximize=False)),
    ("Momentum", dict(lr=0.3, beta=0.9, weight_decay=1e-3)),
    ("RMSprop", dict(lr=3e-3, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-3)),
    ("Adagrad", dict(lr=0.05, lr_decay=1e-3, initial_accumulator_value=0.1, weight_decay=1e-3)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), amsgrad=True, weight_decay=1e-3)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=1e-2, amsgrad=True)),
    ("NAdam", dict(lr=1e-2, momentum_decay=0.01, weight_decay=1e-2, decoupled_weight_decay=True)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


# torch.optim keeps scalar state (NAdam's μ-product) in the default dtype: make it float64.
pytestmark = pytest.mark.usefixtures("float64_default")


def torch_twin(name, kwargs):
    """The torch.optim class and arguments that must behave exactly like olt.<name>(**kwargs)."""
    if name == "Momentum":  # EMA form: v ← βv + (1−β)g, θ ← θ − ηv  ==  SGD(lr=(1−β)η, momentum=β)
        kw = dict(kwargs)
        beta = kw.pop("beta")
        return torch.optim.SGD, dict(kw, lr=(1 - beta) * kw["lr"], momentum=beta)
    return getattr(torch.optim, name), kwargs


def make_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()


def make_data(seed=1, n=32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return x, torch.sin(x.sum(dim=1, keepdim=True)) + 0.1 * x[:, :1] ** 2


def train(model, opt, steps, data, scheduler=None):
    x, y = data
    losses = []
    for _ in range(steps):
        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            return loss
        losses.append(opt.step(closure).item())
        if scheduler is not None:
            scheduler.step()
    return losses


def params_of(model):
    return [p.detach().clone() for p in model.parameters()]


def assert_params_close(a, b, rtol=1e-10):
    scale = max(float(p.abs().max()) for p in b)
    err = max(float((p - q).abs().max()) for p, q in zip(a, b))
    assert err <= rtol * scale, f"max |diff| {err:.3e} > {rtol:g} * {scale:.3e}"


# --------------------------------------------------------------------------- closed-loop parity
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_training_a_network_matches_torch_optim(name, kwargs):
    """50 closed-loop steps on a small tanh network: same parameters and losses as torch.optim."""
    data = make_data()
    ours, theirs = make_model(), make_model()
    cls, kw = torch_twin(name, kwargs)
    loss_ours = train(ours, getattr(olt, name)(ours.parameters(), **kwargs), 50, data)
    loss_theirs = train(theirs, cls(theirs.parameters(), **kw), 50, data)
    # centered RMSprop divides by √(v − ḡ²), which cancels badly when a gradient is steady:
    # here torch.optim against itself, started 1 ulp apart, drifts by 1.8e-10 in 100 steps.
    rtol = 1e-8 if kwargs.get("centered") else 1e-10
    assert_params_close(params_of(ours), params_of(theirs), rtol)
    np.testing.assert_allclose(loss_ours, loss_theirs, rtol=rtol)
    assert loss_ours[-1] < 0.9 * loss_ours[0]  # it trained


def test_float32_parameters_keep_their_dtype():
    data = tuple(t.float() for t in make_data())
    ours, theirs = make_model().float(), make_model().float()
    opt = olt.Adam(ours.parameters(), lr=1e-2)
    train(ours, opt, 50, data)
    train(theirs, torch.optim.Adam(theirs.parameters(), lr=1e-2), 50, data)
    for p in ours.parameters():
        assert p.dtype == torch.float32
        assert opt.state[p]["exp_avg"].dtype == torch.float32
    assert_params_close(params_of(ours), params_of(theirs), rtol=1e-5)


# --------------------------------------------------------------------------- param groups
@pytest.mark.parametrize("name, group_kwargs", [
    ("SGD", dict(lr=0.2, momentum=0.5)),
    ("RMSprop", dict(lr=1e-2, alpha=0.5, centered=True)),
    ("Adam", dict(lr=0.05, betas=(0.5, 0.9), amsgrad=True)),
    ("NAdam", dict(lr=0.05, betas=(0.6, 0.95), weight_decay=0.1)),
])
def test_param_groups_with_different_hyperparameters(name, group_kwargs):
    data = make_data()
    defaults = dict(lr=1e-2)
    ours, theirs = make_model(), make_model()

    def groups(model):
        first, _, last = model
        return [dict(params=first.parameters(), **group_kwargs), dict(params=last.parameters())]

    opt = getattr(olt, name)(groups(ours), **defaults)
    train(ours, opt, 30, data)
    train(theirs, getattr(torch.optim, name)(groups(theirs), **defaults), 30, data)
    assert_params_close(params_of(ours), params_of(theirs))
    assert opt.param_groups[0]["lr"] == group_kwargs["lr"]
    assert opt.param_groups[1]["lr"] == defaults["lr"]

    # and the groups really differ: one group for everything gives another result
    single = make_model()
    train(single, getattr(olt, name)(single.parameters(), **defaults), 30, data)
    assert max(float((p - q).abs().max()) for p, q in zip(params_of(single), params_of(ours))) > 1e-4


# --------------------------------------------------------------------------- closure, zero_grad, skipping
def test_closure_returns_loss_and_step_uses_its_gradients():
    x, y = make_data()
    ours, theirs = make_model(), make_model()
    opt = olt.Adam(ours.parameters(), lr=1e-2)
    ref = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    for p in ours.parameters():  # stale gradients: the step must not use these
        p.grad = torch.full_like(p, 1e3)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(ours(x), y)
        loss.backward()
        return loss

    with torch.no_grad():
        expected = torch.nn.functional.mse_loss(ours(x), y)
    loss = opt.step(closure)
    assert len(calls) == 1
    assert torch.is_tensor(loss) and loss.item() == expected.item()

    ref.zero_grad()
    torch.nn.functional.mse_loss(theirs(x), y).backward()
    ref.step()
    assert_params_close(params_of(ours), params_of(theirs))


def test_step_without_closure_returns_none():
    p = torch.nn.Parameter(torch.ones(2))
    opt = olt.SGD([p], lr=0.1)
    p.grad = torch.ones(2)
    assert opt.step() is None
    assert torch.equal(p.detach(), torch.full((2,), 0.9))


def test_zero_grad():
    p = torch.nn.Parameter(torch.ones(3))
    opt = olt.Adam([p], lr=0.1)
    (p ** 2).sum().backward()
    assert p.grad is not None and bool((p.grad != 0).all())
    opt.zero_grad(set_to_none=False)
    assert torch.equal(p.grad, torch.zeros(3))
    opt.zero_grad()
    assert p.grad is None
    before = p.detach().clone()
    opt.step()  # no gradient: nothing happens, no state is created
    assert torch.equal(p.detach(), before) and len(opt.state[p]) == 0


@pytest.mark.parametrize("name", ["SGD", "Momentum", "RMSprop", "Adagrad", "Adam", "AdamW", "NAdam"])
def test_parameters_without_grad_are_skipped(name):
    used = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    unused = torch.nn.Parameter(torch.tensor([3.0, 4.0]))         # requires grad, not in the loss
    frozen = torch.nn.Parameter(torch.tensor([5.0]), requires_grad=False)
    opt = getattr(olt, name)([used, unused, frozen], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (used ** 2).sum().backward()
        opt.step()
    assert unused.grad is None and frozen.grad is None
    assert torch.equal(unused.detach(), torch.tensor([3.0, 4.0]))
    assert torch.equal(frozen.detach(), torch.tensor([5.0]))
    for p in (unused, frozen):  # no state; Adagrad's, created with the optimizer (as torch's), unused
        assert len(opt.state[p]) == 0 if name != "Adagrad" else opt.state[p]["step"] == 0
    assert not torch.equal(used.detach(), torch.tensor([1.0, -2.0]))
    if name != "SGD":  # plain SGD keeps no state at all, as torch.optim.SGD
        assert opt.state[used]["step"] == 3


# --------------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_state_dict_round_trip_continues_identically(name, kwargs):
    data = make_data()
    straight = make_model()
    train(straight, getattr(olt, name)(straight.parameters(), **kwargs), 20, data)

    first = make_model()
    opt = getattr(olt, name)(first.parameters(), **kwargs)
    train(first, opt, 10, data)
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer)
    second = make_model(seed=123)  # other weights, then the checkpointed ones
    second.load_state_dict(first.state_dict())
    opt2 = getattr(olt, name)(second.parameters(), **kwargs)
    opt2.load_state_dict(state)
    train(second, opt2, 10, data)
    np.testing.assert_array_equal(torch.cat([p.flatten() for p in params_of(second)]).numpy(),
                                  torch.cat([p.flatten() for p in params_of(straight)]).numpy())

    # the state really mattered: a fresh optimizer continues differently
    third = make_model(seed=123)
    third.load_state_dict(first.state_dict())
    train(third, getattr(olt, name)(third.parameters(), **kwargs), 10, data)
    assert max(float((p - q).abs().max()) for p, q in zip(params_of(third), params_of(straight))) > 1e-8


# --------------------------------------------------------------------------- schedulers
SCHEDULERS = {
    "StepLR": lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.3),
    "LambdaLR": lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + 0.2 * epoch)),
}


@pytest.mark.parametrize("sched", list(SCHEDULERS))
@pytest.mark.parametrize("name, kwargs", [CASES[0], CASES[3], CASES[5], CASES[8]],
                         ids=[IDS[0], IDS[3], IDS[5], IDS[8]])
def test_lr_schedulers_act_as_on_torch_optim(name, kwargs, sched):
    data = make_data()
    ours, theirs, plain = make_model(), make_model(), make_model()
    opt = getattr(olt, name)(ours.parameters(), **kwargs)
    ref = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    s_ours, s_ref = SCHEDULERS[sched](opt), SCHEDULERS[sched](ref)
    train(ours, opt, 30, data, s_ours)
    train(theirs, ref, 30, data, s_ref)
    assert_params_close(params_of(ours), params_of(theirs))
    assert opt.param_groups[0]["lr"] == ref.param_groups[0]["lr"] != kwargs["lr"]
    assert s_ours.get_last_lr() == s_ref.get_last_lr()
    train(plain, getattr(olt, name)(plain.parameters(), **kwargs), 30, data)
    assert max(float((p - q).abs().max()) for p, q in zip(params_of(plain), params_of(ours))) > 1e-6


# --------------------------------------------------------------------------- misc
def test_import_optimlab_does_not_import_torch():
    code = ("import sys, numpy as np, optimlab as ol\n"
            "ol.run(ol.Adam(lr=0.1), ol.surfaces.Quadratic(), (1.0, 1.0), 5)\n"
            "ol.ewma(np.ones(3), 0.9); ol.theory.gd_best(10, 1)\n"
            "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)\n"
            "import optimlab.torch\n"
            "assert 'torch' in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_adapter_classes_are_torch_optimizers():
    p = torch.nn.Parameter(torch.zeros(2))
    for name in ["SGD", "Momentum", "RMSprop", "Adagrad", "Adam", "AdamW", "NAdam"]:
        opt = getattr(olt, name)([p])
        assert isinstance(opt, torch.optim.Optimizer)
        if name != "Momentum":
            assert opt.defaults["lr"] == getattr(torch.optim, name)([p]).defaults["lr"]
