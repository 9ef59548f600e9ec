"""The headline numbers of the README: the main command, run deterministically, and its report.json as a table.

    python benchmarks/default_pipeline.py [--retrain] [--threads 2] [--work-dir work_dirs/rgb_to_action]
                                          [--out benchmarks/results/default_pipeline.md]
    make numbers      # this with --retrain, then benchmarks/embed_results.py (the README and docs/ take the table)

It runs ``pipelines/run.py pipelines/rgb_to_action.yaml --deterministic`` with ``--threads`` threads
(``OMP_NUM_THREADS`` and torch's), reading the cached checkpoints; ``--retrain`` trains every stage again in an
empty cache folder first (6-9 minutes in all on 2 cores), as a clean checkout does: with the same library
versions and thread count that run gives the same report.json values on any machine (``docs/deployment.md``,
"Same seed, same numbers"), whereas a cache may hold checkpoints trained under other threads. The table names
the checkpoints and the environment (``report.json``'s ``environment``) the numbers come from.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import subprocess
import tempfile

from common.io import write_json, write_text
from common.paths import REPO_ROOT

PIPELINE = "pipelines/rgb_to_action.yaml"


def run(args) -> dict:
    """report.json of the main command, run as ``args`` say."""
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    with tempfile.TemporaryDirectory() as cache:
        if args.retrain:
            env["HAR_CACHE_DIR"] = cache
        cmd = [sys.executable, "pipelines/run.py", PIPELINE, "--deterministic", "--work-dir", args.work_dir]
        print("[default_pipeline] " + " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=True)
    return json.loads((REPO_ROOT / args.work_dir / "report.json").read_text())


def markdown(r: dict, command: str) -> str:
    s1, s2, s3, e2e, env = r["stage1_2d"], r["stage2_lift"], r["stage3_action"], r["end_to_end"], r["environment"]
    types = r["config"]["stages"]
    ckpts = ", ".join(f"`{Path(t['checkpoint']).name}`" for t in r["train"].values() if t.get("checkpoint"))
    return "\n".join([
        "# The default pipeline's numbers", "",
        f"| section | result (synthetic test split: {e2e['n_clips']} clips of {len(s3['labels'])} classes, "
        f"{s1['n_frames']:,} frames) |",
        "|---|---|",
        f"| stage1_2d `{types['stage1_2d']}` | PCK@0.2 (torso) {s1['pck']:.3f}, {s1['fps']:.1f} frames/s |",
        f"| stage2_lift `{types['stage2_lift']}` (ground-truth 2D in) | MPJPE {s2['mpjpe_mm']:.1f} mm, P-MPJPE "
        f"{s2['p_mpjpe_mm']:.1f} mm, N-MPJPE {s2['n_mpjpe_mm']:.1f} mm; noisy 2D {s2['mpjpe_mm_noisy']:.1f} / "
        f"{s2['p_mpjpe_mm_noisy']:.1f} mm |",
        f"| stage3_action `{types['stage3_action']}` (ground-truth 3D in) | top-1 {s3['top1']:.3f} (chance "
        f"{1 / len(s3['labels']):.3f}) |",
        f"| end_to_end (frames -> action) | top-1 {e2e['top1']:.3f}, {e2e['fps']:.1f} frames/s; MPJPE of the "
        f"chain's 3D {e2e['mpjpe_mm']:.1f} mm |",
        "",
        f"`{command}`{' (`make numbers`)' if command.endswith('--retrain') else ''}: seed {env['seed']}, "
        f"deterministic {env['deterministic']}, "
        f"{env['torch_threads']} torch threads, {env['cpu_count']} CPUs ({env.get('cpu', 'processor not recorded')}"
        f"{', ' + env['cpu_capability'] if env.get('cpu_capability') else ''}), torch {env['versions'].get('torch')}, "
        f"numpy {env['versions'].get('numpy')}, mmpose {env['versions'].get('mmpose')}; checkpoints {ckpts}. "
        "Frames/s depend on the machine and its load; the accuracies on the versions, the threads and the "
        "processor (docs/deployment.md).",
    ]) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--retrain", action="store_true", help="train every stage again in an empty cache folder")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-run", action="store_true", help="only rewrite the table from the work dir's report.json")
    p.add_argument("--work-dir", default="work_dirs/rgb_to_action")
    p.add_argument("--out", default=str(REPO_ROOT / "benchmarks" / "results" / "default_pipeline.md"))
    args = p.parse_args(argv)
    report = json.loads((REPO_ROOT / args.work_dir / "report.json").read_text()) if args.no_run else run(args)
    given = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--no-run"]
    command = "python benchmarks/default_pipeline.py " + " ".join(given)
    out = Path(args.out)
    write_json(out.with_suffix(".json"), {k: report[k] for k in
                                          ("stage1_2d", "stage2_lift", "stage3_action", "end_to_end", "environment")}
               | {"command": command.strip()})
    write_text(out, markdown(report, command.strip()))
    print(f"[default_pipeline] wrote {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
