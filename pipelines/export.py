#!/usr/bin/env python
"""Export a pipeline's trained networks to ONNX: ``python pipelines/export.py PIPELINE.yaml --out DIR
[--overrides FILE ...] [--set KEY=VALUE ...]`` (``docs/interfaces.md``, "Export").

Each trainable stage is loaded from the checkpoint cache (trained first when it has none, as ``run.py`` would)
and written to ``DIR`` as its networks in ONNX and its codec state beside them (``pipelines/exported.py``);
``DIR/pipeline.yaml`` is the resolved pipeline with ``backend: onnx`` on those stages, so that
``python pipelines/run.py DIR/pipeline.yaml [--input VIDEO]`` runs the same chain with onnxruntime. Stages with
nothing to export (oracles, precomputed or MediaPipe key-points) are copied as they are. A joint-mode pipeline is
written as its network cut after ``--block`` (``joint.poses.onnx``, ``joint.actions.onnx``) and its
``pipeline.yaml`` evaluates that cut with onnxruntime (``joint.backend: onnx``).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common.errors import InputError
from pipelines.config import STAGE_KINDS


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pipelines/export.py", description=__doc__.split("\n\n")[0])
    p.add_argument("pipeline", help="pipeline YAML file")
    p.add_argument("--out", required=True, help="folder to write the ONNX files, codec states and pipeline.yaml to")
    p.add_argument("--block", type=int, default=None,
                   help="joint mode: the prediction block (0-based) to cut the network after (default: the last)")
    p.add_argument("--quantize", nargs="+", default=[], metavar="STAGE", choices=list(STAGE_KINDS),
                   help="stages whose MatMul/Gemm weights are written in int8 (onnxruntime dynamic quantization)")
    p.add_argument("--overrides", nargs="+", action="extend", default=[], metavar="FILE")
    p.add_argument("--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE", dest="sets")
    return p.parse_args(argv)


def export_joint(cfg: dict, out: Path, block: Optional[int] = None, log=print) -> dict:
    """The joint mode's network cut after ``block`` (default: the last) as ``joint.poses.onnx`` (crops -> that
    block's poses) and ``joint.actions.onnx`` (clips -> class logits), with the crop size, clip length, layout and
    action names in the manifest."""
    import yaml

    from common.io import write_json, write_text
    from pipelines.exported import MANIFEST, joint_networks, versions, write_networks
    from pipelines.joint import prepare_joint

    if cfg["joint"].get("backend", "torch") != "torch":
        raise InputError("export: the pipeline already runs an exported network; export the torch pipeline")
    net, ds, info, _ = prepare_joint({**cfg, "device": "cpu"}, log)
    net = net.cpu().eval()
    block = net.n_blocks - 1 if block is None else int(block)
    jcfg = cfg["joint"]
    clip_len = int(jcfg["train"]["clip_len"])
    out.mkdir(parents=True, exist_ok=True)
    nets = write_networks("joint", joint_networks(net, block, clip_len, jcfg["input_size"]), out)
    manifest = {"versions": versions(), "joint": {"block": block, "cut": list(net.blocks[block]),
                                                  "n_blocks": net.n_blocks, "clip_len": clip_len,
                                                  "n_parameters": int(sum(p.numel() for p in net.parameters())),
                                                  "action_blocks": list(net.action_blocks()),
                                                  "input_size": jcfg["input_size"], "layout": "h36m17",
                                                  "actions": list(ds.action_names), "networks": nets,
                                                  "checkpoint": info.get("checkpoint")}}
    for n, i in nets.items():
        log(f"joint: {n} cut after block {block + 1} of {net.n_blocks} -> {out / i['file']} (onnxruntime vs torch: "
            f"max |diff| {i['max_abs_diff']:.2e})")
    write_json(out / MANIFEST, manifest)
    write_text(out / "pipeline.yaml", yaml.safe_dump(
        {**cfg, "joint": {**jcfg, "backend": "onnx", "export_dir": str(out.resolve())}}, sort_keys=False))
    log(f"export: run it with python pipelines/run.py {out / 'pipeline.yaml'}")
    return manifest


def export(cfg: dict, out: Path, log=print, block: Optional[int] = None, quantize: Tuple[str, ...] = ()) -> dict:
    """Export the chain of the resolved pipeline ``cfg`` to ``out`` (the joint mode: its network cut after
    ``block``), the stages named in ``quantize`` with int8 weights; returns the manifest."""
    import yaml

    from common.io import write_json, write_text
    from common.training import resolve_device
    from pipelines.chain import Chain
    from pipelines.data import build_dataset
    from pipelines.exported import MANIFEST, versions, write_stage

    if "joint" in cfg:
        return export_joint(cfg, out, block, log)
    if any(s.get("backend", "torch") != "torch" for s in cfg["stages"].values()):
        raise InputError("export: the pipeline already runs exported networks; export the torch pipeline")
    chain = Chain({**cfg, "device": "cpu"} if resolve_device(cfg["device"]) != "cpu" else cfg, "cpu", log=log)
    chain.prepare(lambda: build_dataset(cfg["data"]))
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"pipeline": cfg.get("name"), "versions": versions(), "stages": {}}
    exported = {}
    for name, part in chain.parts.items():
        if not part.networks():
            log(f"{name}: {cfg['stages'][name]['type']} has no network to export; it runs as it is")
            exported[name] = cfg["stages"][name]
            continue
        nets = write_stage(name, part, out, quantize=name in quantize)
        manifest["stages"][name] = {"type": cfg["stages"][name]["type"],
                                    "checkpoint_key": chain.checkpoint_key(name), "networks": nets}
        for n, info in nets.items():
            log(f"{name}: {n} -> {out / info['file']} (onnxruntime vs torch: max |diff| {info['max_abs_diff']:.2e})")
        exported[name] = {**cfg["stages"][name], "backend": "onnx", "export_dir": str(out.resolve())}
    write_json(out / MANIFEST, manifest)
    write_text(out / "pipeline.yaml", yaml.safe_dump({**{k: v for k, v in cfg.items() if k != "stages"},
                                                      "stages": exported}, sort_keys=False))
    log(f"export: {len(manifest['stages'])} stage(s) written to {out}; run them with "
        f"python pipelines/run.py {out / 'pipeline.yaml'}")
    return manifest


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from pipelines.run import resolve_pipeline

        export(resolve_pipeline(args), Path(args.out), block=args.block, quantize=tuple(args.quantize))
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    warnings.filterwarnings("ignore", category=UserWarning, module="mmengine")
    sys.exit(main())
