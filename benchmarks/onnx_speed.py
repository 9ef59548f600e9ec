"""Frames per second of each stage with torch and with onnxruntime, on the CPU, in one run.

    python benchmarks/onnx_speed.py [PIPELINE.yaml] [--set KEY=VALUE ...] [--threads 2] [--repeats 5]
                                    [--min-time 0.3] [--out benchmarks/results/onnx_speed.md]

The pipeline (default ``pipelines/rgb_to_action.yaml``) is loaded from the checkpoint cache (trained first where it
has no checkpoint), exported with ``pipelines/export.py`` to a temporary folder twice (float weights, and
``--quantize`` of every stage: int8 MatMul/Gemm weights), and loaded from each export (``backend: onnx``). The
three chains then run on the first test sequence of the pipeline's data:

- ``predict``: the whole stage as the pipeline runs it, pre- and post-processing included (crops and heatmap
  decoding of the detector, normalisation and flip test of the lifter, encoding, windows and flip test of the
  classifier), on the sequence's frames, its ground-truth 2D, its ground-truth 3D; frames/s = frames / time;
- ``network B``: the bare network on a batch of B example inputs (torch ``nn.Module`` under ``no_grad`` against
  the onnxruntime session), items/s (crops, poses, clips).

All runtimes get ``--threads`` intra-op threads. Timing: warm-up, then the median of ``--repeats`` timings of
enough calls to last ``--min-time`` s (``benchmarks/lifter_speed.py``). The load average before and after is in the
header; compare rows of one run only.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import datetime
import os
import tempfile
from typing import Dict, List

import torch

from benchmarks.lifter_speed import time_per_call
from common.handoff import gt_pose2d, gt_pose3d
from common.io import write_json, write_text
from common.onnx_backend import OnnxNetwork
from common.paths import REPO_ROOT
from common.reproducibility import cpu_model

NETWORK_BATCHES = {"stage1_2d": (1, 16), "stage2_lift": (1, 1024), "stage3_action": (1, 64)}
RUNTIMES = ("torch", "onnx", "int8")


def log(msg: str) -> None:
    print(f"[onnx_speed] {msg}", flush=True)


def chains(args, out: Path):
    """(torch chain, onnxruntime chain, onnxruntime int8 chain, data) of the pipeline, the second from its export
    to ``out / "fp32"``, the third from its export with int8 weights to ``out / "int8"``."""
    from pipelines.chain import Chain
    from pipelines.config import STAGE_KINDS
    from pipelines.data import build_dataset
    from pipelines.export import export
    from pipelines.run import resolve_pipeline

    cfg = resolve_pipeline(argparse.Namespace(pipeline=args.pipeline, overrides=[], sets=args.sets))
    cfg = {**cfg, "device": "cpu"}
    export(cfg, out / "fp32", log=log)
    export(cfg, out / "int8", log=log, quantize=tuple(STAGE_KINDS))
    data = build_dataset(cfg["data"])
    built = []
    for pipeline in (None, out / "fp32" / "pipeline.yaml", out / "int8" / "pipeline.yaml"):
        c = cfg if pipeline is None else \
            resolve_pipeline(argparse.Namespace(pipeline=str(pipeline), overrides=[], sets=[]))
        chain = Chain(c, "cpu", log=log)
        chain.prepare(lambda: data)
        built.append(chain)
    return (*built, data)


def stage_calls(chain, sample) -> Dict[str, tuple]:
    """Per stage: (call, frames per call) running the stage's ``predict`` on the sample."""
    out = {}
    for name, part in chain.parts.items():
        if name == "stage1_2d":
            frames = sample.frames()
            out[name] = (lambda p=part, f=frames: p.predict(f, sample.fps), len(frames))
        elif name == "stage2_lift":
            x2 = gt_pose2d(sample)
            out[name] = (lambda p=part, x=x2: p.predict(x), sample.n_frames)
        else:
            x = gt_pose3d(sample) if part.cfg.get("input") == "3d" else gt_pose2d(sample)
            if part.needs_pose2d:
                out[name] = (lambda p=part, x=x: p.predict(x, pose2d=gt_pose2d(sample)), sample.n_frames)
            else:
                out[name] = (lambda p=part, x=x: p.predict(x), sample.n_frames)
    return out


