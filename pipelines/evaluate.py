"""Evaluation of every stage and of the chain on the held-out test split (``docs/interfaces.md``, report.json).

Each ``stageN`` section measures that stage on ground-truth input to it; ``end_to_end`` measures the chain,
each stage fed by the one before. ``fps`` = input frames per second, wall clock, from decoding to result.
"""
from __future__ import annotations

import time
from typing import Dict, List

import cv2
import numpy as np

from common import metrics
from common.errors import InputError
from common.handoff import Pose2DSeq
from common.noise import NOISY_EVAL, detector_noise
from common.progress import progress_bar
from common.skeleton import shared_joints

from .chain import Chain, gt_input_for, gt_pose2d


def _lift_errors(pred: np.ndarray, gt: np.ndarray) -> Dict[str, float]:
    return {"mpjpe_mm": 1000 * metrics.mpjpe(pred, gt), "p_mpjpe_mm": 1000 * metrics.p_mpjpe(pred, gt),
            "n_mpjpe_mm": 1000 * metrics.n_mpjpe(pred, gt)}


def _per_file(acc: dict) -> Dict[str, dict]:
    """Lifting errors grouped by ``Sample.source`` (all views of one file together)."""
    out: Dict[str, dict] = {}
    for src in dict.fromkeys(acc["l_source"]):
        idx = [i for i, s in enumerate(acc["l_source"]) if s == src]
        pred, gt, noisy = (np.concatenate([acc[k][i] for i in idx]) for k in ("l_pred", "l_gt", "l_noisy"))
        e = _lift_errors(pred, gt)
        e.update({f"{k}_noisy": v for k, v in _lift_errors(noisy, gt).items() if k != "n_mpjpe_mm"})
        out[str(src)] = {**e, "frames": int(len(pred))}
    return out


def detection_scores(p2: Pose2DSeq, s) -> Dict[str, object]:
    """Correct / counted joints of one sample: PCK@0.2 of the annotated torso (left shoulder - right hip) and,
    where the sample has head sizes, PCKh@0.5, on the joints the annotation's layout shares with the
    detector's (:func:`~common.skeleton.shared_joints`), annotated (visible) joints only. A frame whose torso
    is not annotated (a non-finite torso joint: :mod:`common.annotated` writes unlabelled joints as NaN) is
    not scored."""
    every = list(range(p2.keypoints.shape[2]))
    pred_idx, gt_idx = shared_joints(s.layout) if p2.layout != s.layout else (every, every)
    pred = p2.keypoints[0][:, pred_idx]
    gt, vis = np.asarray(s.joints2d, np.float64), np.asarray(s.visible, bool)
    torso = metrics.torso_size(gt, s.layout)
    known = np.isfinite(torso) & (torso > 0)
    gt, vis = gt[:, gt_idx], vis[:, gt_idx] & known[:, None] & np.all(np.isfinite(gt[:, gt_idx]), axis=-1)
    with np.errstate(invalid="ignore"):
        ok = np.linalg.norm(pred - gt, axis=-1) < 0.2 * torso[:, None]
    rec = {"name": s.name, "set": s.source, "given_box": s.boxes is not None, "frames": s.n_frames,
           "hits": int((ok & vis).sum()), "joints": int(vis.sum())}
    if s.head_sizes is not None:
        head = np.asarray(s.head_sizes, np.float64)
        with np.errstate(invalid="ignore"):
            rec["pckh_hits"] = int(((np.linalg.norm(pred - gt, axis=-1) < 0.5 * head[:, None]) & vis).sum())
    return rec


#: people drawn in the stage-1 contact sheet (detections.png) at most, and the side of each crop
SHEET_PEOPLE, SHEET_SIDE = 36, 192


