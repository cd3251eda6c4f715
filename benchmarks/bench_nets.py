"""Benchmark: ``optimlab.nets.train`` on the digits, one configuration and a batched tuning grid.

The network chapter's setting: ``MLP((64, 32, 10))`` (and the default ``(64, 64, 10)``), Adam,
8 epochs of batches of 32 on the 1,438 training images.  Prints, for C = 1, 13 and 65
configurations trained in one call, the wall and CPU seconds and the cost per configuration-epoch,
with OpenBLAS's default threads and with one thread (a child process with OMP/OPENBLAS/MKL
threads = 1 set before numpy is imported, as ``tools/execute.py`` runs the chapters), and the
torch.optim float64 loop for one configuration (the same network, batches and initial weights)
for scale.

    .venv/bin/python benchmarks/bench_nets.py
"""
from __future__ import annotations

import os
import sys

SINGLE = "--single-thread" in sys.argv
if SINGLE:  # before numpy is imported
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import optimlab as ol  # noqa: E402

EPOCHS, BATCH = 8, 32


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def torch_loop(net, data, seed=0):
    import torch

    torch.set_default_dtype(torch.float64)
    layers = []
    params = net.init(seed)
    for i, (a, b) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        lin = torch.nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(params[2 * i]))
            lin.bias.copy_(torch.as_tensor(params[2 * i + 1]))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    rng = np.random.default_rng(seed)
    for _ in range(EPOCHS):
        order = rng.permutation(len(y))
        for k in range(0, len(y), BATCH):
            idx = torch.as_tensor(order[k:k + BATCH])
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()


def main():
    data = ol.datasets.digits()
    label = "one BLAS thread" if SINGLE else "default BLAS threads"
    print(f"optimlab.nets.train, Adam, {EPOCHS} epochs, batch {BATCH} ({label})")
    for sizes in ((64, 32, 10), (64, 64, 10)):
        net = ol.nets.MLP(sizes)
        for C in (1, 13, 65):
            lr = 3e-3 if C == 1 else np.logspace(-4, 0, C)
            seed = 0 if C == 1 else list(range(C))
            wall, cpu = timed(lambda: ol.nets.train(ol.Adam(lr=lr), net, data, epochs=EPOCHS, batch_size=BATCH, seed=seed))
            print(f"  {str(sizes):13s} C = {C:2d}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, "
                  f"{1e3 * wall / (C * EPOCHS):6.1f} ms per configuration-epoch")
        try:
            torch_loop(net, data)                    # warm-up: torch's first call pays its imports
            wall, cpu = timed(lambda: torch_loop(net, data))
            print(f"  {str(sizes):13s} torch.optim loop, one configuration: {wall:6.2f} s wall, {cpu:6.2f} s CPU")
        except ImportError:
            print("  (torch not installed: no torch loop)")
    if not SINGLE:
        subprocess.run([sys.executable, __file__, "--single-thread"], check=True)


if __name__ == "__main__":
    main()
