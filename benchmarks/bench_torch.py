"""Benchmark: optimlab.torch against torch.optim — step time, transient memory, page faults.

Three models as a practitioner would train them on a CPU: a digits MLP (64-128-128-10, 6
tensors), an MLP of 50 layers of width 256 (100 tensors), and ResNet-18 built from torch.nn
(62 tensors, 11.7 M parameters).  For every optimizer, each implementation gets its own copy of
the parameters with the same fixed gradients, and only ``optimizer.step()`` is timed:

* CPU time (``time.process_time``), one thread (``torch.set_num_threads(1)``), in interleaved
  rounds (each round times every implementation once, in rotated order); the median of the
  rounds, per step;
* transient memory: the peak of the bytes allocated and not yet freed during one step, read from
  torch's profiler (``profile_memory=True``), after a warm-up step (so the state exists);
* minor page faults per step (``getrusage``).

Prints, per model and optimizer, the time of torch.optim's default algorithm on CPU (the
single-tensor for-loop), optimlab.torch's, their ratio, torch's ``fused=True`` where torch has it
and optimlab's ratio to it, both transient peaks, and page faults; then PASS/MISS against the
targets: step ≤ 1.2× torch's default, transient ≤ torch's + one parameter-sized buffer (the
largest parameter), no more page faults than torch + 1 per step.  optimlab's ``fused=True`` runs
the same single-tensor algorithm and warns once; the ratio to torch's fused kernel is printed for
the record (README).

    .venv/bin/python benchmarks/bench_torch.py            # all three models (~3 min)
    .venv/bin/python benchmarks/bench_torch.py --quick    # fewer rounds (a smoke run)

torch.compile is measured by ``bench_torch_compile.py``.
"""
from __future__ import annotations

import copy
import resource
import statistics
import sys
import time
import warnings

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

import optimlab.torch as olt

QUICK = "--quick" in sys.argv
TARGET_DEFAULT, TARGET_FUSED = 1.2, 1.5
OPTIMIZERS = {  # name: (kwargs, the torch twin's name and kwargs, torch has fused=True)
    "SGD": (dict(lr=0.01, momentum=0.9), ("SGD", dict(lr=0.01, momentum=0.9)), True),
    "Momentum": (dict(lr=0.1, beta=0.9), ("SGD", dict(lr=0.01, momentum=0.9)), False),
    "RMSprop": (dict(lr=1e-3), ("RMSprop", dict(lr=1e-3)), False),
    "Adagrad": (dict(lr=1e-2), ("Adagrad", dict(lr=1e-2)), True),
    "Adam": (dict(lr=1e-3), ("Adam", dict(lr=1e-3)), True),
    "AdamW": (dict(lr=1e-3), ("AdamW", dict(lr=1e-3)), True),
    "NAdam": (dict(lr=1e-3), ("NAdam", dict(lr=1e-3)), False),
}


# --------------------------------------------------------------------------- the models
def digits_mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def deep_mlp(depth=50, width=256) -> nn.Module:
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.down is None else self.down(x)))


def resnet18(classes=1000) -> nn.Module:
    """ResNet-18 as in He et al. 2016 (torchvision's layout): 11,689,512 parameters."""
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
              nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


MODELS = {"digits MLP": (digits_mlp, 400), "MLP 50x256": (deep_mlp, 60), "ResNet-18": (resnet18, 2)}


# --------------------------------------------------------------------------- measuring
def params_with_grads(model: nn.Module) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    params = [p for p in model.parameters()]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen) * 1e-2
    return params


def clone_params(params):
    out = []
    for p in params:
        q = nn.Parameter(p.detach().clone())
        q.grad = p.grad.clone()
        out.append(q)
    return out


