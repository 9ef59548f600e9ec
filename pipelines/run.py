#!/usr/bin/env python
"""Run a pipeline file: ``python pipelines/run.py PIPELINE.yaml [--overrides FILE ...] [--set KEY=VALUE ...]
[--work-dir DIR] [--input VIDEO]`` (``docs/interfaces.md``, "Command line").

Without ``--input`` it trains what has no cached checkpoint, evaluates every stage and the chain on the held-out
synthetic test split and writes ``report.json``, ``report.md``, figures and the resolved config to the work
dir. With ``--input VIDEO`` it runs the chain on the video and writes ``pose2d.npz``, ``pose3d.npz``,
``action.json``, ``overlay.mp4`` and ``skeleton3d.png``.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common.errors import InputError


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pipelines/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("pipeline", help="pipeline YAML file")
    p.add_argument("--overrides", nargs="+", action="extend", default=[], metavar="FILE",
                   help="YAML files of dotted keys, applied before --set, left to right")
    p.add_argument("--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE", dest="sets",
                   help="override resolved keys, e.g. --set stages.stage2_lift.type=oracle")
    p.add_argument("--work-dir", default=None, help="output folder (default work_dirs/<pipeline stem>/)")
    p.add_argument("--input", default=None, metavar="VIDEO",
                   help="run inference on a video file, an image or a folder of images; with --stream also a "
                        "camera index (0) or a stream URL")
    p.add_argument("--stream", action="store_true",
                   help="process frames as they arrive (a file is replayed at its own frame rate), writing "
                        "stream.jsonl and actions.jsonl as it goes")
    p.add_argument("--hop", type=float, default=0.5, metavar="SECONDS", help="--stream: seconds between labels")
    p.add_argument("--preview", action="store_true", help="--stream: show the frames, skeleton and label")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="a sweep: N processes on its study (this one and N - 1 more)")
    p.add_argument("--deterministic", action="store_true",
                   help="deterministic kernels only: with the same versions and threads, the same report.json")
    return p.parse_args(argv)


def resolve_pipeline(args) -> dict:
    import pipelines.chain  # noqa: F401  (registries)
    from pipelines.config import Resolver, load_overrides, load_yaml, parse_set_tokens

    path = Path(args.pipeline)
    raw = load_yaml(path)
    overrides = [kv for f in args.overrides for kv in load_overrides(f)] + parse_set_tokens(args.sets)
    _, cfg = Resolver().apply(raw, overrides)
    return cfg


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.deterministic:
            from common.reproducibility import set_deterministic
            set_deterministic(True)
        cfg = resolve_pipeline(args)
        work_dir = Path(args.work_dir) if args.work_dir else ROOT / "work_dirs" / Path(args.pipeline).stem
        from common.live import is_live

        if args.stream and args.input is None:
            raise InputError("--stream: give --input (a camera index, a stream URL or a video file)")
        if (args.hop != 0.5 or args.preview) and not args.stream:
            raise InputError("--hop and --preview go with --stream")
        if args.input is not None and not Path(args.input).exists():
            if not is_live(args.input):
                raise InputError(f"--input {args.input}: file or folder not found")
            if not args.stream:
                raise InputError(f"--input {args.input}: a camera or stream URL is read live; add --stream")
        if args.workers != 1 and cfg.get("sweep") is None:
            raise InputError("--workers: for a pipeline with a sweep section; a single training spreads over "
                             "processes with torchrun (docs/deployment.md)")
        if cfg.get("sweep") is not None:  # a study instead of a single run (pipelines/sweep.py)
            from pipelines.sweep import main as sweep_main
            sweep_main(args, cfg, work_dir)
        elif args.stream:
            from pipelines.runner import run_live
            run_live(cfg, work_dir, args.input, args.hop, args.preview)
        else:
            from pipelines.runner import run
            run(cfg, work_dir, video=args.input)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from common.distributed import exit_process

    warnings.filterwarnings("ignore", category=UserWarning, module="mmengine")
    exit_process(main())
