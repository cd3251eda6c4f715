"""optimlab.torch as a drop-in for cost and identity, not only for results.

* every optimizer gives torch.optim's single-tensor results **to the bit**, float32 and float64,
  NAdam included over a long run with float64 parameters under the float32 default dtype (its
  μ-product is rounded to float32 each step, as torch.optim's is) and with OneCycleLR;
* a step works in place: the state tensors keep their storage, and the step allocates no more
  than torch.optim's (read from torch's profiler, not timed: ``benchmarks/bench_torch.py`` times);
* ``isinstance(olt.Adam(...), torch.optim.Adam)`` holds (each class subclasses its twin);
* ``fused=True`` says once per optimizer that no fused kernel runs.
"""
from __future__ import annotations

import warnings

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

import optimlab.torch as olt

CASES = [
    ("SGD", dict(lr=0.01)), ("SGD", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, maximize=True)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.3)),
    ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01)), ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
]


def train(make_opt, steps, dtype=torch.float32, one_cycle=False):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).to(dtype)
    X, Y = torch.randn(64, 8, dtype=dtype), torch.randn(64, 1, dtype=dtype)
    opt = make_opt(model.parameters())
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=steps) if one_cycle else None
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(X), Y).backward()
        opt.step()
        if sched:
            sched.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name, kwargs", CASES)
def test_bit_for_bit_torchs_single_tensor_algorithm(name, kwargs, dtype):
    ours = train(lambda ps: getattr(olt, name)(ps, **kwargs), 60, dtype)
    theirs = train(lambda ps: getattr(torch.optim, name)(ps, **kwargs), 60, dtype)
    assert torch.equal(ours, theirs), f"max |diff| {(ours - theirs).abs().max():.2e}"


@pytest.mark.parametrize("one_cycle", [False, True])
def test_nadam_long_run_with_float64_parameters_under_the_float32_default(one_cycle):
    """torch.optim.NAdam keeps ∏μ as a float32 tensor (the default dtype) even for float64
    parameters; optimlab multiplies that same tensor, so 200 steps agree exactly."""
    assert torch.get_default_dtype() == torch.float32
    make = {module: (lambda ps, m=module: m.NAdam(ps, lr=0.01)) for module in (olt, torch.optim)}
    ours, theirs = (train(make[m], 200, torch.float64, one_cycle) for m in (olt, torch.optim))
    assert torch.equal(ours, theirs), f"max |diff| {(ours - theirs).abs().max():.2e}"


def peak_bytes(step) -> int:
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    now = peak = 0
    for e in sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns()):
        now += e.nbytes()
        peak = max(peak, now)
    return peak


@pytest.mark.parametrize("name, kwargs", [case for case in CASES if case[0] != "SGD" or "momentum" in case[1]])
def test_a_step_works_in_place_and_allocates_no_more_than_torchs(name, kwargs):
    torch.manual_seed(0)
    params = {m: [torch.nn.Parameter(torch.randn(64, 64)) for _ in range(3)] for m in (olt, torch.optim)}
    opts = {m: getattr(m, name)(params[m], **kwargs) for m in params}
    for m, ps in params.items():
        for p in ps:
            p.grad = torch.randn_like(p)
        opts[m].step()
    storage = {(i, key): value.data_ptr() for i, p in enumerate(params[olt])
               for key, value in opts[olt].state[p].items()}
    peaks = {m: peak_bytes(opts[m].step) for m in params}
    assert storage == {(i, key): value.data_ptr() for i, p in enumerate(params[olt])
                       for key, value in opts[olt].state[p].items()}
    assert peaks[olt] <= peaks[torch.optim], peaks


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "NAdam"])
def test_isinstance_of_the_torch_twin(name):
    opt = getattr(olt, name)([torch.nn.Parameter(torch.zeros(2))])
    assert isinstance(opt, getattr(torch.optim, name)) and isinstance(opt, torch.optim.Optimizer)
    assert type(opt).step is not getattr(torch.optim, name).step  # optimlab's step runs
    assert isinstance(olt.AdamW([torch.nn.Parameter(torch.zeros(2))]), torch.optim.Adam)  # as torch's


def test_fused_true_warns_once_per_optimizer():
    p = torch.nn.Parameter(torch.zeros(2))
    with pytest.warns(UserWarning, match=r"Adam\(fused=True\) runs torch.optim's single-tensor algorithm"):
        opt = olt.Adam([p], fused=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "fused": True})
        p.grad = torch.ones(2)
        opt.step()
        olt.Adam([p], fused=False).step()