def transient_peak(step) -> int:
    """Peak bytes allocated and not yet freed during one call of ``step``."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    now = peak = 0
    for e in events:
        now += e.nbytes()
        peak = max(peak, now)
    return peak


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(optimizers: dict, steps: int, rounds: int) -> dict:
    """Per implementation: median CPU seconds per step, transient peak bytes, page faults/step."""
    for opt in optimizers.values():  # warm-up: the state exists, caches are hot
        opt.step()
    times = {name: [] for name in optimizers}
    flt = {name: [] for name in optimizers}
    names = list(optimizers)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            step = optimizers[name].step
            f0, t0 = faults(), time.process_time()
            for _ in range(steps):
                step()
            times[name].append((time.process_time() - t0) / steps)
            flt[name].append((faults() - f0) / steps)
    return {name: dict(time=statistics.median(times[name]), faults=statistics.median(flt[name]),
                       peak=transient_peak(optimizers[name].step)) for name in names}


def mib(n: float) -> str:
    return f"{n / 2 ** 20:.3g}"


def main() -> int:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    warnings.filterwarnings("ignore", message=r"optimlab\.torch\.\w+\(fused=True\)")
    rounds = 3 if QUICK else 7
    print(f"optimlab.torch vs torch.optim {torch.__version__}: CPU time per optimizer.step(), one "
          f"thread, median of {rounds} interleaved rounds; transient = peak MiB allocated during a step")
    rows, misses = [], []
    for model_name, (build, steps) in MODELS.items():
        params = params_with_grads(build())
        n = sum(p.numel() for p in params)
        largest = max(p.numel() * p.element_size() for p in params)
        print(f"\n{model_name}: {len(params)} tensors, {n:,} parameters, steps per round {steps}")
        for name, (kwargs, (twin, twin_kwargs), has_fused) in OPTIMIZERS.items():
            impls = {"torch": getattr(torch.optim, twin)(clone_params(params), **twin_kwargs),
                     "optimlab": getattr(olt, name)(clone_params(params), **kwargs)}
            if has_fused:
                impls["torch fused"] = getattr(torch.optim, twin)(clone_params(params), fused=True,
                                                                  **twin_kwargs)
            res = measure(impls, steps, rounds)
            t, o = res["torch"], res["optimlab"]
            ratio = o["time"] / t["time"]
            fused_ratio = o["time"] / res["torch fused"]["time"] if has_fused else None
            ok_time = ratio <= TARGET_DEFAULT
            ok_mem = o["peak"] <= t["peak"] + largest
            ok_faults = o["faults"] <= t["faults"] + 1
            if not (ok_time and ok_mem and ok_faults):
                misses.append(f"{model_name} {name}")
            print(f"  {name:9s} torch {t['time'] * 1e3:8.3f} ms  optimlab {o['time'] * 1e3:8.3f} ms  "
                  f"ratio {ratio:5.2f} [{'PASS' if ok_time else 'MISS'}]"
                  + (f"  ÷ torch fused {fused_ratio:5.2f}" if has_fused else " " * 22)
                  + f"  transient MiB torch {mib(t['peak'])} / optimlab {mib(o['peak'])} "
                  f"[{'PASS' if ok_mem else 'MISS'}]  page faults/step {t['faults']:.0f} / "
                  f"{o['faults']:.0f} [{'PASS' if ok_faults else 'MISS'}]")
            rows.append((model_name, name, ratio, fused_ratio, t["peak"], o["peak"]))
    print("\n| model | optimizer | optimlab ÷ torch default | ÷ torch fused=True | transient MiB, torch / optimlab |")
    print("|---|---|---|---|---|")
    for model_name, name, ratio, fused_ratio, tp, op in rows:
        fused = f"{fused_ratio:.2f}" if fused_ratio is not None else "—"
        print(f"| {model_name} | {name} | {ratio:.2f} | {fused} | {mib(tp)} / {mib(op)} |")
    print(f"\ntargets (step ≤ {TARGET_DEFAULT}× torch's default, transient ≤ torch's + the largest "
          f"parameter, page faults ≤ torch's + 1): "
          + ("PASS for every model and optimizer" if not misses else "MISS: " + ", ".join(misses)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
