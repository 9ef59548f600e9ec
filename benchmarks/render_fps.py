"""Rendering speed of the synthetic world: 256x256 frames per second on this machine, one process.

    python benchmarks/render_fps.py [--sequences 24] [--out work_dirs/benchmarks/render_fps.json]

Columns: ``draw`` (painting the person over a ready background), ``render`` (everything a sequence needs but
the JPEG encoding: motion, camera, visibility, background, drawing) and ``render+jpeg`` (what the dataset
builder does per sequence, before writing the file).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import platform
import time

import numpy as np

from common.synth import render, world
from common.synth.body import sample_body
from common.synth.motion import animate


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sequences", type=int, default=24, help="sequences per measurement (32 frames each)")
    ap.add_argument("--image-size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3, help="timings per row; the best is reported")
    ap.add_argument("--out", default="work_dirs/benchmarks/render_fps.json")
    args = ap.parse_args(argv)
    cfg = world.resolve_cfg({"image_size": args.image_size, "per_class": {"train": 1 + args.sequences // 12}})
    specs = [s for s in world.plan(cfg) if s["split"] == "train"][: args.sequences]
    n_frames = len(specs) * cfg["frames"]
    world.make_sequence(cfg, specs[0])                         # warm-up (imports, camera file)

    # draw only: primitives and backgrounds prepared beforehand
    prepared = []
    for spec in specs:
        rng = np.random.default_rng(spec["index"])
        body, app = sample_body(rng), render.sample_appearance(rng)
        X, G, _ = animate(world.ACTIONS[spec["action"]], body, cfg["frames"], cfg["fps"], rng)
        cam = world.sample_camera(rng, X, cfg, 0.14)
        light = render.sample_lighting(rng)
        bg = render.render_background(cam, X[:, 0].mean(0), light, rng, 8.0)
        prepared.append((render.body_primitives(body, app, X, G, cam, light), bg,
                         render.shadow_polygons(X, body, cam)))

    def best(fn):
        """Best of ``--repeats`` timings: the least disturbed by other processes on the machine."""
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    pose_cfg = {**cfg, "render": False}
    t_draw = best(lambda: [render.render_frames(pr, bg, sh) for pr, bg, sh in prepared])
    t_render = best(lambda: [world.make_sequence(cfg, spec, encode=False) for spec in specs])
    t_full = best(lambda: [world.make_sequence(cfg, spec, encode=True) for spec in specs])
    t_pose = best(lambda: [world.make_sequence(pose_cfg, spec) for spec in specs])

    rows = {"draw": t_draw, "render": t_render, "render+jpeg": t_full, "poses only (no frames)": t_pose}
    result = {"image_size": args.image_size, "frames": n_frames, "machine": platform.processor() or platform.machine(),
              "cpu_count": os.cpu_count(), "processes": 1,
              "load_average": [round(x, 2) for x in os.getloadavg()], "repeats": args.repeats,
              "fps": {k: round(n_frames / v, 1) for k, v in rows.items()}}
    print(f"synthetic world, {n_frames} frames of {args.image_size}x{args.image_size}, one process, "
          f"best of {args.repeats} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"{'stage':<24}{'frames/s':>10}{'ms/frame':>10}")
    for k, v in rows.items():
        print(f"{k:<24}{n_frames / v:>10.1f}{1000 * v / n_frames:>10.2f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
