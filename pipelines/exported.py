"""The folder ``pipelines/export.py`` writes and ``backend: onnx`` reads (``docs/interfaces.md``, "Export").

Per exported stage ``S``: ``S.<network>.onnx`` for each of its networks (``Stage.networks``) and ``S.codec.pt``, the
part's codec state (``Stage.codec_state``: normalisation statistics, labels, temperature, options; a
``torch.save`` file); ``manifest.json`` lists the stages, their networks' files, inputs and outputs, the largest
difference between onnxruntime's and torch's outputs measured at export, and the library versions.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

import numpy as np
import torch

from common.errors import InputError
from common.io import atomic_path
from common.onnx_backend import ExportSpec, OnnxNetwork, quantize_int8
from common.paths import repo_path

MANIFEST = "manifest.json"


def network_file(stage: str, network: str) -> str:
    return f"{stage}.{network}.onnx"


def codec_file(stage: str) -> str:
    return f"{stage}.codec.pt"


def write_stage(stage: str, part, out: Path, threads: int = 0, quantize: bool = False) -> Dict[str, dict]:
    """Export ``part``'s networks and codec state to ``out``; returns the manifest entries of its networks."""
    nets = write_networks(stage, part.networks(), out, threads, quantize)
    with atomic_path(out / codec_file(stage)) as tmp:
        torch.save(part.codec_state(), tmp)
    return nets


def load_exported(stage: str, part, export_dir, threads: int = 0) -> dict:
    """Restore ``part`` (built from the stage's options) from an export folder, its networks run by onnxruntime
    with ``threads`` intra-op threads (0: torch's thread count); returns what the report says of it."""
    folder = repo_path(export_dir)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise InputError(f"stages.{stage}.export_dir: {folder} has no {MANIFEST}; write it with "
                         "python pipelines/export.py PIPELINE.yaml --out DIR")
    entry = json.loads(manifest.read_text())["stages"].get(stage)
    if entry is None or entry["type"] != part.registered_name:
        raise InputError(f"stages.{stage}: {folder} holds no exported {part.registered_name} for this stage "
                         f"(it has {entry['type'] if entry else 'none'})")
    threads = threads or torch.get_num_threads()
    nets = {name: OnnxNetwork(folder / n["file"], threads) for name, n in entry["networks"].items()}
    state = torch.load(folder / codec_file(stage), map_location="cpu", weights_only=False)
    part.load_exported(state, nets)
    return {"exported": True, "export_dir": str(folder), "networks": sorted(nets),
            "max_abs_diff": max([n["max_abs_diff"] for n in entry["networks"].values()], default=0.0)}


class JointPoses(torch.nn.Module):
    """The joint network cut after block ``block``: crops (N, 3, S, S) -> that block's poses (N, J, 4)."""

    def __init__(self, net, block: int):
        super().__init__()
        self.net, self.block = net, int(block)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.net(frames, upto=self.block)["poses"][-1]


class JointActions(torch.nn.Module):
    """The joint network cut after block ``block``: clips of ``clip_len`` crops (C * T, 3, S, S) -> the class
    logits (C, A) of the last action block up to ``block``."""

    def __init__(self, net, block: int, clip_len: int):
        super().__init__()
        self.net, self.block, self.clip_len = net, int(block), int(clip_len)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return [a for a in self.net(frames, clip_len=self.clip_len, upto=self.block)["actions"] if a is not None][-1]


