"""``optimlab.torch`` keeps torch.optim's state layout, so checkpoints cross over both ways.

For every optimizer with a ``torch.optim`` twin, with options that fill every state entry, in
float32 and float64:

* after the same steps, ``state_dict()`` of ours and of torch.optim have the same param-group
  keys and values (in the same order) and the same per-parameter entries: names, order, Python
  types, dtypes, shapes, layouts;
* a checkpoint saved by either (through ``torch.save``/``torch.load(weights_only=True)``) loads
  into the other, and training continues as it would have without the change, for 6 steps;
* checkpoints from older torch versions (missing param-group keys, a Python-number ``step``) load
  and continue identically.

The gradients depend on the parameters (``sin 3θ`` plus fixed noise), so the runs are closed
loops, but they need no autograd and stay cheap.
"""
from __future__ import annotations

import contextlib
import copy
import io

import pytest
import torch

import optimlab.torch as olt

# (name, options): every optimizer with a torch.optim twin; together they fill every state entry
CASES = [
    ("SGD", dict(lr=0.05)),  # plain SGD keeps no state at all
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-2)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("RMSprop", dict(lr=1e-2, alpha=0.9)),
    ("RMSprop", dict(lr=1e-2, momentum=0.5, centered=True, weight_decay=1e-2)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=1e-2)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99))),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-2, maximize=True)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=1e-2, amsgrad=True)),
    ("NAdam", dict(lr=1e-2, momentum_decay=0.01)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]
DTYPES = [torch.float32, torch.float64]


def rtol(name, dtype, key=None):
    """How close optimlab.torch and torch.optim stay.  float32: the two round in a different
    order (chapter 8).  float64: to rounding, except NAdam under torch's float32 default dtype:
    torch keeps the running product of μ_t in float32 and steps with the rounded product, where
    optimlab's rule steps with the exact one (and stores it rounded, as torch does)."""
    if key == "mu_product" or (name == "NAdam" and torch.get_default_dtype() == torch.float32):
        return max(1e-6 if key else 1e-8, 2e-5 if dtype == torch.float32 else 0)
    return 2e-5 if dtype == torch.float32 else 1e-10