def sheet_item(frame: np.ndarray, p2: Pose2DSeq, s, rec: dict) -> dict:
    """One person of the stage-1 contact sheet: the crop around its annotated box (grown by 1.3), the predicted
    skeleton and the annotated shared joints in crop pixels."""
    x, y, w, h = (float(v) for v in np.asarray(s.boxes[0]))
    side = max(w, h) * 1.3
    k = SHEET_SIDE / side
    M = np.array([[k, 0, SHEET_SIDE / 2 - k * (x + w / 2)], [0, k, SHEET_SIDE / 2 - k * (y + h / 2)]])
    crop = cv2.warpAffine(frame, M, (SHEET_SIDE, SHEET_SIDE), borderValue=(40, 40, 40))
    to_crop = lambda p: np.asarray(p, np.float64) @ M[:, :2].T + M[:, 2]  # noqa: E731
    pred_idx, gt_idx = shared_joints(s.layout) if p2.layout != s.layout else [list(range(17))] * 2
    gt = np.full((len(gt_idx), 2), np.nan)
    vis = np.asarray(s.visible[0], bool)[gt_idx]
    gt[vis] = to_crop(np.asarray(s.joints2d[0], np.float64)[gt_idx][vis])
    pck_txt = f"{rec['hits']}/{rec['joints']}" if rec["joints"] else "-"
    return {"image": crop, "pred": to_crop(p2.keypoints[0, 0]), "layout": p2.layout, "gt": gt,
            "pairs": list(zip(pred_idx, range(len(gt_idx)))), "label": f"{s.name} {pck_txt}"}


def stage1_section(recs: List[dict], fps: float) -> Dict[str, object]:
    """report.json's ``stage1_2d``: pooled over every counted joint, per set (``Sample.source``) and, for
    people cropped by an annotated box, per person."""
    def pooled(rs, key="hits"):
        n = sum(r["joints"] for r in rs)
        return sum(r[key] for r in rs) / n if n else float("nan")

    def section(rs):
        sec = {"pck": pooled(rs), "n_persons": len(rs), "n_frames": sum(r["frames"] for r in rs),
               "n_joints": sum(r["joints"] for r in rs)}
        with_head = [r for r in rs if "pckh_hits" in r]
        if with_head:
            sec["pckh"] = pooled(with_head, "pckh_hits")
            sec["n_persons_pckh"] = len(with_head)
        return sec

    out = {**section(recs), "fps": fps}
    sets = [k for k in dict.fromkeys(r["set"] for r in recs) if k is not None]
    if sets:
        out["per_set"] = {k: section([r for r in recs if r["set"] == k]) for k in sets}
    people = [r for r in recs if r["given_box"]]
    if people:
        out["per_person"] = [{"name": r["name"], "set": r["set"], "pck": pooled([r]), "joints": r["joints"]}
                             for r in people]
    return out