class ExportedJoint:
    """The joint network that ``pipelines/export.py`` cut after one block, run by onnxruntime, with the calls
    ``joint/evaluate.py`` makes of a :class:`~joint.network.MultitaskNet`: ``net(frames)["poses"]``,
    ``net(frames, clip_len=T)["actions"]``, ``n_blocks``, ``blocks``, ``action_blocks()``. The cut is its one
    block (``block``: the original's 0-based index)."""

    def __init__(self, export_dir, threads: int = 0):
        folder = repo_path(export_dir)
        if not (folder / MANIFEST).is_file():
            raise InputError(f"joint.export_dir: {folder} has no {MANIFEST}; write it with "
                             "python pipelines/export.py PIPELINE.yaml --out DIR")
        entry = json.loads((folder / MANIFEST).read_text()).get("joint")
        if entry is None:
            raise InputError(f"joint.export_dir: {folder} holds exported stages, not a joint-mode network")
        if "cut" not in entry:
            raise InputError(f"joint.export_dir: {folder} was written by an earlier export.py; export it again")
        threads = threads or torch.get_num_threads()
        nets = entry["networks"]
        self.entry, self.folder = entry, folder
        self.block, self.clip_len, self.n_actions = int(entry["block"]), int(entry["clip_len"]), len(entry["actions"])
        self.blocks = [tuple(entry["cut"])]
        self.n_blocks = 1
        self.poses = OnnxNetwork(folder / nets["poses"]["file"], threads)
        self.actions = OnnxNetwork(folder / nets["actions"]["file"], threads) if "actions" in nets else None

    def action_blocks(self):
        return [0] if self.actions is not None else []

    def eval(self):
        return self

    def __call__(self, frames: torch.Tensor, clip_len=None, upto=None) -> Dict[str, list]:
        out = {"poses": [self.poses(frames)]}
        if clip_len is not None:
            if int(clip_len) != self.clip_len:
                raise InputError(f"joint: the exported action network takes clips of {self.clip_len} frames, "
                                 f"not {clip_len}")
            out["actions"] = [None if self.actions is None else self.actions(frames)]
        return out


def joint_networks(net, block: int, clip_len: int, input_size: int) -> Dict[str, ExportSpec]:
    """The joint mode's exported networks at a cut (Luvizon et al. 2021, section 4.5.4: any prediction block
    answers): ``poses`` on single crops and, when an action block lies at or before the cut, ``actions`` on
    clips of ``clip_len`` crops."""
    if not 0 <= block < net.n_blocks:
        raise InputError(f"--block: expected a prediction block in 0..{net.n_blocks - 1}, got {block}")
    s = int(input_size)
    nets = {"poses": ExportSpec(JointPoses(net, block), {"frames": torch.zeros(2, 3, s, s)}, ("poses",),
                                {"frames": {0: "n"}, "poses": {0: "n"}})}
    if any(b <= block for b in net.action_blocks()):
        nets["actions"] = ExportSpec(JointActions(net, block, clip_len), {"frames": torch.zeros(clip_len, 3, s, s)},
                                     ("logits",), {"frames": {0: "n_frames"}, "logits": {0: "n_clips"}})
    return nets


def write_networks(prefix: str, specs: Dict[str, ExportSpec], out: Path, threads: int = 0,
                   quantize: bool = False) -> Dict[str, dict]:
    """Export ``specs`` to ``out/<prefix>.<name>.onnx`` (with int8 MatMul/Gemm weights when ``quantize``); the
    manifest entries, each with the largest absolute difference of onnxruntime's outputs from torch's on the
    example inputs."""
    nets = {}
    for name, spec in specs.items():
        path = spec.export(out / network_file(prefix, name))
        if quantize:
            quantize_int8(path)
        with torch.no_grad():
            want = spec.module(*spec.inputs.values())
        got = OnnxNetwork(path, threads)(*spec.inputs.values())
        want, got = (want, got) if isinstance(want, (tuple, list)) else ((want,), (got,))
        diff = max(float((w.detach().cpu() - g).abs().max()) for w, g in zip(want, got))
        nets[name] = {"file": path.name, "inputs": {k: list(v.shape) for k, v in spec.inputs.items()},
                      "outputs": list(spec.outputs), "max_abs_diff": diff, "int8": bool(quantize)}
    return nets


def versions() -> Dict[str, str]:
    import onnx
    import onnxruntime

    return {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__}
