"""The registry is complete: every rule has every piece, and nothing falls back silently.

A rule added to optimlab/registry.py without its engine twin, its random-case sampler, its
torch parity strategy, its colour, or its reference test fails here (or in the file named).
"""
from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import optimlab as ol
import optimlab.torch as olt
from optimlab import engine, explorers, registry, rules, style, widgets

import test_engine
import test_rules

NODE = shutil.which("node") or shutil.which("nodejs")


def test_every_rule_of_optimlab_is_registered_once():
    classes = {obj for obj in vars(rules).values()
               if isinstance(obj, type) and issubclass(obj, rules.Optimizer) and obj is not rules.Optimizer}
    assert classes == {r.cls for r in registry.RULES.values()}
    for name, r in registry.RULES.items():
        assert getattr(ol, name) is r.cls, f"optimlab.{name} is not exported"


@pytest.mark.parametrize("name", list(registry.RULES))
def test_engine_twin_or_a_reason(name):
    r = registry.RULES[name]
    if r.engine is None:
        assert r.matrix or r.note, f"{name} has no engine twin and says nothing about why"
        with pytest.raises(ValueError, match="no " + name):
            engine.optimizer_spec(r.cls())
        if r.network:  # its whole-tensor twin in network.js (tests/test_network_js.py: parity)
            js = ("const e = require(process.argv[1]); const n = require(process.argv[2]);"
                  "n.tensorRule(JSON.parse(process.argv[3])).init([3, 2]);")
            out = subprocess.run([NODE, "-e", js, str(engine.ENGINE_PATH), str(engine.ENGINE_PATH.with_name("network.js")),
                                  json.dumps(engine.optimizer_spec(r.cls(), network=True))], capture_output=True, text=True)
            assert out.returncode == 0, f"network.js has no rule {r.network!r}: {out.stderr[-300:]}"
            assert r.network in engine.NETWORK_DEFAULTS
        return
    assert name in test_engine.SAMPLERS, f"tests/test_engine.py has no random cases for {name}"
    if NODE is None:
        pytest.fail("node is needed to check the browser engine's rules")
    spec = engine.optimizer_spec(r.cls())
    js = ("const e = require(process.argv[1]); const s = JSON.parse(process.argv[2]);"
          "const R = e.rule(s); const out = R.step([1, -2], [0.5, 0.25], R.init());"
          "process.stdout.write(JSON.stringify(Array.from(out[0])));")
    out = subprocess.run([NODE, "-e", js, str(engine.ENGINE_PATH), json.dumps(spec)],
                         capture_output=True, text=True)
    assert out.returncode == 0, f"engine.js has no rule {r.engine!r}: {out.stderr[-300:]}"
    x, _ = r.cls().step(np.array([1.0, -2.0]), np.array([0.5, 0.25]), r.cls().init(np.zeros(2)))
    np.testing.assert_allclose(json.loads(out.stdout), x, rtol=1e-12)


@pytest.mark.parametrize("name", list(registry.RULES))
def test_torch_twin_or_a_reference(name):
    r = registry.RULES[name]
    assert hasattr(olt, name) and issubclass(getattr(olt, name), torch_optimizer())
    if r.twin is not None:
        assert hasattr(torch_optim(), r.twin), f"torch.optim has no {r.twin}"
        assert name in test_rules.STRATEGIES or name in test_rules.PARITY_TESTS, (
            f"tests/test_rules.py has no parity test for {name}")
        assert name in test_rules.NAMES
    else:
        assert name in test_rules.REFERENCES, (
            f"{name} has no torch.optim twin: tests/test_rules.py must test it against a reference")


def torch_optim():
    import torch
    return torch.optim


def torch_optimizer():
    return torch_optim().Optimizer


def test_entries_are_well_formed_and_named_once():
    labels = [e.label for e in registry.ENTRIES]
    assert len(set(labels)) == len(labels)
    words = [w for e in registry.ENTRIES for w in (e.label.lower(), *e.aliases)]
    assert len(set(words)) == len(words), "two entries claim the same word"
    for e in registry.ENTRIES:
        assert e.rule in registry.RULES
        opt = e.make(lr=0.1)
        assert type(opt) is registry.RULES[e.rule].cls and opt.lr == 0.1
        assert style.color(e.label) == e.color
        for word in e.aliases:
            assert style.color(f"{word} (η = 0.1)") == e.color
    assert registry.entry("AMSGrad").make().amsgrad
    with pytest.raises(ValueError, match="unknown optimizer 'Adamm'.*AMSGrad"):
        registry.entry("Adamm")


def test_explorers_and_panel_offer_every_entry_the_engine_runs():
    live = [e.label for e in registry.ENTRIES if e.info.engine is not None]
    assert list(explorers.CATALOGUE) == live
    assert list(widgets.OPTIMIZERS) == live
    for label in live:
        assert engine.supported(opt=explorers.CATALOGUE[label])


@pytest.mark.parametrize("name", list(registry.RULES))
def test_knobs_move_real_hyperparameters_within_their_role(name):
    r = registry.RULES[name]
    hp = r.cls().hyperparameters
    for role, path in r.knobs.items():
        assert role in registry.ROLES
        value = registry.get_path(hp, path)
        moved = registry.set_path(hp, path, registry.ROLES[role].default)
        r.cls(**moved)  # the role's default is a valid value of that hyperparameter
        assert isinstance(value, float)


# Machado, Oliveira & Fernandes (2009): simulated colour-vision deficiencies (severity 1.0), in
# linear RGB.  Colours are compared as CIE L*a*b* distances (ΔE*ab) after simulation.
CVD = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
MIN_DELTA_E = 12.0


def _linear(hex_colour):
    c = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(rgb):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ np.clip(rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_colours_stay_apart_under_colour_vision_deficiencies():
    worst = (np.inf, "")
    for vision, m in CVD.items():
        lab = {e.label: _lab(m @ _linear(e.color)) for e in registry.ENTRIES}
        for a, b in itertools.combinations(lab, 2):
            d = float(np.linalg.norm(lab[a] - lab[b]))
            worst = min(worst, (d, f"{a}/{b} under {vision}"))
    assert worst[0] >= MIN_DELTA_E, f"colours too close: ΔE = {worst[0]:.1f} for {worst[1]}"


def test_colours_read_on_white():
    for e in registry.ENTRIES:
        assert _lab(_linear(e.color))[0] <= 72, f"{e.label}'s colour is too light for lines on white"


def test_the_cvd_check_can_fail():
    # Momentum's blue and a near-identical blue: the check above would refuse the pair.
    lab = [_lab(CVD["deuteranopia"] @ _linear(c)) for c in ("#0072B2", "#1070B8")]
    assert np.linalg.norm(lab[0] - lab[1]) < MIN_DELTA_E
