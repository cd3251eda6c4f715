"""``optimlab.nets``: exact backpropagation, torch.optim parity of whole training runs, batching."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import optimlab as ol
import optimlab.torch as olt
from optimlab import datasets, nets, registry

NET = nets.MLP((64, 16, 10))


@pytest.fixture(scope="module")
def small():
    """200 training and 60 test images: enough for 2 epochs with a short last batch (200 = 6·32 + 8)."""
    d = datasets.digits()
    return datasets.Dataset(d.X_train[:200], d.y_train[:200], d.X_test[:60], d.y_test[:60], 10)


pytestmark = pytest.mark.usefixtures("float64_default")


# ----------------------------------------------------------------------------- the network
def test_init_is_pytorchs_layout_and_distribution():
    net = nets.MLP((64, 64, 10))
    params = net.init(0)
    assert [p.shape for p in params] == [(64, 64), (64,), (10, 64), (10,)] == net.shapes
    assert net.size == 64 * 64 + 64 + 10 * 64 + 10
    for p, fan_in in zip(params, (64, 64, 64, 64)):
        assert np.abs(p).max() <= 1 / math.sqrt(fan_in)
    # nn.Linear's own draws have the same bound and a uniform spread (variance k²/3)
    lin = torch.nn.Linear(64, 64)
    k = 1 / 8
    assert lin.weight.abs().max().item() <= k
    np.testing.assert_allclose(params[0].var(), k * k / 3, rtol=0.1)
    np.testing.assert_allclose(lin.weight.detach().numpy().var(), k * k / 3, rtol=0.1)


def test_init_draws_from_the_documented_generator():
    net = nets.MLP((3, 2, 2))
    rng = np.random.default_rng([7, 1])
    expected = [rng.uniform(-1 / math.sqrt(3), 1 / math.sqrt(3), (2, 3)),
                rng.uniform(-1 / math.sqrt(3), 1 / math.sqrt(3), (2,)),
                rng.uniform(-1 / math.sqrt(2), 1 / math.sqrt(2), (2, 2)),
                rng.uniform(-1 / math.sqrt(2), 1 / math.sqrt(2), (2,))]
    for a, b in zip(net.init(7), expected):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(net.init(7)[0], net.init(8)[0])


def torch_model(net, params):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        lin = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(params[2 * i]))
            lin.bias.copy_(torch.as_tensor(params[2 * i + 1]))
        layers += [lin, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1]).double()


def test_loss_and_gradient_equal_torch_autograd(small):
    net = nets.MLP((64, 32, 16, 10))
    params = net.init(3)
    loss, grads = net.loss_and_grad(params, small.X_train, small.y_train)
    model = torch_model(net, params)
    out = torch.nn.functional.cross_entropy(model(torch.as_tensor(small.X_train)), torch.as_tensor(small.y_train))
    out.backward()
    assert abs(loss - out.item()) <= 1e-14 * abs(loss)
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_gradient_equals_central_finite_differences():
    net = nets.MLP((5, 4, 3))
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((7, 5)), rng.integers(0, 3, 7)
    params = net.init(1)
    _, grads = net.loss_and_grad(params, X, y)
    h = 1e-6
    for j, p in enumerate(params):
        for i in np.ndindex(p.shape):
            plus = [q.copy() for q in params]
            minus = [q.copy() for q in params]
            plus[j][i] += h
            minus[j][i] -= h
            fd = (net.loss_and_grad(plus, X, y)[0] - net.loss_and_grad(minus, X, y)[0]) / (2 * h)
            assert abs(fd - grads[j][i]) < 1e-8, (j, i)


def test_batched_parameters_give_the_stacked_single_results(small):
    p0, p1 = NET.init(0), NET.init(1)
    stacked = [np.stack(ps) for ps in zip(p0, p1)]
    loss, grads = NET.loss_and_grad(stacked, small.X_train, small.y_train)
    for c, single in enumerate((p0, p1)):
        l1, g1 = NET.loss_and_grad(single, small.X_train, small.y_train)
        np.testing.assert_allclose(loss[c], l1, rtol=1e-13)
        for a, b in zip(grads, g1):
            np.testing.assert_allclose(a[c], b, rtol=1e-11, atol=1e-15)
    loss_acc = NET.evaluate(stacked, small.X_test, small.y_test)
    assert loss_acc[0].shape == loss_acc[1].shape == (2,)


# ----------------------------------------------------------------------------- torch.optim parity
def torch_twin(opt):
    """The torch.optim optimizer (class, kwargs) that must step exactly like ``opt``."""
    hp = dict(opt.hyperparameters)
    if isinstance(opt, ol.Momentum):  # v ← βv + (1−β)g, θ ← θ − ηv  ==  SGD(lr=(1−β)η, momentum=β)
        beta = hp.pop("beta")
        return torch.optim.SGD, dict(hp, lr=(1 - beta) * hp["lr"], momentum=beta)
    if isinstance(opt, ol.AdamW):
        hp.pop("decoupled_weight_decay")
        return torch.optim.AdamW, hp
    twin = registry.rule_of(opt).twin
    if twin is None:  # Lion: optimlab.torch.Lion, held to the paper's algorithm in test_rules
        return getattr(olt, type(opt).__name__), hp
    return getattr(torch.optim, twin), hp


def torch_train(opt, net, data, *, epochs, batch_size, seed, schedule=None, clip=None, ema=None, norms=None):
    """The same training in torch: same initial parameters, same batches, torch.optim's step.

    ``opt`` is one rule (one torch.optim optimizer over the model) or a list of rules, one per
    parameter (one torch.optim optimizer per parameter, as param groups would be).  A list
    ``norms`` receives the total gradient norm of every step that ``clip_grad_norm_`` returns."""
    model = torch_model(net, net.init(seed))
    if isinstance(opt, list):
        optimizers = [torch_twin(r)[0]([p], **torch_twin(r)[1]) for r, p in zip(opt, model.parameters())]
    else:
        optimizers = [torch_twin(opt)[0](model.parameters(), **torch_twin(opt)[1])]
    scheds = [] if schedule is None else [
        torch.optim.lr_scheduler.LambdaLR(o, lambda k: schedule(k + 1)) for o in optimizers]
    avg = None
    if ema is not None:
        avg = torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(ema))
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for k in range(0, len(y), batch_size):
            idx = torch.as_tensor(order[k:k + batch_size])
            for o in optimizers:
                o.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            losses.append(loss.item())
            if clip is not None or norms is not None:
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf if clip is None else clip)
                if norms is not None:
                    norms.append(norm.item())
            for o in optimizers:
                o.step()
            for sched in scheds:
                sched.step()
            if avg is not None:
                avg.update_parameters(model)
    params = [p.detach().numpy() for p in model.parameters()]
    averaged = None if avg is None else [p.detach().numpy() for p in avg.module.parameters()]
    return np.array(losses), params, averaged


CASES = [  # every rule of the book with its options
    ol.SGD(lr=0.3),
    ol.SGD(lr=0.1, momentum=0.9, weight_decay=1e-3),
    ol.SGD(lr=0.1, momentum=0.9, nesterov=True),
    ol.SGD(lr=0.1, momentum=0.8, dampening=0.3),
    ol.Momentum(lr=0.5, beta=0.9, weight_decay=1e-3),
    ol.RMSprop(lr=1e-3, alpha=0.9, weight_decay=1e-3),
    ol.RMSprop(lr=1e-3, momentum=0.5, centered=True),
    ol.Adagrad(lr=0.05, lr_decay=1e-3, initial_accumulator_value=0.1, weight_decay=1e-3),
    ol.Adam(lr=3e-3),
    ol.Adam(lr=3e-3, betas=(0.8, 0.99), amsgrad=True, weight_decay=1e-2),
    ol.Adam(lr=3e-3, weight_decay=0.1, decoupled_weight_decay=True),
    ol.AdamW(lr=3e-3, weight_decay=0.1),
    ol.AdamW(lr=3e-3, amsgrad=True, eps=1e-3),
    ol.NAdam(lr=3e-3, momentum_decay=0.01),
    ol.NAdam(lr=3e-3, weight_decay=1e-2, decoupled_weight_decay=True),
    ol.Lion(lr=3e-4, weight_decay=0.1),
    ol.RAdam(lr=3e-3),
    ol.RAdam(lr=3e-3, weight_decay=0.1, decoupled_weight_decay=True),
    ol.Adafactor(lr=1e-2),
    ol.Adafactor(lr=3e-2, weight_decay=1e-2, eps=(1e-30, 1e-3), d=1.5),
]


def assert_same_run(rec, losses, params, rtol=1e-10):
    np.testing.assert_allclose(rec.train_loss, losses, rtol=rtol)
    for a, b in zip(rec.params, params):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-13 * np.abs(b).max())


@pytest.mark.parametrize("opt", CASES, ids=repr)
def test_training_equals_torch_optim_step_for_step(opt, small):
    rec = nets.train(opt, NET, small, epochs=2, batch_size=32, seed=4)
    losses, params, _ = torch_train(opt, NET, small, epochs=2, batch_size=32, seed=4)
    assert rec.train_loss.shape == (14,) and rec.steps_per_epoch == 7  # the short last batch is kept
    assert_same_run(rec, losses, params)


@pytest.mark.parametrize("opt", CASES, ids=repr)
def test_schedule_and_clipping_equal_torchs(opt, small):
    """Every rule of the book, with a warmup-then-cosine schedule and clipping at norm 0.5 (which
    fires on these steps: the recorded norms before clipping exceed it)."""
    warmup_cosine = lambda t: min(1.0, t / 5) * 0.5 * (1 + math.cos(math.pi * t / 14))  # noqa: E731
    rec = nets.train(opt, NET, small, epochs=2, batch_size=32, seed=2, lr_schedule=warmup_cosine, clip=0.5)
    losses, params, _ = torch_train(opt, NET, small, epochs=2, batch_size=32, seed=2,
                                    schedule=warmup_cosine, clip=0.5)
    assert_same_run(rec, losses, params)
    assert rec.grad_norm.max() > 0.5


def test_the_recorded_gradient_norm_is_clip_grad_norms_before_clipping(small):
    norms = []
    rec = nets.train(ol.Adam(lr=1e-2), NET, small, epochs=2, batch_size=32, seed=2, clip=0.5)
    torch_train(ol.Adam(lr=1e-2), NET, small, epochs=2, batch_size=32, seed=2, clip=0.5, norms=norms)
    np.testing.assert_allclose(rec.grad_norm, norms, rtol=1e-10)
    assert rec.grad_norm.max() > 0.5  # the norms before clipping, not after
    first = nets.train(ol.SGD(lr=0.1), NET, small, epochs=1, batch_size=32, seed=[2, 5]).grad_norm[0]
    for c, seed in enumerate([2, 5]):
        idx = np.random.default_rng(seed).permutation(len(small.y_train))[:32]
        grads = NET.loss_and_grad(NET.init(seed), small.X_train[idx], small.y_train[idx])[1]
        assert first[c] == pytest.approx(np.sqrt(sum((g * g).sum() for g in grads)), rel=1e-12)


def test_one_rule_per_parameter_equals_torch_with_one_optimizer_per_parameter_group(small):
    rules = [ol.Adam(lr=3e-3), ol.Adam(lr=3e-3), ol.SGD(lr=0.1, momentum=0.9), ol.SGD(lr=0.1, momentum=0.9)]
    rec = nets.train(rules, NET, small, epochs=2, batch_size=32, seed=6)
    losses, params, _ = torch_train(rules, NET, small, epochs=2, batch_size=32, seed=6)
    assert_same_run(rec, losses, params)
    batched = nets.train([r.replace(lr=np.array([3e-3, 1e-3]) if i < 2 else 0.1) for i, r in enumerate(rules)],
                         NET, small, epochs=1, batch_size=32, seed=[6, 6])
    assert batched.train_loss.shape == (7, 2)
    with pytest.raises(ValueError, match="a list of 4 of them"):
        nets.train(rules[:3], NET, small, epochs=1, batch_size=32)


def test_ema_of_the_weights_equals_torchs_averaged_model(small):
    opt = ol.SGD(lr=0.3, momentum=0.9)
    rec = nets.train(opt, NET, small, epochs=2, batch_size=32, seed=1, ema=0.8)
    _, _, averaged = torch_train(opt, NET, small, epochs=2, batch_size=32, seed=1, ema=0.8)
    loss, acc = NET.evaluate(averaged, small.X_test, small.y_test)
    np.testing.assert_allclose(rec.averaged["test_loss"][-1], loss, rtol=1e-10)
    assert rec.averaged["test_accuracy"][-1] == acc
    assert rec.averaged["test_loss"][-1] != rec.test_loss[-1]


def test_per_epoch_metrics_are_those_of_the_parameters_after_each_epoch(small):
    rec = nets.train(ol.Adam(lr=1e-2), NET, small, epochs=3, batch_size=50, seed=0, keep_params=True)
    assert rec.test_loss.shape == rec.test_accuracy.shape == rec.train_loss_epoch.shape == (4,)
    for e, ps in enumerate(rec.params_epoch):
        loss, acc = NET.evaluate(ps, small.X_test, small.y_test)
        assert rec.test_loss[e] == pytest.approx(loss, rel=1e-13) and rec.test_accuracy[e] == acc
        assert rec.train_loss_epoch[e] == pytest.approx(NET.evaluate(ps, small.X_train, small.y_train)[0], rel=1e-13)
    np.testing.assert_array_equal(rec.params_epoch[0][0], NET.init(0)[0])
    assert rec.test_accuracy[-1] > rec.test_accuracy[0] + 0.3  # it learns


# ----------------------------------------------------------------------------- batching
def test_a_batched_call_equals_the_one_by_one_calls(small):
    lrs, seeds = np.array([1e-3, 3e-3, 1e-2]), [0, 1, 2]
    opt = ol.Adam(lr=lrs, betas=(np.array([0.9, 0.8, 0.5]), 0.999), weight_decay=np.array([0.0, 1e-2, 0.1]))
    rec = nets.train(opt, NET, small, epochs=2, batch_size=32, seed=seeds, clip=np.array([1.0, 0.5, 10.0]))
    assert rec.train_loss.shape == (14, 3) and rec.params[0].shape == (3, 16, 64)
    for c in range(3):
        one = nets.train(ol.Adam(lr=lrs[c], betas=(opt.betas[0][c], 0.999), weight_decay=opt.weight_decay[c]),
                         NET, small, epochs=2, batch_size=32, seed=seeds[c], clip=[1.0, 0.5, 10.0][c])
        np.testing.assert_allclose(rec.train_loss[:, c], one.train_loss, rtol=1e-12)
        np.testing.assert_allclose(rec.test_loss[:, c], one.test_loss, rtol=1e-12)
        for a, b in zip(rec.params, one.params):
            np.testing.assert_allclose(a[c], b, rtol=1e-11, atol=1e-15)


def test_an_infinite_clip_is_no_clipping(small):
    rec = nets.train(ol.Adam(lr=1e-2), NET, small, epochs=1, batch_size=32, seed=[3, 3], clip=[np.inf, 0.05])
    plain = nets.train(ol.Adam(lr=1e-2), NET, small, epochs=1, batch_size=32, seed=3)
    np.testing.assert_allclose(rec.train_loss[:, 0], plain.train_loss, rtol=1e-12)
    assert not np.allclose(rec.train_loss[:, 1], plain.train_loss)


def test_scalar_hyperparameters_with_several_seeds_batch_over_the_seeds(small):
    rec = nets.train(ol.SGD(lr=0.1, momentum=np.array([0.0, 0.9])), NET, small, epochs=1, batch_size=64, seed=[5, 5])
    one = nets.train(ol.SGD(lr=0.1), NET, small, epochs=1, batch_size=64, seed=5)
    np.testing.assert_allclose(rec.train_loss[:, 0], one.train_loss, rtol=1e-12)
    assert not np.allclose(rec.train_loss[:, 1], one.train_loss)


def test_a_diverging_configuration_is_recorded_and_the_others_go_on(small):
    rec = nets.train(ol.SGD(lr=np.array([0.1, 1e6])), NET, small, epochs=2, batch_size=32, seed=0)
    one = nets.train(ol.SGD(lr=0.1), NET, small, epochs=2, batch_size=32, seed=0)
    assert rec.diverged.tolist() == [False, True] and rec.diverged_at[1] >= 1
    np.testing.assert_allclose(rec.train_loss[:, 0], one.train_loss, rtol=1e-12)
    for arr in (rec.train_loss, rec.test_loss, rec.test_accuracy, rec.train_loss_epoch, *rec.params):
        assert np.all(np.isfinite(arr))
    assert all(np.abs(p[1]).max() <= 1e6 for p in rec.params)
    assert np.isnan(rec.final("test_loss")[1]) and np.isfinite(rec.final("test_accuracy")[0])


def test_a_batch_size_above_the_training_set_is_full_batch(small):
    rec = nets.train(ol.SGD(lr=0.5), NET, small, epochs=3, batch_size=10_000, seed=0)
    assert rec.steps_per_epoch == 1
    np.testing.assert_allclose(rec.train_loss[1:], rec.train_loss_epoch[1:-1], rtol=1e-12)


# ----------------------------------------------------------------------------- sharpness
def test_sharpness_is_the_top_hessian_eigenvalue():
    net = nets.MLP((6, 5, 4, 3))
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 6)), rng.integers(0, 3, 20)
    params = net.init(2)
    flat = torch.as_tensor(np.concatenate([p.ravel() for p in params]))

    def loss(theta):
        ps, i = [], 0
        for s in net.shapes:
            n = math.prod(s)
            ps.append(theta[i:i + n].reshape(s))
            i += n
        h = torch.relu(torch.as_tensor(X) @ ps[0].T + ps[1])
        h = torch.relu(h @ ps[2].T + ps[3])
        return torch.nn.functional.cross_entropy(h @ ps[4].T + ps[5], torch.as_tensor(y))

    hessian = torch.autograd.functional.hessian(loss, flat).numpy()
    top = np.linalg.eigvalsh(hessian)[-1]
    estimate = nets.sharpness(net, params, X, y, iters=300)
    assert estimate == pytest.approx(top, rel=1e-8)
    both = nets.sharpness(net, [np.stack([p, p]) for p in params], X, y, iters=300)
    np.testing.assert_allclose(both, estimate, rtol=1e-10)
    v = [np.random.default_rng(5).standard_normal(s) for s in net.shapes]   # and every product is exact
    hv = np.concatenate([h.ravel() for h in nets._hvp(net, params, v, X, y)])
    np.testing.assert_allclose(hv, hessian @ np.concatenate([u.ravel() for u in v]), rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------------- bad input
def bad(d, **changes):
    return dataclasses.replace(d, **changes)


@pytest.mark.parametrize("make, match", [
    (lambda d: dict(data=bad(d, X_train=d.X_train[:, :63])), r"data.X_train must have shape \(n, 64\)"),
    (lambda d: dict(data=bad(d, y_train=np.where(np.arange(200) == 3, 10, d.y_train))), r"labels in \[0, 9\], got 10"),
    (lambda d: dict(data=bad(d, y_test=-np.ones(60, dtype=int))), r"data.y_test must hold labels in \[0, 9\], got -1"),
    (lambda d: dict(data=bad(d, y_train=d.y_train.astype(float))), "integer labels"),
    (lambda d: dict(data=bad(d, X_train=np.where(np.arange(64) == 5, np.nan, d.X_train))), "data.X_train must be finite"),
    (lambda d: dict(data=bad(d, X_test=np.full((60, 64), np.inf))), "data.X_test must be finite"),
    (lambda d: dict(batch_size=0), r"batch_size must be an integer in \[1, inf\)"),
    (lambda d: dict(batch_size=2.5), r"batch_size must be an integer"),
    (lambda d: dict(epochs=0), r"epochs must be an integer in \[1, inf\)"),
    (lambda d: dict(seed=-1), r"seed must be an integer in \[0, inf\)"),
    (lambda d: dict(seed=[[0]]), r"seed must be"),
    (lambda d: dict(optimizer=ol.SGD(lr=np.ones((2, 1)))), r"must be scalars or 1-D"),
    (lambda d: dict(optimizer=ol.SGD(lr=np.ones(3)), seed=[0, 1]), r"one length \(or 1\), got \[2, 3\]"),
    (lambda d: dict(clip=0.0), r"clip must be in \(0, inf\]"),
    (lambda d: dict(clip=[1.0, np.nan]), r"clip must be in \(0, inf\]"),
    (lambda d: dict(ema=1.0), r"ema must be in \[0, 1\)"),
    (lambda d: dict(lr_schedule=lambda t: -1.0), r"lr_schedule must return a number in \[0, inf\), got -1.0 at step 1"),
    (lambda d: dict(params=[np.zeros((3, 3))] * 4), r"params\[0\] must have shape \(16, 64\)"),
    (lambda d: dict(optimizer="adam"), r"optimizer must be an optimlab.Optimizer"),
    (lambda d: dict(optimizer=[ol.SGD(lr=np.ones(2))] * 2 + [ol.SGD(lr=np.ones(3))] * 2), r"must have one length, got 2 and 3"),
])
def test_bad_input_is_refused_by_name(make, match, small):
    kwargs = dict(optimizer=ol.SGD(lr=0.1), net=NET, data=small, epochs=1, batch_size=32, seed=0)
    kwargs.update(make(small))
    with pytest.raises(ValueError, match=match):
        nets.train(kwargs.pop("optimizer"), kwargs.pop("net"), kwargs.pop("data"), **kwargs)


@pytest.mark.parametrize("sizes", [(64,), (64, 0, 10), (64, 2.5, 10), "64"])
def test_bad_sizes_are_refused(sizes):
    with pytest.raises(ValueError, match="sizes must be at least two integers"):
        nets.MLP(sizes)


# ----------------------------------------------------------------------------- tuning
def test_tune_is_the_protocol_on_one_batched_call(small):
    lrs = np.array([1e-3, 1e-2, 1e-1])
    result, rec = nets.tune(lambda lr: ol.Adam(lr=lr), NET, small, lrs, seeds=(0, 1), epochs=1, batch_size=50)
    assert result.scores.shape == (2, 3) and rec.train_loss.shape[1] == 6
    for i, lr in enumerate(lrs):
        for s, seed in enumerate((0, 1)):
            one = nets.train(ol.Adam(lr=lr), NET, small, epochs=1, batch_size=50, seed=seed)
            assert result.scores[s, i] == pytest.approx(one.test_loss[-1], rel=1e-12)
    assert result.best == int(np.argmin(np.median(result.scores, axis=0)))
    acc, _ = nets.tune(lambda lr: ol.Adam(lr=lr), NET, small, lrs, seeds=(0, 1), metric="test_accuracy",
                       epochs=1, batch_size=50)
    assert acc.maximize and acc.best == int(np.argmax(np.median(acc.scores, axis=0)))
    with pytest.raises(ValueError, match="seeds must be distinct"):
        nets.tune(lambda lr: ol.Adam(lr=lr), NET, small, lrs, seeds=(0, 0), epochs=1, batch_size=50)


def test_muon_on_the_weights_and_adamw_on_the_biases_equal_torchs(small, monkeypatch):
    import torch.optim._muon as muon_module
    import test_rules  # Muon's iteration in float64, as the numpy rule runs it

    monkeypatch.setattr(muon_module, "_zeropower_via_newtonschulz", test_rules._newton_schulz_float64)
    muon, adamw = ol.Muon(lr=0.02), ol.AdamW(lr=3e-3)
    rec = nets.train([muon, adamw, muon, adamw], NET, small, epochs=2, batch_size=32, seed=3)
    losses, params, _ = torch_train([muon, adamw, muon, adamw], NET, small, epochs=2, batch_size=32, seed=3)
    assert_same_run(rec, losses, params)
    with pytest.raises(ValueError, match="2-D weight matrices"):
        nets.train(ol.Muon(), NET, small, epochs=1, batch_size=32)  # the biases are not matrices


@pytest.mark.parametrize("make", [
    lambda lr: ol.Adafactor(lr=lr),
    lambda lr: [ol.Muon(lr=lr), ol.AdamW(lr=lr / 10)] * 2,
], ids=["Adafactor", "Muon and AdamW"])
def test_whole_tensor_rules_batch_as_the_one_by_one_calls(make, small):
    lrs = np.array([1e-2, 3e-2])
    rec = nets.train(make(lrs), NET, small, epochs=1, batch_size=64, seed=[0, 1])
    for c in range(2):
        one = nets.train(make(float(lrs[c])), NET, small, epochs=1, batch_size=64, seed=c)
        np.testing.assert_allclose(rec.train_loss[:, c], one.train_loss, rtol=1e-12)
        for a, b in zip(rec.params, one.params):
            np.testing.assert_allclose(a[c], b, rtol=1e-11, atol=1e-15)


def test_cosine_schedule_is_warmup_then_chapter_9s_cosine():
    f = ol.nets.cosine_schedule(100)
    assert [f(t) for t in (1, 51, 101)] == pytest.approx([1.0, 0.5, 0.0], abs=1e-15)
    assert all(f(t) == 0.5 * (1 + np.cos(np.pi * (t - 1) / 100)) for t in range(1, 101))
    g = ol.nets.cosine_schedule(100, warmup_steps=10)
    assert [g(t) for t in (1, 5, 10, 11)] == [0.1, 0.5, 1.0, 1.0]
    assert g(100) == pytest.approx(0.5 * (1 + np.cos(np.pi * 89 / 90)))
    assert all(g(t) >= g(t + 1) for t in range(10, 100))
    assert "cosine_schedule(100, warmup_steps=10)" in repr(g)
    for bad, match in (((0,), "total_steps"), ((10, -1), "warmup_steps"), ((10.0,), "total_steps")):
        with pytest.raises(ValueError, match=match):
            ol.nets.cosine_schedule(*bad)


# ----------------------------------------------------------------------------- the loss plane
def _record(path, net):
    """A Training record whose parameters after each epoch are the flat rows of ``path``."""
    ends = np.cumsum([0] + [math.prod(s) for s in net.shapes])
    kept = [[row[i:j].reshape(s) for i, j, s in zip(ends[:-1], ends[1:], net.shapes)] for row in path]
    none = np.zeros(0)
    return nets.Training(none, none, none, none, none, kept[-1], np.array(-1), 1, params_epoch=kept)


@pytest.fixture(scope="module")
def plane_runs(small):
    return [nets.train(opt, NET, small, epochs=3, batch_size=32, seed=4, keep_params=True)
            for opt in (ol.SGD(lr=0.1, momentum=0.9), ol.Adam(lr=3e-3, betas=(np.array([0.9, 0.5]), 0.999)))]


def test_the_plane_goes_through_the_shared_start_with_the_loss_of_mlp_init(small, plane_runs):
    pl = nets.loss_plane(NET, small, plane_runs, n=9)
    np.testing.assert_array_equal(pl.origin, nets.flatten(NET.init(4)))
    start = NET.evaluate(pl.params(0.0, 0.0), small.X_train, small.y_train)[0]
    assert start == plane_runs[0].train_loss_epoch[0] == NET.evaluate(NET.init(4), small.X_train, small.y_train)[0]
    assert len(pl.paths) == 3 and all(np.array_equal(p[0], [0.0, 0.0]) for p in pl.paths)  # the batched record: 2 paths
    assert pl.a[0] < min(p[:, 0].min() for p in pl.paths) and pl.a[-1] > max(p[:, 0].max() for p in pl.paths)
    assert pl.b[0] < min(p[:, 1].min() for p in pl.paths) and pl.b[-1] > max(p[:, 1].max() for p in pl.paths)


def test_the_directions_are_orthonormal_top_principal_directions(small, plane_runs):
    pl = nets.loss_plane(NET, small, plane_runs, n=3)
    D = np.stack([pl.d1, pl.d2])
    np.testing.assert_allclose(D @ D.T, np.eye(2), atol=1e-12)
    disp = np.concatenate([(nets.flatten(ps) - pl.origin).reshape(-1, NET.size)
                           for rec in plane_runs for ps in rec.params_epoch[1:]])
    sv = np.linalg.svd(disp, compute_uv=False)
    assert pl.explained == pytest.approx((sv[:2] ** 2).sum() / (sv ** 2).sum(), rel=1e-12) and 0 < pl.explained < 1
    # No other plane through θ₀ holds more of the paths than the top two principal directions.
    rng = np.random.default_rng(0)
    held = lambda Q: (np.linalg.norm(disp @ Q.T) / np.linalg.norm(disp)) ** 2  # noqa: E731
    assert held(D) == pytest.approx(pl.explained, rel=1e-12)
    for _ in range(20):
        Q = np.linalg.qr((D + 0.05 * rng.standard_normal(D.shape)).T)[0].T
        assert held(Q) < held(D)
    assert (disp @ pl.d1).sum() >= 0 and (disp @ pl.d2).sum() >= 0  # the signs


def test_a_path_in_a_plane_is_captured_fully_and_one_leaving_it_in_part():
    net = nets.MLP((64, 8, 10))
    rng = np.random.default_rng(1)
    u, v, w = np.linalg.qr(rng.standard_normal((net.size, 3)))[0].T
    theta0 = nets.flatten(net.init(3))
    x, y, z = rng.uniform(-2, 2, (3, 6))
    x[0] = y[0] = z[0] = 0
    flat = theta0 + x[:, None] * u + y[:, None] * v
    off = flat + 0.1 * z[:, None] * w
    data = datasets.digits()
    pl = nets.loss_plane(net, data, [_record(flat, net)], n=2)
    assert pl.captured[0] == pytest.approx(1.0, abs=1e-12)
    basis = np.stack([u, v])  # the plane is span(u, v)
    np.testing.assert_allclose(np.linalg.norm(basis @ np.stack([pl.d1, pl.d2]).T, axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(*pl.paths[0].T), np.hypot(x, y), atol=1e-12)
    coords, frac = nets.project(_record(off, net), pl.origin, pl.d1, pl.d2)  # it leaves the plane along w
    np.testing.assert_allclose(coords, pl.paths[0], atol=1e-12)
    assert frac == pytest.approx((x ** 2 + y ** 2).sum() / (x ** 2 + y ** 2 + 0.01 * z ** 2).sum(), rel=1e-12)
    assert frac < 1


def test_the_grid_is_the_loss_evaluated_directly(small, plane_runs):
    pl = nets.loss_plane(NET, small, plane_runs, n=11)
    assert pl.loss.shape == (11, 11) and np.all(np.isfinite(pl.loss))
    rng = np.random.default_rng(2)
    ends = np.cumsum([0] + [math.prod(s) for s in NET.shapes])
    for i, j in rng.integers(0, 11, (8, 2)):
        flat = pl.origin + pl.a[i] * pl.d1 + pl.b[j] * pl.d2  # column i is a[i], row j is b[j]
        params = [flat[s:t].reshape(shape) for s, t, shape in zip(ends[:-1], ends[1:], NET.shapes)]
        assert pl.loss[j, i] == pytest.approx(NET.evaluate(params, small.X_train, small.y_train)[0], rel=1e-12)


def test_loss_plane_refuses_paths_it_cannot_draw(small, plane_runs):
    other = nets.train(ol.Adam(lr=3e-3), NET, small, epochs=1, batch_size=32, seed=5, keep_params=True)
    with pytest.raises(ValueError, match="same initial parameters"):
        nets.loss_plane(NET, small, [plane_runs[0], other])
    with pytest.raises(ValueError, match="keep_params=True"):
        nets.loss_plane(NET, small, [nets.train(ol.Adam(), NET, small, epochs=1, batch_size=32)])
    with pytest.raises(ValueError, match="n must be"):
        nets.loss_plane(NET, small, plane_runs, n=1)
