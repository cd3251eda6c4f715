"""optimlab.torch in distributed training: 2 processes, gloo backend, on 127.0.0.1.

* ``DistributedDataParallel``: each rank trains on its own data; after the all-reduced steps the
  parameters equal, bit for bit, those trained with torch.optim, and agree across the ranks;
* ``ZeroRedundancyOptimizer(optimizer_class=olt.AdamW)``: each rank keeps half of the state; the
  parameters equal torch's ZeRO with ``torch.optim.AdamW``; ``consolidate_state_dict()`` gathers
  the state on rank 0, where it loads into a plain ``torch.optim.AdamW``, which then continues
  exactly as an uninterrupted ``olt.AdamW`` does.

* FSDP (``fully_shard``, parameters as DTensors sharded over the two ranks): the gathered
  parameters and the optimizer state dict (``get_optimizer_state_dict``) equal torch.optim's.
"""
from __future__ import annotations

import copy
import os
import socket
import time
import warnings

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

import optimlab.torch as olt

with warnings.catch_warnings():  # (torch.distributed.optim still uses torch.jit.script)
    warnings.simplefilter("ignore", DeprecationWarning)
    from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict  # noqa: E402
from torch.distributed.fsdp import fully_shard  # noqa: E402

WORLD, STEPS = 2, 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                               torch.nn.Tanh(), torch.nn.Linear(8, 1))


def data(rank):
    gen = torch.Generator().manual_seed(100 + rank)
    return torch.randn(16, 6, generator=gen), torch.randn(16, 1, generator=gen)


def train(net, opt, rank, steps=STEPS):
    X, Y = data(rank)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(X), Y).backward()
        opt.step()


def flat(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def worker(rank, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        result = {}
        for module in (torch.optim, olt):  # DDP
            net = DistributedDataParallel(model())
            train(net, module.AdamW(net.parameters(), lr=0.01), rank)
            result[f"ddp {module.__name__}"] = flat(net)
        for module in (torch.optim, olt):  # FSDP
            net = model()
            fully_shard(net)
            opt = module.AdamW(net.parameters(), lr=0.01)
            train(net, opt, rank)
            result[f"fsdp {module.__name__}"] = torch.cat([p.full_tensor().flatten() for p in net.parameters()])
            state = get_optimizer_state_dict(net, opt)["state"]
            result[f"fsdp {module.__name__} state"] = {
                (name, key): value.full_tensor() if hasattr(value, "full_tensor") else value
                for name, entries in state.items() for key, value in entries.items()}
        for module in (torch.optim, olt):  # ZeRO
            net = DistributedDataParallel(model())
            zero = ZeroRedundancyOptimizer(net.parameters(), optimizer_class=module.AdamW, lr=0.01)
            train(net, zero, rank)
            result[f"zero {module.__name__}"] = flat(net)
            result[f"zero {module.__name__} local state"] = sum(
                len(s) for s in zero.optim.state.values())
            zero.consolidate_state_dict(to=0)
            if rank == 0 and module is olt:
                gathered = zero.state_dict()
                result["consolidated steps"] = [s["step"].item() for s in gathered["state"].values()]
                # the gathered state into a plain torch.optim.AdamW, one more step on rank 0's data
                plain = model()
                plain.load_state_dict(net.module.state_dict())
                resumed = torch.optim.AdamW(plain.parameters(), lr=0.01)
                resumed.load_state_dict(copy.deepcopy(gathered))
                train(plain, resumed, rank, 1)
                result["resumed in torch.optim.AdamW"] = flat(plain)
                # the same step by olt.AdamW holding the same state, without ZeRO
                same = model()
                same.load_state_dict(net.module.state_dict())
                ours = olt.AdamW(same.parameters(), lr=0.01)
                ours.load_state_dict(copy.deepcopy(gathered))
                train(same, ours, rank, 1)
                result["resumed in olt.AdamW"] = flat(same)
        torch.save(result, f"{out}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_ddp_fsdp_and_zero_with_two_gloo_processes(tmp_path):
    # fork: the workers start with torch already imported, in a second instead of ten; bounded
    context = mp.start_processes(worker, args=(free_port(), str(tmp_path)), nprocs=WORLD,
                                 join=False, start_method="fork")
    deadline = time.monotonic() + 120
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            raise AssertionError("the two gloo workers did not finish within 120 s")
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    for r in ranks:
        assert torch.equal(r["ddp optimlab.torch"], r["ddp torch.optim"])
        assert torch.equal(r["zero optimlab.torch"], r["zero torch.optim"])
        assert 0 < r["zero optimlab.torch local state"] < 3 * 6  # a share of the 6 tensors' state
        assert r["zero optimlab.torch local state"] == r["zero torch.optim local state"]
        assert torch.equal(r["fsdp optimlab.torch"], r["fsdp torch.optim"])
        ours, theirs = r["fsdp optimlab.torch state"], r["fsdp torch.optim state"]
        assert ours.keys() == theirs.keys() and len(ours) == 6 * 3  # step, exp_avg, exp_avg_sq
        assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert torch.equal(ranks[0]["ddp optimlab.torch"], ranks[1]["ddp optimlab.torch"])
    assert torch.equal(ranks[0]["zero optimlab.torch"], ranks[1]["zero optimlab.torch"])
    assert ranks[0]["consolidated steps"] == [float(STEPS)] * 6
    assert torch.equal(ranks[0]["resumed in torch.optim.AdamW"], ranks[0]["resumed in olt.AdamW"])
    assert not torch.equal(ranks[0]["resumed in olt.AdamW"], ranks[0]["zero optimlab.torch"])
