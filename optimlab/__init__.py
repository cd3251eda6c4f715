"""optimlab: the update rules, loss surfaces, runs and figures behind the optimizer book.

``import optimlab`` needs only numpy; ``optimlab.torch`` (PyTorch optimizers built on the same
rules), ``optimlab.figures``, ``optimlab.explorers`` and ``optimlab.widgets`` are imported on
first use.
"""
from importlib import import_module

from . import surfaces
from .averages import ewma, ewma_weights
from .rules import (SGD, Adafactor, Adagrad, Adam, AdamW, Lion, Momentum, Muon, NAdam, Optimizer,
                    RAdam, RMSprop)
from .runs import Trajectory, run, run_torch, settled_at

__version__ = "0.1.0"
__all__ = ["SGD", "Momentum", "RMSprop", "Adagrad", "Adam", "AdamW", "NAdam", "Lion", "RAdam",
           "Adafactor", "Muon", "Optimizer",
           "run", "run_torch", "Trajectory", "settled_at", "ewma", "ewma_weights", "surfaces"]

_LAZY = {"torch", "figures", "explorers", "widgets", "theory", "style", "tuning", "tables",
         "registry", "datasets", "nets"}


def __getattr__(name):
    if name in _LAZY:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'optimlab' has no attribute {name!r}")
