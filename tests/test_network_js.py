"""The page's network trainer (optimlab/assets/network.js) against ol.nets.train, under node.

Random settings of every rule the browser engine runs (the samplers of tests/test_engine.py),
random hidden widths, batch sizes, epochs and seeds, schedules (constant, cosine, warmup + cosine),
gradient clipping and input scalings (the explorer's three), on the digits the page carries: the
per-step mini-batch losses, the per-epoch training loss, test loss and test accuracy, the final
parameters and the divergence step must equal ol.nets.train's to 1e-9 (relative); the views' per-
epoch first-layer weights and misclassified test images must be those of ol.nets.train's
parameters after each epoch.

numpy's matrix products (BLAS) add in another order than the page's loops, so the two differ in
the last bits from the first step on.  Where a run amplifies such differences (Adam's m/√v turns
a gradient that should be 0 but is 1e-18 into a full step), they grow until they are visible:
such a run is compared only over the steps before a nudge of 1e-14 (relative) of the initial
parameters grows past 1e-9 in ol.nets.train itself (its "horizon"), as tests/test_engine.py does
for the 2-D engine.  The test reports and bounds how many runs are cut that way.
"""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

import optimlab as ol
from optimlab import engine, explorers, registry

from test_engine import NODE, SAMPLERS, random_optimizer, run_node

RUNNER = __import__("pathlib").Path(__file__).parent / "js" / "run_network.js"
TOL = 1e-9


def _node(payload, tmp_path, runner=RUNNER):
    return run_node(runner, payload, tmp_path, "the page's network trainer")