def network_calls(part, folder: Path, name: str, batch: int, threads: int) -> List[tuple]:
    """(network name, [torch call, onnxruntime call, onnxruntime int8 call]) of each exported network at
    ``batch`` items."""
    from pipelines.exported import network_file

    out = []
    for net, spec in part.networks().items():
        inputs = [torch.randn(batch, *x.shape[1:]) for x in spec.inputs.values()]
        sessions = [OnnxNetwork(folder / kind / network_file(name, net), threads) for kind in ("fp32", "int8")]
        module = spec.module.eval()

        def torch_call(m=module, xs=inputs):
            with torch.no_grad():
                m(*xs)

        out.append((net, [torch_call] + [lambda s=s, xs=inputs: s(*xs) for s in sessions]))
    return out


def row(name: str, kind: str, what: str, items: int, calls, args) -> dict:
    """Timings of the torch, onnxruntime and onnxruntime int8 ``calls`` (each handling ``items``)."""
    t = [time_per_call(c, args.repeats, args.min_time) for c in calls]
    r = {"stage": name, "type": kind, "what": what, "items": items}
    for key, timing in zip(RUNTIMES, t):
        r[f"{key}_per_s"], r[key] = items / timing["median_s"], timing
    log(f"{name} {what}: " + ", ".join(f"{key} {r[f'{key}_per_s']:,.0f}" for key in RUNTIMES) + " /s")
    return r


def measure(args) -> dict:
    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        *built, data = chains(args, folder)
        sample = data.test[0]
        calls = [stage_calls(chain, sample) for chain in built]
        torch_chain = built[0]
        for name in torch_chain.parts:
            if not torch_chain.parts[name].networks():
                continue
            kind = torch_chain.cfg["stages"][name]["type"]
            rows.append(row(name, kind, "predict", calls[0][name][1], [c[name][0] for c in calls], args))
            for b in NETWORK_BATCHES[name]:
                for net, net_calls in network_calls(torch_chain.parts[name], folder, name, b, args.threads):
                    rows.append(row(name, kind, f"network {net} x{b}", b, net_calls, args))
    return {"rows": rows, "sample": sample.name, "n_frames": sample.n_frames}


def markdown(res: dict, header: dict) -> str:
    lines = [f"# torch vs onnxruntime on the CPU ({header['date']})", "",
             f"- machine: {header['machine']}, {header['cpu_count']} CPUs; {header['threads']} thread(s) for every "
             f"runtime; torch {header['versions']['torch']}, onnxruntime {header['versions']['onnxruntime']}; "
             f"load average {header['load_before']} before, {header['load_after']} after",
             f"- command: `{header['command']}`",
             f"- `predict`: the whole stage on test sequence {res['sample']} ({res['n_frames']} frames), frames/s; "
             "`network x B`: the bare network on B inputs, items/s; int8: the export with `--quantize` of every stage "
             "(int8 MatMul/Gemm weights, onnxruntime's dynamic quantization); median of "
             f"{header['repeats']} timings of >= {header['min_time']} s", "",
             "| stage | part | measured | torch /s | onnxruntime /s | onnxruntime / torch | int8 /s | int8 / torch |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['stage']} | {r['type']} | {r['what']} | {r['torch_per_s']:,.0f} | "
                     f"{r['onnx_per_s']:,.0f} | {r['onnx_per_s'] / r['torch_per_s']:.2f}x | "
                     f"{r['int8_per_s']:,.0f} | {r['int8_per_s'] / r['torch_per_s']:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pipeline", nargs="?", default="pipelines/rgb_to_action.yaml")
    p.add_argument("--set", nargs="+", action="extend", default=[], dest="sets", metavar="KEY=VALUE")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.3)
    p.add_argument("--out", default=str(REPO_ROOT / "benchmarks" / "results" / "onnx_speed.md"))
    args = p.parse_args(argv)
    from pipelines.exported import versions

    header = {"date": datetime.date.today().isoformat(), "machine": cpu_model(), "cpu_count": os.cpu_count(),
              "threads": args.threads, "versions": versions(), "load_before": round(os.getloadavg()[0], 2),
              "repeats": args.repeats, "min_time": args.min_time,
              "command": "python benchmarks/onnx_speed.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    res = measure(args)
    header["load_after"] = round(os.getloadavg()[0], 2)
    out = Path(args.out)
    write_json(out.with_suffix(".json"), {"header": header, **res})
    write_text(out, markdown(res, header))
    log(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
