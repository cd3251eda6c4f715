"""The optimlab update rules as real ``torch.optim.Optimizer`` subclasses.

There is no second copy of the math: each class below hands every parameter tensor to the
matching rule in :mod:`optimlab.rules` (whose code runs unchanged on tensors) and stores the
returned state in ``self.state[p]``.  So these optimizers support what any PyTorch optimizer
does — param groups, ``closure``, ``zero_grad``, ``state_dict()``/``load_state_dict()`` and
``torch.optim.lr_scheduler`` — and match ``torch.optim`` step for step::

    import optimlab.torch as olt
    opt = olt.Adam(model.parameters(), lr=1e-3)
"""
from __future__ import annotations

import dataclasses

import torch

from . import rules

__all__ = ["SGD", "Momentum", "RMSprop", "Adagrad", "Adam", "AdamW", "NAdam"]


class _RuleOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose step is an :class:`optimlab.rules.Optimizer` rule."""

    rule: type[rules.Optimizer]

    def __init__(self, params, **hyperparameters):
        self.rule(**hyperparameters)  # validate up front, with the rule's messages
        defaults = {f.name: f.default for f in dataclasses.fields(self.rule)}
        defaults.update(hyperparameters)
        super().__init__(params, defaults)

    def _rule_for(self, group) -> rules.Optimizer:
        return self.rule(**{f.name: group[f.name] for f in dataclasses.fields(self.rule)})

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            rule = self._rule_for(group)
            State = type(rule.init(torch.zeros(())))
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                stored = self.state[p]
                state = State(**stored) if stored else rule.init(p.detach())
                new_p, new_state = rule.step(p.detach(), p.grad, state)
                p.copy_(new_p)
                stored.update(new_state._asdict())
        return loss


def _wrap(rule: type[rules.Optimizer]) -> type[_RuleOptimizer]:
    fields = dataclasses.fields(rule)
    signature = ", ".join(f"{f.name}={f.default!r}" for f in fields)
    cls = type(rule.__name__, (_RuleOptimizer,), {
        "rule": rule,
        "__module__": __name__,
        "__doc__": (f"{rule.__name__}(params, {signature})\n\n"
                    f"PyTorch optimizer running :class:`optimlab.rules.{rule.__name__}`.\n\n"
                    + (rule.__doc__ or "")),
    })
    return cls


SGD = _wrap(rules.SGD)
Momentum = _wrap(rules.Momentum)
RMSprop = _wrap(rules.RMSprop)
Adagrad = _wrap(rules.Adagrad)
Adam = _wrap(rules.Adam)
AdamW = _wrap(rules.AdamW)
NAdam = _wrap(rules.NAdam)