def _nan(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _cases(seed=17, per_rule=4):
    rng = np.random.default_rng(seed)
    more = np.random.default_rng(seed + 1)  # the options, drawn apart: the rules' samples stay as they were
    cases = []
    for name in sorted(SAMPLERS):
        for _ in range(per_rule):
            opt = random_optimizer(rng, name)
            # a low bound in some runs, so that the divergence rule is exercised too
            bound = float(rng.uniform(0.3, 1.0)) if rng.random() < 0.25 else 1e6
            cases.append({"opt": opt, "hidden": int(rng.integers(4, 49)),
                          "batch_size": int(rng.choice([16, 32, 64, 200, 1438, 5000])),
                          "epochs": int(rng.integers(1, 5)), "seed": int(rng.integers(0, 2**31)),
                          "bound": bound})
    for c in cases:
        c["schedule"] = str(more.choice(list(explorers.NETWORK_SCHEDULES)))
        c["warmup"] = int(more.integers(1, c["epochs"] + 1))  # epochs of warmup (warmup_cosine)
        c["clip"] = float(10 ** more.uniform(-2, 1)) if more.random() < 0.4 else None
        c["scaling"] = str(more.choice(list(explorers.NETWORK_SCALINGS)))
    return cases


def _schedule(c):
    """The case's (total, warmup) steps, or None: what the page computes from its controls."""
    if c["schedule"] == "constant":
        return None
    per = -(-1438 // min(c["batch_size"], 1438))
    return {"total": c["epochs"] * per, "warmup": c["warmup"] * per if c["schedule"] == "warmup_cosine" else 0}


def _data(name):
    return eval(explorers.NETWORK_SCALINGS[name][1], {"ol": ol, "np": np})  # noqa: S307 - the page's code


def _train(c, data, nudge=0.0, keep_params=False):
    net = ol.nets.MLP((64, c["hidden"], 10))
    params = net.init(c["seed"])
    if nudge:
        rng = np.random.default_rng(0)
        params = [p * (1 + nudge * rng.uniform(-1, 1, p.shape)) for p in params]
    sched = _schedule(c)
    return ol.nets.train(c["opt"], net, data, epochs=c["epochs"], batch_size=c["batch_size"],
                         seed=c["seed"], params=params, bound=c["bound"], clip=c["clip"],
                         lr_schedule=sched and ol.nets.cosine_schedule(sched["total"], sched["warmup"]),
                         keep_params=keep_params)


def _horizon(c, data, ref):
    """The first step at which a 1e-14 nudge of the initial parameters shows at 1e-9 in
    ol.nets.train's own mini-batch losses or divergence (steps + 1 if never)."""
    nudged = _train(c, data, 1e-14)
    steps = len(ref.train_loss)
    with np.errstate(invalid="ignore"):
        bad = list(np.flatnonzero(~(np.abs(nudged.train_loss - ref.train_loss) <= TOL * np.abs(ref.train_loss))))
    if nudged.diverged_at != ref.diverged_at:
        bad.append(min(int(v) for v in (nudged.diverged_at, ref.diverged_at) if v >= 0) - 1)
    end = np.concatenate([p.ravel() for p in nudged.params]) - np.concatenate([p.ravel() for p in ref.params])
    scale = max(np.abs(p).max() for p in ref.params)
    if not np.abs(end).max() <= TOL * scale:
        bad.append(steps - 1)
    return min(bad) + 1 if bad else steps + 1


def test_every_engine_rule_and_option_is_covered():
    cases = _cases()
    assert {c["opt"].__class__.__name__ for c in cases} == set(engine.DEFAULTS)
    assert {c["schedule"] for c in cases} == set(explorers.NETWORK_SCHEDULES)
    assert {c["scaling"] for c in cases} == set(explorers.NETWORK_SCALINGS)
    assert any(c["clip"] for c in cases) and not all(c["clip"] for c in cases)
    assert any(c["schedule"] == "warmup_cosine" and c["warmup"] < c["epochs"] for c in cases)


def test_schedule_is_nets_cosine_schedule(tmp_path):
    js = ("const e = require(process.argv[1]); const n = require(process.argv[2]);"
          "const out = [[100, 0], [100, 10], [45, 45], [7, 3]].map(([T, W]) => "
          "Array.from({length: T}, (_, i) => n.schedule(T, W)(i + 1)));"
          "process.stdout.write(JSON.stringify(out));")
    out = subprocess.run([NODE, "-e", js, str(engine.ENGINE_PATH), str(engine.ENGINE_PATH.with_name("network.js"))],
                         capture_output=True, text=True, check=True)
    for (T, W), got in zip([(100, 0), (100, 10), (45, 45), (7, 3)], json.loads(out.stdout)):
        f = ol.nets.cosine_schedule(T, W)
        np.testing.assert_allclose(got, [f(t) for t in range(1, T + 1)], rtol=1e-15, atol=1e-300)


def test_page_trainer_matches_nets_train(tmp_path):
    data = ol.datasets.digits()
    cases = _cases()
    scalings = {s["name"]: s for s in explorers.network_scalings(data)}
    cfgs = [{"sizes": [64, c["hidden"], 10], "rule": engine.optimizer_spec(c["opt"]),
             "epochs": c["epochs"], "batch_size": c["batch_size"], "seed": c["seed"], "bound": c["bound"],
             "schedule": _schedule(c), "clip": c["clip"], "scaling": scalings[c["scaling"]]}
            for c in cases]
    got = _node({"data": explorers.network_data(data), "cases": cfgs}, tmp_path)
    diverged, cut, viewed = 0, [], 0
    for c, js in zip(cases, got):
        data = _data(c["scaling"])
        ref = _train(c, data, keep_params=True)
        where = (f"{c['opt']!r}, hidden {c['hidden']}, batch {c['batch_size']}, seed {c['seed']}, bound {c['bound']}, "
                 f"schedule {_schedule(c)}, clip {c['clip']}, {c['scaling']}")
        steps, per = len(ref.train_loss), ref.steps_per_epoch
        h = _horizon(c, data, ref)
        n = min(h, steps + 1)  # steps whose losses are compared (the loss before step t is row t − 1)
        np.testing.assert_allclose(_nan(js["train_loss"])[:n - 1] if n <= steps else _nan(js["train_loss"]),
                                   ref.train_loss[:n - 1] if n <= steps else ref.train_loss,
                                   rtol=TOL, err_msg=where)
        epochs = (n - 1) // per + 1 if n <= steps else c["epochs"] + 1  # rows measured before the horizon
        for key in ("train_loss_epoch", "test_loss", "test_accuracy"):
            np.testing.assert_allclose(_nan(js[key])[:epochs], getattr(ref, key)[:epochs], rtol=TOL,
                                       err_msg=f"{key}: {where}")
        net = ol.nets.MLP((64, c["hidden"], 10))
        for e in range(epochs):  # the views: first-layer weights and the misclassified test images
            params = ref.params_epoch[e]
            np.testing.assert_allclose(js["W1"][e], params[0].ravel().astype(np.float32), rtol=1e-6,
                                       atol=1e-6 * np.abs(params[0]).max(), err_msg=f"W1 after epoch {e}: {where}")
            predicted = net.logits(params, data.X_test).argmax(axis=-1)
            rows = np.flatnonzero(predicted != data.y_test)
            assert js["wrong"][e] == np.column_stack([rows, predicted[rows]]).ravel().tolist(), f"epoch {e}: {where}"
            viewed += 1
        if h > steps:
            assert js["diverged_at"] == int(ref.diverged_at), where
            flat = np.concatenate([p.ravel() for p in ref.params])
            np.testing.assert_allclose(js["params"], flat, rtol=TOL, atol=TOL * np.abs(flat).max(), err_msg=where)
            diverged += int(ref.diverged_at) >= 0
        else:
            cut.append((type(c["opt"]).__name__, h, steps))
    print(f"\n{len(cases)} runs: {len(cases) - len(cut)} compared over every step and their final "
          f"parameters ({diverged} of them diverge), {len(cut)} up to their horizon: {cut}; {viewed} epochs' "
          "weights and misclassified images compared")
    assert len(cut) <= 0.2 * len(cases), f"too many chaotic runs to be a real check: {cut}"
    assert 0 < diverged < len(cases) // 2, "the runs must include some (not mostly) diverging ones"


def _tensor_cases(seed=23, per_rule=6):
    """Random settings of the rules that need whole tensors (network.js's own: Adafactor on every
    parameter; Muon on the hidden layer's weights with one elementwise rule for the rest, the
    network explorer's composite)."""
    rng = np.random.default_rng(seed)
    rest = [lambda: ol.Adam(lr=float(10 ** rng.uniform(-3.5, -2))), lambda: ol.SGD(lr=float(10 ** rng.uniform(-2, -0.5))),
            lambda: ol.AdamW(lr=float(10 ** rng.uniform(-3.5, -2)), weight_decay=float(rng.uniform(0, 0.1)))]
    cases = []
    for _ in range(per_rule):
        cases.append(ol.Adafactor(lr=float(10 ** rng.uniform(-3, -0.5)), beta2_decay=float(rng.uniform(-1, -0.5)),
                                  eps=(None if rng.random() < 0.5 else float(10 ** rng.uniform(-32, -20)),
                                       float(10 ** rng.uniform(-4, -2))),
                                  d=float(rng.uniform(1, 2)), weight_decay=float(rng.choice([0.0, rng.uniform(0, 0.1)]))))
        muon = ol.Muon(lr=float(10 ** rng.uniform(-3, -1)), momentum=float(rng.uniform(0.5, 0.99)),
                       nesterov=bool(rng.random() < 0.5), weight_decay=float(rng.choice([0.0, rng.uniform(0, 0.1)])),
                       ns_steps=int(rng.integers(1, 7)),
                       adjust_lr_fn=[None, "original", "match_rms_adamw"][int(rng.integers(0, 3))])
        cases.append([muon] + [rest[int(rng.integers(0, 3))]()] * 3)
    return [{"opt": o, "hidden": int(rng.integers(4, 49)), "batch_size": int(rng.choice([16, 32, 64, 200])),
             "epochs": int(rng.integers(1, 4)), "seed": int(rng.integers(0, 2**31)), "bound": 1e6,
             "schedule": str(rng.choice(list(explorers.NETWORK_SCHEDULES))), "warmup": 1,
             "clip": float(10 ** rng.uniform(-2, 1)) if rng.random() < 0.4 else None,
             "scaling": str(rng.choice(list(explorers.NETWORK_SCALINGS)))} for o in cases]


def test_whole_tensor_rules_match_nets_train(tmp_path):
    """Adafactor and Muon (network.js's own rules) equal ol.nets.train to 1e-9 in every
    mini-batch loss, per-epoch measure and final weight."""
    data = ol.datasets.digits()
    cases = _tensor_cases()
    scalings = {s["name"]: s for s in explorers.network_scalings(data)}

    def spec(opt):
        return ({"rules": [engine.optimizer_spec(o, network=True) for o in opt]} if isinstance(opt, list)
                else {"rule": engine.optimizer_spec(opt, network=True)})

    cfgs = [{"sizes": [64, c["hidden"], 10], **spec(c["opt"]), "epochs": c["epochs"], "batch_size": c["batch_size"],
             "seed": c["seed"], "bound": c["bound"], "schedule": _schedule(c), "clip": c["clip"],
             "scaling": scalings[c["scaling"]]} for c in cases]
    got = _node({"data": explorers.network_data(data), "cases": cfgs}, tmp_path)
    for c, js in zip(cases, got):
        ref = _train(c, _data(c["scaling"]))
        where = f"{c['opt']!r}, hidden {c['hidden']}, batch {c['batch_size']}, {_schedule(c)}, clip {c['clip']}"
        np.testing.assert_allclose(_nan(js["train_loss"]), ref.train_loss, rtol=TOL, err_msg=where)
        for key in ("train_loss_epoch", "test_loss", "test_accuracy"):
            np.testing.assert_allclose(_nan(js[key]), getattr(ref, key), rtol=TOL, err_msg=f"{key}: {where}")
        flat = np.concatenate([p.ravel() for p in ref.params])
        np.testing.assert_allclose(js["params"], flat, rtol=TOL, atol=TOL * np.abs(flat).max(), err_msg=where)
        assert js["diverged_at"] == int(ref.diverged_at) == -1, where


def test_every_rule_is_offered_and_muon_takes_a_rule_for_the_rest():
    # Every optimizer of the book trains in the page: the elementwise rules by engine.js's twins,
    # Adafactor and Muon by network.js's (the registry says which); Muon, a matrix rule, as
    # ol.nets.train takes it on the network: a list with a rule for the other parameters.
    assert explorers.PYTHON_ONLY == {}
    ex = explorers.network({"Adam": ol.Adam(lr=3e-3)})
    assert ex.spec["python_only"] == []
    offered = {o["label"]: o for o in ex.spec["optimizers"]}
    assert set(offered) == {e.label for e in registry.ENTRIES}
    assert offered["Muon"]["rest"] == engine.optimizer_spec(registry.entry(explorers.NETWORK_REST).make())
    assert "rest" not in offered["Adafactor"]
    with pytest.raises(ValueError, match=r"Muon steps 2-D weight matrices only.*\[ol.Muon\(...\)\] \+ \[ol.Adam"):
        explorers.network({"Muon": ol.Muon()})
    with pytest.raises(ValueError, match=r"a list gives one rule per parameter \[W1, b1, W2, b2\]"):
        explorers.network({"Muon": [ol.Muon(), ol.Adam(lr=1e-3), ol.Adam(lr=2e-3), ol.Adam(lr=1e-3)]})
    ex = explorers.network({"Muon": [ol.Muon(lr=0.02)] + [ol.SGD(lr=0.1)] * 3})
    assert ex.spec["optimizers"][0]["rest"] == engine.optimizer_spec(ol.SGD(lr=0.1))


@pytest.mark.parametrize("name, value, match", [
    ("hidden", 0, r"hidden must be an integer in \[1, 256\], got 0"),
    ("epochs", 101, r"epochs must be an integer in \[1, 100\]"),
    ("batch_size", 2.5, r"batch_size must be an integer in \[1, 1438\]"),
    ("seed", -1, r"seed must be an integer in \[0, 2147483647\]"),
])
def test_network_refuses_bad_settings(name, value, match):
    with pytest.raises(ValueError, match=match):
        explorers.network({"Adam": ol.Adam()}, **{name: value})


def test_network_spec_carries_the_digits():
    ex = explorers.network({"Adam": ol.Adam(lr=3e-3)})
    d = ex.spec["data"]
    data = ol.datasets.digits()
    assert (d["n_train"], d["n_test"], d["features"]) == (1438, 359, 64)
    raw = np.frombuffer(__import__("base64").b64decode(d["X"]), dtype=np.uint8).reshape(-1, 64)
    np.testing.assert_array_equal(raw[:1438] / 16, data.X_train)
    np.testing.assert_array_equal(raw[1438:] / 16, data.X_test)
    assert ex.spec["kind"] == "network" and ex.spec["state"]["hidden"] == 32
    assert "network" in repr(ex)


def test_scalings_are_the_data_sets_of_their_code_exactly():
    # The page turns the pixels as given into ((X − shift) / divide) · multiply: the very doubles
    # of the data set its copied code builds (chapter 9's first lesson for "disparate").
    data = ol.datasets.digits()
    scalings = explorers.network_scalings(data)
    assert [s["name"] for s in scalings] == list(explorers.NETWORK_SCALINGS) == ["given", "standardized", "disparate"]
    for s in scalings:
        made = _data(s["name"])
        for X, want in ((data.X_train, made.X_train), (data.X_test, made.X_test)):
            got = ((X - np.asarray(s.get("shift", 0.0))) / np.asarray(s.get("divide", 1.0))) * np.asarray(s.get("multiply", 1.0))
            np.testing.assert_array_equal(got, want, err_msg=s["name"])
    factors = np.asarray(scalings[2]["multiply"])
    assert 0.03 < factors.min() < 0.04 and 30 < factors.max() < 32  # what its label says
    assert "0.03 … 31" in scalings[2]["label"]


@pytest.mark.parametrize("kwargs, match", [
    ({"schedule": "step"}, r"schedule must be one of constant, cosine, warmup_cosine, got 'step'"),
    ({"scaling": "minmax"}, r"scaling must be one of given, standardized, disparate, got 'minmax'"),
    ({"clip": 0.0}, r"clip must be None or a number in \[0.001, 1000\], got 0.0"),
    ({"clip": True}, r"clip must be None or a number"),
    ({"warmup": 0}, r"warmup must be an integer in \[1, 100\], got 0"),
])
def test_network_refuses_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        explorers.network({"Adam": ol.Adam()}, **kwargs)


def test_network_options_reach_the_state():
    ex = explorers.network({"Adam": ol.Adam()}, schedule="warmup_cosine", warmup=2, clip=0.5, scaling="disparate")
    st = ex.spec["state"]
    assert (st["schedule"], st["warmup"], st["clipping"], st["clip"], st["scaling"]) == ("warmup_cosine", 2, True, 0.5, "disparate")
    st = explorers.network({"Adam": ol.Adam()}).spec["state"]
    assert (st["schedule"], st["clipping"], st["scaling"]) == ("constant", False, "given")
    assert ex.spec["limits"]["clip"] == [1e-3, 1e3] and ex.spec["data"]["image"] == [8, 8]


def test_only_a_network_explorer_carries_the_network_scripts(monkeypatch):
    monkeypatch.delenv("OPTIMLAB_BOOK", raising=False)
    net = explorers.network({"Adam": ol.Adam()}).to_html("live")
    assert "root.optimlabNetworkView = " in net and "root.optimlabNetwork = " in net
    race = explorers.race(ol.surfaces.Rosenbrock(), {"Adam": ol.Adam(lr=0.01)}, steps=5).to_html("live")
    assert "root.optimlabNetworkView = " not in race and "root.optimlabNetwork = " not in race
    assert "root.optimlabEngine" in race


def test_page_projection_on_the_loss_plane_matches_python(tmp_path):
    # The chapter's setting's plane (explorers.network_plane), as the page decodes it: each run's
    # weights after every epoch projected by the page (network.js project, in the trainer) equal
    # ol.nets.project of ol.nets.train's, on the same decoded directions, to 1e-9 of the distance
    # from θ₀; and the fraction held is the same.
    ex = explorers.network({"SGD": ol.SGD(lr=0.1), "Adam": ol.Adam(lr=3e-3)}, epochs=3)
    pl, st = ex.spec["plane"], ex.spec["state"]
    assert pl["setting"] == {"seed": 0, "hidden": 32, "scaling": "given"}
    d1, d2 = explorers.decode(pl["d1"]), explorers.decode(pl["d2"])
    cases = [{"opt": ol.SGD(lr=0.1), "schedule": "constant", "clip": None, "batch_size": 32},
             {"opt": ol.Adam(lr=3e-3), "schedule": "constant", "clip": None, "batch_size": 32},
             {"opt": ol.SGD(lr=0.03, momentum=0.9, nesterov=True), "schedule": "cosine", "clip": 0.5, "batch_size": 100},
             {"opt": ol.RMSprop(lr=1e-3), "schedule": "warmup_cosine", "clip": None, "batch_size": 64},
             {"opt": ol.AdamW(lr=1e-2, weight_decay=0.1), "schedule": "constant", "clip": 1.0, "batch_size": 16}]
    for c in cases:
        c.update(hidden=st["hidden"], seed=st["seed"], epochs=3, warmup=1, bound=1e6, scaling=st["scaling"])
    cfgs = [{"sizes": [64, c["hidden"], 10], "rule": engine.optimizer_spec(c["opt"]), "epochs": c["epochs"],
             "batch_size": c["batch_size"], "seed": c["seed"], "bound": c["bound"], "schedule": _schedule(c),
             "clip": c["clip"], "plane": {"d1": d1.tolist(), "d2": d2.tolist()}} for c in cases]
    got = _node({"data": explorers.network_data(), "cases": cfgs}, tmp_path)
    data = ol.datasets.digits()
    origin = ol.nets.flatten(ol.nets.MLP((64, 32, 10)).init(0))
    for c, js in zip(cases, got):
        ref = _train(c, data, keep_params=True)
        coords, held = ol.nets.project(ref, origin, d1, d2)
        dist = np.sqrt([((ol.nets.flatten(ps) - origin) ** 2).sum() for ps in ref.params_epoch])
        proj = np.array(js["proj"])
        np.testing.assert_allclose(proj[:, :2], coords, rtol=TOL, atol=TOL * dist.max(), err_msg=repr(c["opt"]))
        np.testing.assert_allclose(proj[:, 2], dist ** 2, rtol=TOL, err_msg=repr(c["opt"]))
        assert (proj[:, :2] ** 2).sum() / proj[:, 2].sum() == pytest.approx(held, rel=TOL)
        assert 0.5 < held <= 1 + 1e-6 and np.abs(coords[-1]).max() > 0.1, (c["opt"], held)
