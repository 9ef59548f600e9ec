"""Frames per second of the joint-mode network cut after each prediction block (Luvizon et al. 2021, section 4.5.4 and
Fig. 9): pose only on batches of 16 frames, pose and action on one clip of 8 frames; one command:

    python benchmarks/joint_speed.py [--device cpu|cuda] [--threads 2] [--repeats 5] [--scales default paper]

``default`` is the small network of ``pipelines/joint_multitask.yaml`` (128 x 128 crops, P = 2, L = 4);
``paper`` is the seed's full model (256 x 256, P = 8, L = 4, 288 + 96 l features, actions on pyramids 5-8,
N_v = 192), the one the paper times at "more than 100 frames per second" on a GTX 1080 Ti. Weights are random
(speed does not depend on them); the timing is the median of ``--repeats`` runs after a warm-up, as
``joint.evaluate.speed_per_cut`` does for a trained model's report. Results:
``benchmarks/results/joint_speed_<device>.{json,md}``.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import platform

import torch

from common.io import write_json, write_text
from joint import JOINT_DEFAULTS, build_network
from joint.evaluate import speed_per_cut

REPO = Path(__file__).resolve().parents[1]
SCALES = {
    "default": {},
    "paper": {"input_size": 256, "pyramids": 8, "levels": 4, "features": 288, "growth": 96, "width": 1.0,
              "action_pyramids": [5, 6, 7, 8], "n_pose_features": 192, "n_app_features": 192},
}


def measure(scale: str, device: str, repeats: int) -> dict:
    cfg = {**JOINT_DEFAULTS, **SCALES[scale]}
    torch.manual_seed(0)
    net = build_network(cfg, 17, 12).to(device).eval()
    per_cut = speed_per_cut(net, cfg["input_size"], device, repeats=repeats)
    for b, (rec, (p, level, kind)) in enumerate(zip(per_cut, net.blocks), 1):
        rec.update(block=b, pyramid=p, level=level, direction=kind)
    return {"scale": scale, "input_size": cfg["input_size"], "pyramids": cfg["pyramids"],
            "n_parameters": int(sum(p.numel() for p in net.parameters())), "per_cut": per_cut}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--scales", nargs="+", choices=list(SCALES), default=list(SCALES))
    p.add_argument("--out", default=None, help="results path without suffix")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    where = (torch.cuda.get_device_name(0) if a.device == "cuda"
             else f"{platform.processor() or 'CPU'}, {a.threads} threads")
    results = [measure(s, a.device, a.repeats) for s in a.scales]
    lines = [f"# Joint mode: frames per second per cut ({where}; median of {a.repeats})", "",
             "pose: batches of 16 frames, pose layers only; action: one clip of 8 frames, pose and action layers.", ""]
    for r in results:
        lines += [f"## {r['scale']}: {r['input_size']} x {r['input_size']}, P = {r['pyramids']}, "
                  f"{r['n_parameters'] / 1e6:.1f} M parameters", "",
                  "| cut after block | pyramid | level | pose frames/s | action frames/s |", "|---|---|---|---|---|"]
        for c in r["per_cut"]:
            act = "-" if c["fps_action"] is None else f"{c['fps_action']:.1f}"
            lines.append(f"| {c['block']} | {c['pyramid']} | {c['level']} | {c['fps']:.1f} | {act} |")
        lines.append("")
    out = Path(a.out) if a.out else REPO / "benchmarks" / "results" / f"joint_speed_{a.device}"
    write_json(out.with_suffix(".json"), {"device": where, "repeats": a.repeats, "results": results})
    write_text(out.with_suffix(".md"), "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
