"""optimlab: the update rules, loss surfaces, runs and figures behind the optimizer book.

``import optimlab`` needs only numpy; ``optimlab.torch`` (PyTorch optimizers built on the same
rules), ``optimlab.figures``, ``optimlab.explorers`` and ``optimlab.widgets`` are imported on
first use.
"""
from importlib import import_module

from . import registry, surfaces
from .averages import ewma, ewma_weights
from .rules import Optimizer
from .runs import Trajectory, run, run_torch, settled_at

# Every rule of the registry, by its name: ol.SGD, ol.Adam, … ol.Muon.
globals().update({name: rule.cls for name, rule in registry.RULES.items()})

__version__ = "0.1.0"
__all__ = [*registry.RULES, "Optimizer", "run", "run_torch", "Trajectory", "settled_at", "ewma",
           "ewma_weights", "surfaces", "registry"]

_LAZY = {"torch", "figures", "explorers", "widgets", "theory", "style", "tuning", "tables",
         "datasets", "nets"}


def __getattr__(name):
    if name in _LAZY:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'optimlab' has no attribute {name!r}")