def evaluate(chain: Chain, samples: List, action_names: List[str], keep: int = 1) -> Dict[str, dict]:
    """Returns the report sections plus ``_examples``: the first ``keep`` samples' outputs for figures.

    Per sample: the chain from its first stage's real input (``end_to_end`` and ``stage1_2d``), the lifter on
    ground-truth 2D, clean and with :data:`~common.noise.NOISY_EVAL` noise (``stage2_lift``), and the classifier
    on ground-truth poses where the sample has them (``stage3_action``)."""
    parts = chain.parts
    acc = {"det": [], "sheet": [], "s1": 0.0, "l_pred": [], "l_gt": [], "l_noisy": [], "s2": 0.0, "s3": 0.0,
           "a_true": [], "a_multi": [], "a_single": [], "e2e_pred": [], "e2e_s": 0.0, "e2e_lift": [],
           "e2e_lift_gt": [], "l_source": [], "s3_input": "ground truth", "e2e_input": None, "e2e_clips": []}
    noise_rng = np.random.default_rng(NOISY_EVAL["seed"])
    examples = []
    for i, s in enumerate(progress_bar(samples, desc="evaluate", unit="clip")):
        frames, out = _run_chain(chain, s, acc)
        if "stage2_lift" in parts and s.joints3d is not None:  # 2D-only datasets (Penn Action) have no 3D
            _lift_ground_truth(parts["stage2_lift"], s, acc, noise_rng)
        inp = _classify(parts["stage3_action"], s, out, acc) if "stage3_action" in parts else None
        if i < keep:
            ex = {"sample": s, "frames": frames, "chain": out}
            if hasattr(parts.get("stage3_action"), "encoded_clip"):
                ex["encoded_clip"] = parts["stage3_action"].encoded_clip(inp)
            examples.append(ex)

    frames_total = sum(s.n_frames for s in samples)
    report: Dict[str, dict] = {}
    if acc["det"]:
        report["stage1_2d"] = stage1_section(acc["det"], frames_total / max(acc["s1"], 1e-9))
    if acc["l_pred"]:
        report["stage2_lift"] = _stage2_section(acc)
    if "stage3_action" in parts:
        report["stage3_action"] = {
            "top1": metrics.top1(acc["a_multi"], acc["a_true"]),
            "top1_single_clip": metrics.top1(acc["a_single"], acc["a_true"]),
            "labels": list(action_names),
            "confusion_matrix": metrics.confusion(acc["a_true"], acc["a_multi"], len(action_names)).tolist(),
            "n_clips": len(samples), "input": acc["s3_input"],
            "fps": frames_total / max(acc["s3"], 1e-9)}
    report["end_to_end"] = _end_to_end_section(acc, parts, len(samples), frames_total, len(action_names))
    report["_examples"] = examples
    report["_sheet"] = acc["sheet"]
    return report


def _run_chain(chain: Chain, s, acc: dict):
    """(frames, outputs) of the chain on sample ``s`` from its first stage's real input, timed from decoding;
    scores the detector's output against the annotation (unless the detection was simulated) and keeps the
    chain's 3D beside the ground truth."""
    parts = chain.parts
    t0 = time.perf_counter()
    frames = s.frames() if "stage1_2d" in parts and s.load_frames is not None else None
    t_decode = time.perf_counter() - t0
    # a frame-based detector on a dataset without frames is simulated: ground-truth 2D + NOISY_EVAL noise
    simulated = chain.simulated_detection(s, NOISY_EVAL["sigma_px"], NOISY_EVAL["drop_rate"])
    if simulated is not None:
        acc["e2e_input"] = "simulated detection (ground-truth 2D + noisy-2D noise)"
    elif "stage1_2d" in parts and frames is None:
        acc["e2e_input"] = "ground-truth 2D through the oracle detector"
    out = chain.run(frames, s.fps, sample=s, pose2d=simulated)
    acc["e2e_s"] += t_decode + sum(out["seconds"].values())
    if "stage1_2d" in parts and simulated is None:
        acc["det"].append(detection_scores(out["stage1_2d"], s))
        if s.boxes is not None and len(acc["sheet"]) < SHEET_PEOPLE:
            acc["sheet"].append(sheet_item(frames[0], out["stage1_2d"], s, acc["det"][-1]))
        acc["s1"] += t_decode + out["seconds"]["stage1_2d"]
    if "stage1_2d" in parts and "stage2_lift" in parts and s.joints3d is not None:
        acc["e2e_lift"].append(out["stage2_lift"].joints[0])
        acc["e2e_lift_gt"].append(_root_relative(s.joints3d))
    return frames, out


def _root_relative(joints3d) -> np.ndarray:
    return np.asarray(joints3d) - np.asarray(joints3d)[:, :1]