@contextlib.contextmanager
def default(dtype):
    """torch's default dtype set to ``dtype`` (torch.optim's counters take it) for a while."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def make_params(dtype):
    g = torch.Generator().manual_seed(0)
    return [torch.nn.Parameter(torch.randn(3, 4, generator=g, dtype=dtype)),
            torch.nn.Parameter(torch.randn(4, generator=g, dtype=dtype))]


def train(opt, params, steps, start=0):
    """``steps`` steps with the gradient sin(3θ) + noise of step k (the same noise for every run)."""
    for k in range(start, start + steps):
        noise = torch.Generator().manual_seed(100 + k)
        for p in params:
            p.grad = torch.sin(3 * p.detach()) + 0.3 * torch.randn(p.shape, generator=noise, dtype=p.dtype)
        opt.step()


def clone(params):
    return [torch.nn.Parameter(p.detach().clone()) for p in params]


def saved_and_loaded(state_dict):
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def assert_params_close(ours, theirs, rtol):
    for a, b in zip(ours, theirs):
        a, b = a.detach(), b.detach()
        err, scale = float((a - b).abs().max()), float(b.abs().max())
        assert err <= rtol * scale, f"max |diff| {err:.3e} > {rtol:g} * {scale:.3e}"


def describe(value):
    """What 'the same layout' compares: type, and for tensors dtype, shape and layout."""
    if torch.is_tensor(value):
        return ("Tensor", value.dtype, tuple(value.shape), value.layout)
    return type(value).__name__


def assert_same_state_dict(a, b):
    """Equal state dicts, exactly: keys in order, types, dtypes, values."""
    assert list(a) == list(b)
    assert a["param_groups"] == b["param_groups"]
    assert list(a["state"]) == list(b["state"])
    for i in a["state"]:
        assert list(a["state"][i]) == list(b["state"][i])
        for key, value in a["state"][i].items():
            assert describe(value) == describe(b["state"][i][key])
            assert torch.equal(value, b["state"][i][key]), key


# --------------------------------------------------------------------------- layout
@pytest.mark.parametrize("default_dtype", [torch.float32, torch.float64], ids=["default32", "default64"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_state_dict_layout_is_torch_optims(name, kwargs, dtype, default_dtype):
    """Same param-group keys and values, same entries (names, order, types, dtypes, shapes)."""
    with default(default_dtype):
        ours, theirs = make_params(dtype), make_params(dtype)
        opt, ref = getattr(olt, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
        train(opt, ours, 4)
        train(ref, theirs, 4)
    a, b = opt.state_dict(), ref.state_dict()
    assert [list(g) for g in a["param_groups"]] == [list(g) for g in b["param_groups"]]
    assert a["param_groups"] == b["param_groups"]
    assert list(a["state"]) == list(b["state"])
    for i, entries in b["state"].items():
        assert list(a["state"][i]) == list(entries)
        for key, value in entries.items():
            assert describe(a["state"][i][key]) == describe(value), key
            with default(default_dtype):
                assert_params_close([a["state"][i][key]], [value], rtol(name, dtype, key))
    with default(default_dtype):
        assert_params_close(ours, theirs, rtol(name, dtype))


# --------------------------------------------------------------------------- crossing over
@pytest.mark.parametrize("direction", ["torch->optimlab", "optimlab->torch"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_checkpoint_crosses_over_and_training_continues(name, kwargs, dtype, direction):
    """Save after 6 steps, load into the other implementation, continue 6 steps: same result.

    The reference is the saving optimizer itself continuing; and the state is shown to matter:
    a fresh optimizer without the checkpoint continues differently (except plain SGD, which
    keeps no state).
    """
    source_cls, target_cls = getattr(torch.optim, name), getattr(olt, name)
    if direction == "optimlab->torch":
        source_cls, target_cls = target_cls, source_cls
    params = make_params(dtype)
    source = source_cls(params, **kwargs)
    train(source, params, 6)
    checkpoint = saved_and_loaded(source.state_dict())

    moved = clone(params)
    target = target_cls(moved, **kwargs)
    target.load_state_dict(checkpoint)
    twin = (olt if target_cls is getattr(torch.optim, name) else torch.optim)
    twin = getattr(twin, name)(clone(params), **kwargs)
    twin.load_state_dict(checkpoint)  # loading converts as torch.optim does (dtypes), no more
    assert_same_state_dict(target.state_dict(), twin.state_dict())

    fresh = clone(params)
    fresh_opt = target_cls(fresh, **kwargs)
    train(source, params, 6, start=6)
    train(target, moved, 6, start=6)
    train(fresh_opt, fresh, 6, start=6)
    assert_params_close(moved, params, rtol(name, dtype))
    stateful = kwargs.get("momentum") or name != "SGD"
    if stateful:
        gap = max(float((a - b).detach().abs().max()) for a, b in zip(fresh, params))
        assert gap > 1e-3 * max(float(p.detach().abs().max()) for p in params), gap


def test_torch_save_of_optimlab_checkpoint_loads_with_weights_only():
    params = make_params(torch.float32)
    opt = olt.NAdam(params, lr=1e-2)
    train(opt, params, 3)
    assert_same_state_dict(saved_and_loaded(opt.state_dict()), opt.state_dict())


# --------------------------------------------------------------------------- older checkpoints
NEWER_KEYS = ["maximize", "foreach", "fused", "differentiable", "capturable", "decoupled_weight_decay"]


@pytest.mark.parametrize("source", ["torch", "optimlab"])
@pytest.mark.parametrize("name, kwargs", [CASES[i] for i in (1, 4, 5, 7, 9, 10)],
                         ids=[IDS[i] for i in (1, 4, 5, 7, 9, 10)])
def test_older_checkpoints_load_with_defaults(name, kwargs, source):
    """Param groups without the keys newer torch versions added, and Python-number counters,
    load as in torch.optim: the keys get the constructor's defaults, counters become tensors."""
    cls = getattr(olt if source == "optimlab" else torch.optim, name)
    params = make_params(torch.float64)
    saver = cls(params, **kwargs)
    train(saver, params, 5)
    current = saved_and_loaded(saver.state_dict())
    old = copy.deepcopy(current)
    for group in old["param_groups"]:
        for key in NEWER_KEYS:
            if key in group and not kwargs.get(key):  # a key the checkpoint did not need yet
                del group[key]
    for entries in old["state"].values():
        for key in ("step", "mu_product"):
            if key in entries:
                entries[key] = entries[key].item()

    results = []
    for checkpoint in (current, old):
        moved = clone(params)
        opt = getattr(olt, name)(moved, **kwargs)
        opt.load_state_dict(checkpoint)
        assert {k: v for k, v in opt.param_groups[0].items() if k != "params"} == \
            getattr(olt, name)(clone(params), **kwargs).defaults
        assert all(torch.is_tensor(v) for s in opt.state.values() for k, v in s.items()
                   if k in ("step", "mu_product"))
        train(opt, moved, 5, start=5)
        results.append(moved)
    # (NAdam: a Python-number mu_product becomes a float32 tensor, the current one was cast to
    # float64 on loading; torch.optim.NAdam does the same.)
    assert_params_close(results[1], results[0], rtol(name, torch.float64) if name == "NAdam" else 1e-14)


