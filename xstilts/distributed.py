"""Data parallelism with torch.distributed: one process per device, launched by ``torchrun``.

    torchrun --nproc_per_node 8 -m xstilts.cli ...      # one node, 8 GPUs (nccl)
    torchrun --nproc_per_node 2 script.py              # CPU (gloo), e.g. the tests

How the training loop uses it (xstilts.training.train picks the process group up by itself):

* every rank builds the same task sampler and the same global batches; rank r keeps every
  world_size-th example of each global batch from position r on (``BatchStream``), so the ranks see
  distinct examples and together exactly the batch one process would see with the global batch;
* DDP averages gradients; the per-step loss/token counters are all-reduced in one collective;
* only rank 0 evaluates (the score is broadcast so every rank takes the same early-stopping
  decision), logs, prints and writes checkpoints; all ranks read a checkpoint when resuming, so
  ``checkpoint_dir`` must be on a file system every node sees.

A plain ``python`` run (no ``WORLD_SIZE`` in the environment) is world size 1 and touches nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def comm_device(self) -> torch.device:
        # nccl only moves CUDA tensors; gloo takes CPU tensors
        return torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")

    # ---- collectives (identity when world size is 1) --------------------------------------

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.enabled:
            moved = tensor.to(self.comm_device)
            dist.all_reduce(moved, op=dist.ReduceOp.SUM)
            tensor = moved.to(tensor.device)
        return tensor

    def broadcast_float(self, value: float | None, src: int = 0) -> float:
        if not self.enabled:
            return float(value)  # type: ignore[arg-type]
        t = torch.tensor([value if value is not None else 0.0], dtype=torch.float64, device=self.comm_device)
        dist.broadcast(t, src=src)
        return float(t.item())

    def gather_uint8(self, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each rank's uint8 tensors, keyed ``<name>.rank<r>`` (RNG states for a checkpoint).
        Every rank must pass the same names with the same sizes (same device type everywhere)."""
        out = {}
        for name in sorted(tensors):
            t = tensors[name].to(self.comm_device)
            parts = [torch.empty_like(t) for _ in range(self.world_size)] if self.enabled else [t]
            if self.enabled:
                dist.all_gather(parts, t)
            for r, p in enumerate(parts):
                out[f"{name}.rank{r}"] = p.cpu()
        return out

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def current() -> DistInfo:
    """The process group this process belongs to (world size 1 when none was initialised)."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), dist.get_backend())
    return DistInfo()


def setup(device: str = "auto", timeout_minutes: int = 30) -> tuple[DistInfo, torch.device]:
    """Join the group that ``torchrun`` describes in the environment (RANK, WORLD_SIZE, LOCAL_RANK,
    MASTER_ADDR, MASTER_PORT) and pick this rank's device: ``cuda:LOCAL_RANK`` with nccl, or the
    CPU with gloo. Without WORLD_SIZE (plain ``python``) nothing is initialised."""
    cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if world_size == 1:
        return DistInfo(), torch.device("cuda" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    if not dist.is_initialized():
        # the timeout bounds how long ranks wait for rank 0 (evaluation, checkpoint writing)
        dist.init_process_group("nccl" if cuda else "gloo", timeout=timedelta(minutes=timeout_minutes))
    return current(), dev


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def is_main() -> bool:
    """True on rank 0 (and in every non-distributed run): the one process that writes outputs."""
    return current().is_main


def wrap(model: torch.nn.Module, device: torch.device, find_unused_parameters: bool) -> torch.nn.Module:
    """DDP around the model. It broadcasts rank 0's weights at construction, so every rank starts
    equal even if their initialisations differed."""
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused_parameters)