def _lift_ground_truth(lifter, s, acc: dict, noise_rng: np.random.Generator) -> None:
    """The lifter on sample ``s``'s ground-truth 2D, clean (timed) and with detector-like noise."""
    gt2 = gt_pose2d(s)
    t0 = time.perf_counter()
    p3 = lifter.predict(gt2, s)
    acc["s2"] += time.perf_counter() - t0
    kp_n, sc_n = detector_noise(gt2.keypoints, gt2.scores, NOISY_EVAL["sigma_px"], NOISY_EVAL["drop_rate"],
                                noise_rng)
    p3n = lifter.predict(Pose2DSeq(kp_n, sc_n, s.image_size, s.fps, s.layout), s)
    acc["l_pred"].append(p3.joints[0])
    acc["l_noisy"].append(p3n.joints[0])
    acc["l_gt"].append(_root_relative(s.joints3d))
    acc["l_source"].append(s.source)


def _classify(cls, s, out: dict, acc: dict):
    """The classifier on sample ``s``'s ground-truth poses (the lifter's output where there is no ground-truth
    3D), with every clip and with one; keeps the chain's label beside them. Returns the classifier's input."""
    inp = gt_input_for(cls, s)
    if inp is None:  # no ground-truth 3D: the classifier's input is the lifter's output
        if "stage2_lift" not in out:
            raise InputError(f"sample {s.name}: no 3D poses for a 3D classifier and no stage2_lift to "
                             "lift its 2D; add a lifter or set stages.stage3_action.input=2d")
        inp = out["stage2_lift"]
        acc["s3_input"] = "predicted by the upstream stages"
    kw = {}
    if cls.needs_pose2d:  # the 2D the lifter was given
        kw["pose2d"] = out["stage1_2d"] if "stage1_2d" in out else gt_pose2d(s)
    t0 = time.perf_counter()
    r = cls.predict(inp, s, **kw)
    acc["s3"] += time.perf_counter() - t0
    acc["a_true"].append(s.action)
    acc["a_multi"].append(r.index)
    acc["a_single"].append(cls.predict(inp, s, multi_clip=False, **kw).index)
    r_e2e = out["stage3_action"]
    acc["e2e_pred"].append(r_e2e.index)
    acc["e2e_clips"].append({"name": s.name, "true": int(s.action), "pred": r_e2e.index,
                             "probability": r_e2e.probability,
                             "distance": r_e2e.distance if np.isfinite(r_e2e.distance) else None})
    return inp


def _stage2_section(acc: dict) -> Dict[str, object]:
    pred, gt, noisy = (np.concatenate(acc[k]) for k in ("l_pred", "l_gt", "l_noisy"))
    sec = _lift_errors(pred, gt)
    sec.update({f"{k}_noisy": v for k, v in _lift_errors(noisy, gt).items() if k != "n_mpjpe_mm"})
    sec["velocity_error_mm"] = 1000 * float(np.mean([metrics.velocity_error(p, g)
                                                     for p, g in zip(acc["l_pred"], acc["l_gt"])]))
    sec["pck3d_150mm"] = metrics.pck3d(pred, gt)
    sec.update(n_frames=len(pred), fps=len(pred) / max(acc["s2"], 1e-9))
    if any(src is not None for src in acc["l_source"]):
        sec["per_file"] = _per_file(acc)
    return sec


def _end_to_end_section(acc: dict, parts: dict, n_clips: int, frames_total: int, n_classes: int):
    e2e = {"fps": frames_total / max(acc["e2e_s"], 1e-9), "n_clips": n_clips,
           "input": acc["e2e_input"] or ("frames" if "stage1_2d" in parts
                                         else "ground-truth 2D" if "stage2_lift" in parts
                                         else "ground-truth poses")}
    if "stage3_action" in parts:
        e2e["top1"] = metrics.top1(acc["e2e_pred"], acc["a_true"])
        e2e["confusion_matrix"] = metrics.confusion(acc["a_true"], acc["e2e_pred"], n_classes).tolist()
        e2e["per_clip"] = acc["e2e_clips"]  # class indices into stage3_action.labels; top probability
    if acc["e2e_lift"]:
        pred, gt = np.concatenate(acc["e2e_lift"]), np.concatenate(acc["e2e_lift_gt"])
        e2e.update(_lift_errors(pred, gt))
    return e2e
