"""report.json, report.md and the figures of a run (a 3D skeleton of a test sample, the confusion matrix, an
overlay video of the detected 2D skeleton on a test clip, training curves)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np

from common import plots
from common.io import write_json, write_text

_FMT = {"pck": "{:.1%}", "top1": "{:.1%}", "top1_single_clip": "{:.1%}", "fps": "{:.1f}", "fps_action": "{:.1f}",
        "pck3d_150mm": "{:.1%}"}


def write_figures(work_dir: Path, report: dict, examples: List[dict], sheet: List[dict] = ()) -> Dict[str, str]:
    figs: Dict[str, str] = {}
    if sheet:  # stage 1 on annotated people: prediction (skeleton) against annotation (white dots)
        sec = report.get("stage1_2d", {})
        figs["detections"] = str(plots.plot_detections(
            sheet, work_dir / "detections.png",
            title=f"stage1_2d: detected skeleton, annotated joints (white); "
                  f"PCK@0.2 {sec.get('pck', float('nan')):.1%}"))
    if examples:
        ex = examples[0]
        s, out = ex["sample"], ex.get("chain", {})
        if "stage2_lift" in out and s.joints3d is not None:
            gt = np.asarray(s.joints3d) - np.asarray(s.joints3d)[:, :1]
            t = s.n_frames // 2
            figs["skeleton3d"] = str(plots.plot_skeleton3d(
                [out["stage2_lift"].joints[0, t], gt[t]], s.layout, work_dir / "skeleton3d.png",
                title=f"{s.name} frame {t}: chain (left) vs ground truth"))
        if ex.get("encoded_clip") is not None:
            figs["encoded_clip"] = str(plots.plot_encoded_clip(
                ex["encoded_clip"], work_dir / "encoded_clip.png",
                title=f"{s.name}: the classifier's input (middle clip)"))
        if "stage1_2d" in out and ex.get("frames") is not None and not sheet:
            p2 = out["stage1_2d"]
            figs["overlay"] = str(plots.write_overlay_video(ex["frames"], p2.keypoints[0], p2.layout,
                                                            work_dir / "overlay.mp4", s.fps, p2.scores[0]))
    for key in ("stage3_action", "end_to_end"):
        sec = report.get(key, {})
        if "confusion_matrix" in sec:
            labels = report["stage3_action"]["labels"]
            figs[f"confusion_{key}"] = str(plots.plot_confusion(
                np.asarray(sec["confusion_matrix"]), labels, work_dir / f"confusion_{key}.png",
                title=f"{key}: top-1 {sec['top1']:.1%}"))
    for name, info in report.get("train", {}).items():
        curves = {k: v for k, v in info.items() if isinstance(v, list) and v and k != "loss"}
        if info.get("loss"):
            figs[f"train_{name}"] = str(plots.plot_curves({"loss": info["loss"], **curves},
                                                          work_dir / f"train_{name}.png", "epoch", "value"))
    return figs


def _fmt(k, v):
    if isinstance(v, float):
        return _FMT.get(k, "{:.1f}" if k.endswith("_mm") else "{:.4g}").format(v)
    return str(v)


def render_markdown(report: dict, cfg: dict) -> str:
    lines = ["# Run report", ""]
    if "stages" in cfg:
        lines.append("Chain: " + " -> ".join(f"{n} `{c['type']}`" for n, c in cfg["stages"].items()))
        lines.append("")
    for sec in ("stage1_2d", "stage2_lift", "stage3_action", "end_to_end"):
        if sec not in report:
            continue
        lines += [f"## {sec}", "", "| metric | value |", "|---|---|"]
        for k, v in report[sec].items():
            if isinstance(v, (int, float, str)):
                lines.append(f"| {k} | {_fmt(k, v)} |")
        lines.append("")
    if "joint" in report:
        j = report["joint"]
        lines += ["## joint", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(k, v)} |" for k, v in j.items() if isinstance(v, (int, float, str))]
        cols = ["block", "pyramid", "level", "pck", "mpjpe_mm", "p_mpjpe_mm", "top1", "fps", "fps_action"]
        lines += ["", "Cut after each prediction block (fps: pose on batches of 16 frames; fps_action: pose and "
                  "action on one clip of 8 frames):", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join("-" if r.get(c) is None else _fmt(c, r[c]) for c in cols) + " |"
                  for r in j["per_block"]]
        lines.append("")
    if report.get("train"):
        lines += ["## Training", "", "| stage | cached | seconds |", "|---|---|---|"]
        for k, v in report["train"].items():
            lines.append(f"| {k} | {v.get('cached', '-')} | {_fmt('s', v.get('train_seconds', float('nan')))} |")
        lines.append("")
    if report.get("figures"):
        lines += ["## Figures", ""]
        for k, p in report["figures"].items():
            name = Path(p).name
            lines.append(f"![{k}]({name})" if name.endswith(".png") else f"- {k}: [{name}]({name})")
        lines.append("")
    return "\n".join(lines)


def write_report(work_dir: Path, report: dict, cfg: dict) -> None:
    write_json(work_dir / "report.json", report)
    write_text(work_dir / "report.md", render_markdown(report, cfg))
