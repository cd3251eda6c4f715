"""Every optimizer of the book, described once.  Everything else derives from here.

Two tables:

* :data:`RULES` — one :class:`Rule` per update rule of :mod:`optimlab.rules`: its class, the
  name of its twin in the browser engine (``assets/engine.js``; ``None`` for a rule that only
  means something on weight matrices), the hyperparameter each shared slider moves **by role**
  (:data:`ROLES`), its ``torch.optim`` twin, its sparse-gradient support, and whether it needs
  matrix-shaped parameters.
* :data:`ENTRIES` — what a reader sees: a named configuration of a rule (``"Nesterov"`` is
  ``SGD(momentum=0.9, nesterov=True)``, ``"AMSGrad"`` is ``Adam(amsgrad=True)``) with its colour
  and the words a label may start with.

Derived from them: the engine's tables and defaults (``optimlab.engine``), the explorers'
catalogue and shared sliders (:mod:`optimlab.explorers`), colours (:mod:`optimlab.style`), the
lecturer's panel (:mod:`optimlab.widgets`), the PyTorch classes (:mod:`optimlab.torch`) and the
test matrices.  ``tests/test_registry.py`` fails when a rule lacks a piece (an engine twin, a
colour distinct from every other under colour-vision deficiencies, a parity case, a torch check).

**Adding a rule** touches four files: the rule in ``rules.py``, its twin in ``assets/engine.js``
(or ``engine=None``), its entries here, and the book's text.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from . import rules

__all__ = ["Role", "Rule", "Entry", "ROLES", "RULES", "ENTRIES", "entry", "rule_of", "get_path",
           "set_path"]


@dataclasses.dataclass(frozen=True)
class Role:
    """A part a hyperparameter plays, shared across rules: one slider moves it in every rule."""

    label: str         # the slider's label
    lo: float
    hi: float
    step: float        # slider step (in log10 units when ``log``)
    log: bool
    default: float     # the slider's value when no optimizer sets it


#: The roles a shared slider can move.  ``beta1`` is the first-moment (momentum) decay: SGD's
#: momentum, the EMA Momentum's β, Adam's β₁; ``beta2`` the second-moment decay: RMSprop's α,
#: Adam's β₂.
ROLES = {
    "beta1": Role("β₁ (momentum)", 0.0, 0.9999, 0.001, False, 0.9),
    "beta2": Role("β₂", 0.0, 0.99999, 0.0001, False, 0.999),
    "eps": Role("ε", 1e-12, 1.0, 0.05, True, 1e-8),
    "weight_decay": Role("weight decay λ", 0.0, 2.0, 0.01, False, 0.0),
}


def get_path(hp: dict, path: str):
    """``hp["betas"][0]`` for the path ``"betas.0"``; ``hp["alpha"]`` for ``"alpha"``."""
    key, _, index = path.partition(".")
    return hp[key][int(index)] if index else hp[key]


def set_path(hp: dict, path: str, value) -> dict:
    """A copy of ``hp`` with the hyperparameter at ``path`` set to ``value``."""
    key, _, index = path.partition(".")
    out = dict(hp)
    if index:
        seq = list(out[key])
        seq[int(index)] = value
        out[key] = tuple(seq)
    else:
        out[key] = value
    return out


@dataclasses.dataclass(frozen=True)
class Rule:
    """One update rule and everything the book derives from it."""

    cls: type
    #: Name of the rule in ``engine.js``; ``None`` when it has no 2-D twin (say why in ``note``).
    engine: str | None
    #: role → path of the hyperparameter that plays it (``"betas.0"``).
    knobs: dict
    #: Name of the ``torch.optim`` class it must equal, or ``None``.
    twin: str | None
    #: Sparse gradients in :mod:`optimlab.torch`: None (refused), "linear" (the rule steps the
    #: sparse gradient), "dense" (linear in g, stepped densified) or "rows" (row by row).
    sparse: str | None = None
    #: Whether it needs matrix-shaped parameters (it means nothing on a 2-D point).
    matrix: bool = False
    #: When a knob applies only if another hyperparameter is non-zero (SGD's momentum).
    requires: dict = dataclasses.field(default_factory=dict)
    note: str = ""
    #: For a rule without a 2-D twin: the name of its twin in ``network.js``, which steps whole
    #: parameter tensors (the network explorer trains with it), or ``None``.
    network: str | None = None

    @property
    def name(self) -> str:
        return self.cls.__name__

    def knob_applies(self, knob: str, hp: dict) -> bool:
        """Whether the shared slider ``knob`` moves this rule with hyperparameters ``hp``."""
        if knob not in self.knobs:
            return False
        needed = self.requires.get(knob)
        return needed is None or get_path(hp, needed) != 0


def _rules(*items: Rule) -> dict:
    return {r.name: r for r in items}


#: Every update rule, by class name.
RULES = _rules(
    Rule(rules.SGD, "SGD", {"beta1": "momentum", "weight_decay": "weight_decay"}, "SGD",
         sparse="linear", requires={"beta1": "momentum"}),
    Rule(rules.Momentum, "Momentum", {"beta1": "beta", "weight_decay": "weight_decay"}, None,
         sparse="dense"),
    Rule(rules.RMSprop, "RMSprop", {"beta2": "alpha", "eps": "eps", "weight_decay": "weight_decay"},
         "RMSprop"),
    Rule(rules.Adagrad, "Adagrad", {"eps": "eps", "weight_decay": "weight_decay"}, "Adagrad",
         sparse="rows"),
    Rule(rules.Adam, "Adam", {"beta1": "betas.0", "beta2": "betas.1", "eps": "eps",
                              "weight_decay": "weight_decay"}, "Adam"),
    Rule(rules.AdamW, "AdamW", {"beta1": "betas.0", "beta2": "betas.1", "eps": "eps",
                                "weight_decay": "weight_decay"}, "AdamW"),
    Rule(rules.NAdam, "NAdam", {"beta1": "betas.0", "beta2": "betas.1", "eps": "eps",
                                "weight_decay": "weight_decay"}, "NAdam"),
    # Lion's β₂ is the decay of its only buffer, a first moment: the β₂ slider (second moment)
    # does not move it.
    Rule(rules.Lion, "Lion", {"beta1": "betas.0", "weight_decay": "weight_decay"}, None,
         note="no torch.optim twin; tested against Algorithm 2 of Chen et al. (2023)"),
    Rule(rules.RAdam, "RAdam", {"beta1": "betas.0", "beta2": "betas.1", "eps": "eps",
                                "weight_decay": "weight_decay"}, "RAdam"),
    Rule(rules.Adafactor, None, {"weight_decay": "weight_decay"}, "Adafactor",
         note="its step is relative to the RMS of a whole parameter tensor and its second moment "
              "is factored over rows and columns: it means something on weight matrices",
         network="Adafactor"),
    Rule(rules.Muon, None, {"beta1": "momentum", "weight_decay": "weight_decay"}, "Muon",
         matrix=True, note="it orthogonalises the update of a 2-D weight matrix", network="Muon"),
)


@dataclasses.dataclass(frozen=True)
class Entry:
    """An optimizer as the reader meets it: a rule with some options fixed, a colour, a name."""

    label: str
    rule: str                  # key of :data:`RULES`
    options: dict              # hyperparameters this entry fixes (beyond the rule's defaults)
    color: str
    #: Other lower-case first words of a label that mean this entry (``"heavy ball"`` → Momentum).
    aliases: tuple = ()

    @property
    def info(self) -> Rule:
        return RULES[self.rule]

    def make(self, **hp) -> rules.Optimizer:
        """The optimlab rule of this entry, with ``hp`` changed (``entry("Nesterov").make(lr=0.1)``)."""
        return self.info.cls(**{**self.options, **hp})


#: Every optimizer the book names, in the order explorers and legends list them.  Colours:
#: Okabe–Ito (Okabe & Ito 2008) for the first seven, Paul Tol's colour-blind-safe schemes for the
#: rest; families share hues (momentum methods blue, per-coordinate methods green/purple, the
#: Adam family warm).  tests/test_registry.py checks every pair stays apart under simulated
#: protanopia, deuteranopia and tritanopia.
ENTRIES = (
    Entry("SGD", "SGD", {}, "#000000", ("gd", "gradient")),
    Entry("Momentum", "SGD", {"momentum": 0.9}, "#0072B2", ("heavy", "heavyball", "polyak")),
    Entry("Nesterov", "SGD", {"momentum": 0.9, "nesterov": True}, "#332288", ("nag",)),
    Entry("RMSprop", "RMSprop", {}, "#009E73", ()),
    Entry("Adagrad", "Adagrad", {}, "#CC79A7", ()),
    Entry("Adam", "Adam", {}, "#D55E00", ()),
    Entry("AdamW", "AdamW", {}, "#E69F00", ()),
    Entry("NAdam", "NAdam", {}, "#999933", ()),
    Entry("AMSGrad", "Adam", {"amsgrad": True}, "#882255", ()),
    Entry("Lion", "Lion", {}, "#117733", ()),
    Entry("RAdam", "RAdam", {}, "#762A83", ()),
    Entry("Adafactor", "Adafactor", {}, "#56B4E9", ()),
    Entry("Muon", "Muon", {}, "#C51B7D", ()),
)
_BY_LABEL = {e.label: e for e in ENTRIES}


def entry(label: str) -> Entry:
    """The entry called ``label`` (exact name, e.g. ``"AMSGrad"``)."""
    try:
        return _BY_LABEL[label]
    except KeyError:
        raise ValueError(f"unknown optimizer {label!r}; the book's optimizers are "
                         f"{', '.join(_BY_LABEL)}") from None


def rule_of(opt: rules.Optimizer) -> Rule:
    """The registry's description of an optimlab rule instance (by its exact class)."""
    rule = RULES.get(type(opt).__name__)
    if rule is None or rule.cls is not type(opt):
        raise ValueError(f"{type(opt).__name__} is not a rule of the registry; "
                         f"registered: {', '.join(RULES)}")
    return rule


def entries_where(predicate: Callable[[Entry], bool]) -> tuple:
    return tuple(e for e in ENTRIES if predicate(e))