def test_adam_and_adamw_checkpoints_respect_decoupled_weight_decay():
    """As torch.optim: Adam takes decoupled_weight_decay from the checkpoint, AdamW forces it."""
    model = torch.nn.Linear(5, 5)
    adamw_sd = olt.AdamW(model.parameters()).state_dict()
    adam = olt.Adam(model.parameters())
    adam.load_state_dict(adamw_sd)
    assert adam.param_groups[0]["decoupled_weight_decay"] is True
    adam_sd = olt.Adam(model.parameters()).state_dict()
    assert adam_sd["param_groups"][0]["decoupled_weight_decay"] is False
    for checkpoint in (adam_sd, {**adamw_sd, "param_groups": [
            {k: v for k, v in adamw_sd["param_groups"][0].items() if k != "decoupled_weight_decay"}]}):
        adamw = olt.AdamW(model.parameters())
        adamw.load_state_dict(checkpoint)
        assert adamw.param_groups[0]["decoupled_weight_decay"] is True


# --------------------------------------------------------------------------- fused, and what cannot be loaded
@pytest.mark.filterwarnings("ignore:optimlab.torch.*fused=True")
@pytest.mark.parametrize("name", ["SGD", "Adagrad", "Adam", "AdamW"])
def test_checkpoint_of_a_fused_optimizer_crosses_over(name):
    """fused=True checkpoints (float32 counters) load both ways and continue identically."""
    kwargs = dict(lr=0.05, momentum=0.9) if name == "SGD" else dict(lr=0.05)
    for source_cls, target_cls in [(getattr(torch.optim, name), getattr(olt, name)),
                                   (getattr(olt, name), getattr(torch.optim, name))]:
        params = make_params(torch.float64)
        source = source_cls(params, fused=True, **kwargs)
        train(source, params, 4)
        moved = clone(params)
        target = target_cls(moved, fused=True, **kwargs)
        target.load_state_dict(saved_and_loaded(source.state_dict()))
        train(source, params, 4, start=4)
        train(target, moved, 4, start=4)
        assert_params_close(moved, params, 1e-10)
        assert all(v.dtype == torch.float32 for s in target.state.values() for k, v in s.items() if k == "step")


def test_state_of_another_optimizer_raises_key_error_as_torch():
    """torch.optim raises KeyError on the step after loading a foreign state; optimlab already
    when loading it, naming both optimizers and the keys that tell them apart."""
    params = make_params(torch.float32)
    adam = torch.optim.Adam(params)
    train(adam, params, 2)
    opt = torch.optim.RMSprop(clone(params))
    opt.load_state_dict(adam.state_dict())
    with pytest.raises(KeyError, match="square_avg"):
        train(opt, opt.param_groups[0]["params"], 1)
    with pytest.raises(KeyError, match=r"RMSprop.load_state_dict: .*torch\.optim\.Adam.*hold amsgrad, "
                                       r"betas.* lack RMSprop's alpha"):
        olt.RMSprop(clone(params)).load_state_dict(adam.state_dict())


@pytest.mark.parametrize("saved_by, loaded_into", [
    ("Adam", "SGD"), ("SGD", "Adam"), ("Adagrad", "RMSprop"), ("NAdam", "Adam"), ("Momentum", "SGD"),
    ("AdamW", "NAdam")])
def test_a_state_dict_of_another_optimizer_is_refused_when_loaded(saved_by, loaded_into):
    params = make_params(torch.float32)
    source = getattr(olt, saved_by)(params)
    train(source, params, 1)
    target = getattr(olt, loaded_into)(clone(params))
    with pytest.raises(KeyError, match=f"{loaded_into}.load_state_dict: this state dict was saved by"):
        target.load_state_dict(source.state_dict())


def test_an_older_checkpoint_of_the_same_optimizer_gets_the_defaults():
    """Keys a checkpoint lacks, without another optimizer's keys in their place: filled in."""
    params = make_params(torch.float32)
    adam = olt.Adam(params)
    train(adam, params, 1)
    old = adam.state_dict()
    for key in ("decoupled_weight_decay", "maximize", "amsgrad", "foreach", "fused", "differentiable"):
        del old["param_groups"][0][key]
    again = olt.Adam(clone(params))
    again.load_state_dict(old)
    assert again.param_groups[0]["decoupled_weight_decay"] is False and again.param_groups[0]["amsgrad"] is False


def test_switching_amsgrad_on_midway_raises_as_torch():
    """A state without max_exp_avg_sq cannot silently become AMSGrad's (torch: KeyError too)."""
    for cls in (torch.optim.Adam, olt.Adam):
        params = make_params(torch.float32)
        opt = cls(params)
        train(opt, params, 2)
        opt.param_groups[0]["amsgrad"] = True
        with pytest.raises(KeyError, match="max_exp_avg_sq"):
            train(opt, params, 1)
