"""Benchmark: optimlab.torch under torch.compile, against torch.optim under torch.compile.

For each optimizer on the digits MLP of ``bench_torch.py`` (and Adam on the 50x256 MLP):

* graph breaks of a whole training step (zero_grad, forward, backward, step) compiled as one
  function, from ``torch._dynamo.explain`` (torch's own step has one, at ``backward``);
* frames compiled while 100 compiled steps run (``opt.step`` compiled with inductor): a
  recompile per step would show here, and dynamo's recompile limit is 8;
* whether ``torch.compile(opt.step, fullgraph=True)`` compiles (torch.optim's step graph-breaks
  on purpose around its grad mode, so torch's raises there);
* CPU time per compiled step, one thread, median of interleaved rounds, and the ratio.

    .venv/bin/python benchmarks/bench_torch_compile.py     (~5 min: inductor compiles C++)
"""
from __future__ import annotations

import statistics
import sys
import time
import warnings

import torch
import torch._dynamo as dynamo

import optimlab.torch as olt

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_torch import OPTIMIZERS, deep_mlp, digits_mlp  # noqa: E402

TARGET = 1.2
STEPS, ROUNDS = 100, 5


def setup(module, name, build):
    kwargs, (twin, twin_kwargs), _ = OPTIMIZERS[name]
    torch.manual_seed(0)
    model = build()
    x = torch.randn(32, model[0].in_features)
    opt = getattr(olt, name)(model.parameters(), **kwargs) if module is olt else \
        getattr(torch.optim, twin)(model.parameters(), **twin_kwargs)

    def train_step():
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    return model, opt, train_step


def graph_breaks(module, name, build) -> int:
    dynamo.reset()
    _, _, train_step = setup(module, name, build)
    return dynamo.explain(train_step)().graph_break_count


def fullgraph_ok(module, name, build) -> str:
    dynamo.reset()
    model, opt, _ = setup(module, name, build)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    try:
        torch.compile(opt.step, backend="eager", fullgraph=True)()
        return "compiles"
    except Exception as error:  # torch's: Unsupported (its deliberate graph break)
        return f"raises {type(error).__name__}"


def compiled_times(name, build) -> dict:
    runs = {}
    for module in (torch.optim, olt):
        dynamo.reset()
        dynamo.utils.counters.clear()
        model, opt, _ = setup(module, name, build)
        for p in model.parameters():
            p.grad = torch.randn_like(p) * 1e-2
        step = torch.compile(opt.step)
        t0 = time.perf_counter()
        for _ in range(3):
            step()
        compile_s = time.perf_counter() - t0
        runs[module] = dict(step=step, compile=compile_s)
    times = {m: [] for m in runs}
    for r in range(ROUNDS):
        for m in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            t0 = time.process_time()
            for _ in range(STEPS):
                runs[m]["step"]()
            times[m].append((time.process_time() - t0) / STEPS)
    frames = dynamo.utils.counters["stats"]["unique_graphs"]
    return {m: dict(time=statistics.median(times[m]), compile=runs[m]["compile"]) for m in runs} | \
        {"frames_last": frames}


def main() -> int:
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    print(f"torch {torch.__version__}, inductor on CPU, one thread; {STEPS} compiled steps x {ROUNDS} rounds")
    misses = []
    cases = [(name, "digits MLP", digits_mlp) for name in OPTIMIZERS] + [("Adam", "MLP 50x256", deep_mlp)]
    for name, model_name, build in cases:
        breaks = {m: graph_breaks(m, name, build) for m in (torch.optim, olt)}
        full = {m: fullgraph_ok(m, name, build) for m in (torch.optim, olt)}
        res = compiled_times(name, build)
        ratio = res[olt]["time"] / res[torch.optim]["time"]
        ok = ratio <= TARGET and breaks[olt] <= max(4, breaks[torch.optim])
        if not ok:
            misses.append(f"{model_name} {name}")
        print(f"{model_name:10s} {name:8s} graph breaks torch {breaks[torch.optim]} / optimlab {breaks[olt]}; "
              f"fullgraph=True: torch {full[torch.optim]}, optimlab {full[olt]}; compiled step "
              f"torch {res[torch.optim]['time'] * 1e3:.3f} ms / optimlab {res[olt]['time'] * 1e3:.3f} ms, "
              f"ratio {ratio:.2f} [{'PASS' if ok else 'MISS'}] (first 3 steps incl. compiling: "
              f"{res[torch.optim]['compile']:.0f} s / {res[olt]['compile']:.0f} s)")
    print("targets (compiled step <= 1.2x torch's, <= 4 graph breaks): "
          + ("PASS" if not misses else "MISS: " + ", ".join(misses)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
