"""Benchmark: a 100 x 100 grid of Adam runs in one batched ``optimlab.run`` vs a torch.optim loop.

The grid: learning rate log-spaced over [1e-3, 1] x β1 linearly spaced over [0, 0.99]
(β2 = 0.999, ε = 1e-8), 200 steps each on ``Quadratic(kappa=10)`` from its ``start``.

Prints
  (1) the time of the whole grid in ONE ``optimlab.run`` call (best of 3);
  (2) the time of the same runs as a ``torch.optim.Adam`` loop, float64, one tensor of shape
      (2,) per run, timed on a random sample of 50 runs and scaled to 10,000;
  (3) their ratio;
  (4) the largest absolute difference between the batched trajectories and the sampled torch
      trajectories (all 201 points of each);
  (5) the same timings on one core: a child process with OMP/OPENBLAS/MKL threads = 1 set
      before numpy is imported, and ``torch.set_num_threads(1)``;
and PASS/MISS for the targets: (1) < 0.5 s, (3) >= 500x, (4) <= 1e-8.

The torch loop is given the analytic gradient ``A (θ − c)`` (no autograd), the same gradient the
batched run uses, so the comparison times the optimizers, not the differentiation.

    .venv/bin/python benchmarks/bench_grid.py
"""
from __future__ import annotations

import os
import sys

SINGLE_CORE = "--single-core" in sys.argv
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if SINGLE_CORE:  # must happen before numpy (and its BLAS) is imported
    for var in THREAD_VARS:
        os.environ[var] = "1"

import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import optimlab as ol  # noqa: E402

N_LR, N_BETA, STEPS, SAMPLE, REPEATS = 100, 100, 200, 50, 3
TARGET_TIME, TARGET_SPEEDUP, TARGET_DIFF = 0.5, 500.0, 1e-8

LRS = np.logspace(-3, 0, N_LR)
BETA1S = np.linspace(0.0, 0.99, N_BETA)
SURFACE = ol.surfaces.Quadratic(kappa=10)


def batched_run():
    opt = ol.Adam(lr=LRS[:, None, None], betas=(BETA1S[None, :, None], 0.999))
    return ol.run(opt, SURFACE, SURFACE.start, STEPS)


def torch_run(lr, beta1):
    """One run as anyone would write it with torch.optim; returns its 201 points."""
    A = torch.tensor(SURFACE.A, dtype=torch.float64)
    c = torch.tensor(SURFACE.center, dtype=torch.float64)
    p = torch.tensor(SURFACE.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=float(lr), betas=(float(beta1), 0.999))
    xs = np.empty((STEPS + 1, 2))
    xs[0] = SURFACE.start
    for k in range(1, STEPS + 1):
        p.grad = (p.detach() - c) @ A
        opt.step()
        xs[k] = p.detach().numpy()
    return xs


def measure() -> dict:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        traj = batched_run()
        times.append(time.perf_counter() - t0)
    batched = min(times)

    rng = np.random.default_rng(0)
    flat = rng.choice(N_LR * N_BETA, size=SAMPLE, replace=False)
    pairs = [divmod(int(k), N_BETA) for k in flat]
    t0 = time.perf_counter()
    torch_xs = [torch_run(LRS[i], BETA1S[j]) for i, j in pairs]
    torch_sample = time.perf_counter() - t0
    torch_total = torch_sample / SAMPLE * N_LR * N_BETA

    diff = max(float(np.max(np.abs(traj.xs[:, i, j] - xs))) for (i, j), xs in zip(pairs, torch_xs))
    return dict(batched=batched, batched_all=times, torch_sample=torch_sample,
                torch_total=torch_total, ratio=torch_total / batched, diff=diff,
                diverged=int(traj.diverged.sum()), torch_threads=torch.get_num_threads())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main():
    if SINGLE_CORE:
        torch.set_num_threads(1)
        print(json.dumps(measure()))
        return

    print(f"optimlab batched Adam grid: {N_LR} lr x {N_BETA} beta1 = {N_LR * N_BETA} runs, "
          f"{STEPS} steps, Quadratic(kappa=10); numpy {np.__version__}, torch {torch.__version__}")
    r = measure()
    print(f"(1) one batched optimlab.run:      {r['batched']:.3f} s  (best of {REPEATS}: "
          + ", ".join(f"{t:.3f}" for t in r["batched_all"]) + f")   "
          f"[target < {TARGET_TIME} s: {verdict(r['batched'] < TARGET_TIME)}]")
    print(f"(2) torch.optim.Adam loop:         {r['torch_total']:.1f} s for 10,000 runs "
          f"(measured {r['torch_sample']:.2f} s on {SAMPLE} runs, torch threads = {r['torch_threads']})")
    print(f"(3) speed-up:                      {r['ratio']:.0f}x   "
          f"[target >= {TARGET_SPEEDUP:.0f}x: {verdict(r['ratio'] >= TARGET_SPEEDUP)}]")
    print(f"(4) max |batched - torch|:         {r['diff']:.2e} over {SAMPLE} runs x {STEPS + 1} points   "
          f"[target <= {TARGET_DIFF:g}: {verdict(r['diff'] <= TARGET_DIFF)}]"
          + (f"  ({r['diverged']} runs diverged)" if r["diverged"] else ""))

    env = dict(os.environ, **{var: "1" for var in THREAD_VARS})
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--single-core"],
                           env=env, capture_output=True, text=True, check=True)
    s = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"(5) single core (OMP/OPENBLAS/MKL threads = 1, torch threads = {s['torch_threads']}): "
          f"batched {s['batched']:.3f} s [{verdict(s['batched'] < TARGET_TIME)}], "
          f"torch loop {s['torch_total']:.1f} s, speed-up {s['ratio']:.0f}x "
          f"[{verdict(s['ratio'] >= TARGET_SPEEDUP)}], max diff {s['diff']:.2e} "
          f"[{verdict(s['diff'] <= TARGET_DIFF)}]")


if __name__ == "__main__":
    main()
