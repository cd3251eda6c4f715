"""optimlab.torch under torch.compile (dynamo with its "eager" backend: seconds, no C++ build).

* a whole compiled training step (zero_grad, forward, backward, step) breaks the graph no more
  often than with torch.optim (once, at ``backward``): the step itself has no graph break;
* ``torch.compile(opt.step, fullgraph=True)`` compiles (torch.optim's own step graph-breaks on
  purpose, around its grad mode, and raises there), and 30 steps compile at most 2 frames (the
  first step, which creates the state, and the others): no recompile per step, nowhere near
  dynamo's recompile limit; the compiled steps give torch.optim's compiled numbers. That is
  checked in float64, to 1e-12: in float32 the two steps round differently (the same formula,
  other operation orders), and 30 steps apart they differ by a few units in the last place, by
  how many depends on the CPU's kernels (9 units on one machine, under 1 on another).

Compiled step *times* (inductor) are in ``benchmarks/bench_torch_compile.py``.
"""
from __future__ import annotations

import pytest
import torch
import torch._dynamo as dynamo
from torch._dynamo.testing import CompileCounter

import optimlab.torch as olt

# dynamo, tracing torch.optim's own step, meets torch's deprecated torch.jit decorators
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script:DeprecationWarning")

NAMES = ["SGD", "Momentum", "RMSprop", "Adagrad", "Adam", "AdamW", "NAdam"]


def setup(module, name):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    X, Y = torch.randn(64, 8), torch.randn(64, 1)
    if module is torch.optim and name == "Momentum":  # olt.Momentum(lr, β) is SGD((1−β)lr, β)
        opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    else:
        kwargs = dict(lr=0.01, momentum=0.9) if name == "SGD" else dict(lr=0.01)
        opt = getattr(module, name)(model.parameters(), **kwargs)

    def loss():
        return torch.nn.functional.mse_loss(model(X), Y)
    return model, opt, loss


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "Adam", "NAdam"])
def test_a_compiled_training_step_breaks_the_graph_only_where_torchs_does(name):
    breaks = {}
    for module in (torch.optim, olt):
        dynamo.reset()
        _, opt, loss = setup(module, name)

        def train_step():
            opt.zero_grad()
            loss().backward()
            opt.step()
        explained = dynamo.explain(train_step)()
        breaks[module] = explained.graph_break_count, [str(r.reason).split("\n")[0] for r in explained.break_reasons]
    assert breaks[olt][0] <= breaks[torch.optim][0] <= 4, breaks


@pytest.mark.parametrize("name", NAMES)
def test_compiled_step_fullgraph_no_recompiles_torchs_numbers(name, float64_default):
    dynamo.reset()
    model, opt, loss = setup(olt, name)
    counter = CompileCounter()
    step = torch.compile(opt.step, backend=counter, fullgraph=True)
    for _ in range(30):
        opt.zero_grad()
        loss().backward()
        step()
    assert counter.frame_count <= 2
    dynamo.reset()
    ref_model, ref_opt, ref_loss = setup(torch.optim, name)
    ref_step = torch.compile(ref_opt.step, backend="eager")  # (torch's: not fullgraph)
    for _ in range(30):
        ref_opt.zero_grad()
        ref_loss().backward()
        ref_step()
    ours, theirs = (torch.cat([p.detach().flatten() for p in m.parameters()]) for m in (model, ref_model))
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)
