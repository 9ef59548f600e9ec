"""Training over several processes launched by ``torchrun`` (``WORLD_SIZE`` > 1): the process group (gloo on the
CPU, NCCL on CUDA), this process's share of a batch, and the averaging of gradients after each backward pass.

Every trainer of the chain (detector, lifters, classifiers, the architecture search) is data-parallel the way
``DistributedDataParallel`` is: all processes hold the same weights (same seed, same initialisation), draw the
same global batch from the same generators, each runs forward and backward on its own rows (:func:`shard`), then
the gradients are all-reduced to their mean and rank 0's batch-norm statistics shared (:func:`sync_replicas`)
before the identical optimiser steps, so that two processes take the steps one process takes on the whole batch,
each doing half of the network's work (batch-norm statistics of a step come from one process's rows).
The averaging is explicit rather than through the ``DistributedDataParallel`` wrapper because several parts train
sub-networks through their own methods (the two streams of ``two_stream_mlp``, the synthesis network of
``stereo_lifter``), which the wrapper's forward would not see. The joint mode wraps its network in
``DistributedDataParallel`` itself (``joint/trainer.py``). Rank 0 alone writes checkpoints and reports.
"""
from __future__ import annotations

import os
import sys
from typing import Tuple

import torch
import torch.distributed as dist


def world() -> Tuple[int, int]:
    """(rank, world size) of a ``torchrun`` launch; (0, 1) otherwise."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def is_main() -> bool:
    return world()[0] == 0


def init_distributed(device: str) -> bool:
    """Join the process group of a ``torchrun`` launch (once); False when not launched by torchrun."""
    if world()[1] <= 1:
        return False
    if not dist.is_initialized():
        if device == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
    return True


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def finish_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def exit_process(code: int) -> None:
    """End the process of a command with ``code``. A ``torchrun`` process other than rank 0 ends without the
    interpreter's finalisation (``os._exit`` after flushing its output). It finishes right after the last
    barrier, while rank 0 goes on to evaluate; ``destroy_process_group`` drops Python's references but the gloo
    backend's worker threads live on, and one of them may still be releasing a finished collective (the tensors
    of the weight check's all-gather, whose release takes the GIL) when the interpreter finalises: the thread is
    then made to exit inside a C++ destructor and the process aborts ('terminate called without an active
    exception', SIGABRT; seen in 2 of 28 two-process runs on a loaded 2-core machine, core dump in
    ``ProcessGroupGloo::runLoop`` -> ``~AsyncBarrierWork``), which torchrun reports as a failed run. Such a
    process has done its share of the training and writes no files."""
    rank, size = world()
    if size > 1 and rank:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def shard(batch):
    """This process's rows (``rank::size``) of a batch: a tensor, an array, a list, or a dict of them (all of one
    length); the whole batch when it has fewer rows than processes or there is one process."""
    if not dist.is_initialized():
        return batch
    rank, size = dist.get_rank(), dist.get_world_size()
    if isinstance(batch, dict):
        return {k: shard(v) for k, v in batch.items()}
    if len(batch) < size:
        return batch
    return batch[rank::size]


def sync_replicas(module: torch.nn.Module) -> None:
    """After a backward pass: all-reduce the gradients of ``module``'s parameters to their mean over the processes
    (one flat buffer; a parameter without a gradient has none on every process: same code, same batch shapes),
    and give every process rank 0's buffers (batch-norm statistics), as ``DistributedDataParallel`` does with
    ``broadcast_buffers``."""
    if not dist.is_initialized():
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if grads:
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= dist.get_world_size()
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()
    for b in module.buffers():
        dist.broadcast(b, 0)


def mean_over_processes(value: float) -> float:
    """``value`` averaged over the processes (``value`` itself in one process): a logged loss of the whole
    batch rather than of this process's rows."""
    if not dist.is_initialized():
        return value
    t = torch.tensor([float(value)], dtype=torch.float64,
                     device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(t)
    return float(t) / dist.get_world_size()


def same_everywhere(module: torch.nn.Module) -> bool:
    """Whether ``module``'s parameters and buffers are bit-identical on every process (a fingerprint of their
    bytes, compared over the group): what averaged gradients and identical optimiser steps keep true."""
    if not dist.is_initialized():
        return True
    import hashlib

    h = hashlib.sha256()
    for t in module.state_dict().values():
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    prints = [None] * dist.get_world_size()
    dist.all_gather_object(prints, h.hexdigest())
    return len(set(prints)) == 1
