"""Stage 1 on crowded real video: every person found, tracked and labelled; with RTMPose-t's speed beside it.

    python benchmarks/multi_person.py [--coco FILE ...] [--mpii FILE ...] [--ntu DIR] [--people 1 3]
                                      [--skip-recall] [--skip-video] [--threads 2] [--omp-wait-policy PASSIVE]
                                      [--set KEY=VALUE ...] [--out benchmarks/results/multi_person.md]

Three measurements, written to ``benchmarks/results/multi_person.{json,md}`` (and the three-person run's overlay
frame to ``benchmarks/results/figures/multi_person_overlay.png``):

1. **Recall of the person search on annotated images.** Every image of the shared COCO and MPII annotation
   files (``images/coco/test_coco.json``, ``images/mpii/test_mpii.json`` under :data:`common.paths.SHARED_DATA`;
   ``--coco`` / ``--mpii`` add more, a COCO-format file of another key-point set too) goes through the
   detector's person search as the pipeline runs it without boxes: ``MediaPipePose({"mode": "image"})
   .find_people(image, PoseLandmarker(...))`` (MediaPipe's multi-person landmarker on the whole image and, with
   ``search_windows``, on overlapping windows of two sizes). Each found person (33 MediaPipe landmarks) becomes
   ``h36m17``. An annotated person whose torso is labelled (both shoulders and both hips) is **found** when
   a detection's joints shared with the annotation (:func:`common.skeleton.shared_joints`) lie within
   0.5 x its torso size (the distance from the left shoulder to the right hip) in median distance; each
   detection matches one person at most (greedy, nearest pairs first). Reported per file, with
   ``search_windows`` true (the default) and false: people with a visible torso, found, recall, detections per
   image and seconds per image (the search alone, one call per image after one untimed call).
2. **Tracking on a real video of several people.** :func:`common.annotated.crowd_clip` puts N real people
   (``--people``, default 1 and 3) side by side in a 640 x 480 video made from the Kinect-annotated NTU clip
   (``--ntu``, default the shared ``ntu`` folder: its first clip), each person's columns started at another
   moment and every second person mirrored. The video is written as mp4v at the clip's frame rate and run end
   to end in its own process as a user would: ``python pipelines/run.py pipelines/rgb_to_action_real.yaml
   --input VIDEO --work-dir DIR`` (``DIR`` = ``work_dirs/multi_person/<N>_people``). Before the timed runs one
   warm-up run on the first 8 frames (its own work dir) loads or, if no checkpoint is cached, trains the lifter
   and the classifier, so the timed runs only load them; the warm-up's log lines about checkpoints are kept in
   the JSON. From ``pose2d.npz`` and ``action.json``, per ground-truth person (distances on the joints
   ``ntu25`` shares with ``h36m17``, in units of the person's torso size in that frame):

   - the **matched track**: the track nearest over the clip (mean over the frames where the person's torso is
     annotated of the median joint distance, capped at 1 torso; a frame where the track is absent counts 1);
   - **PCK@0.2**: the share of (frame, shared joint) pairs of that track within 0.2 x torso size of the
     annotation, over every frame with an annotated torso (frames where the track is absent count as misses);
   - **frames found**: frames where the matched track is within 0.5 torso (median distance);
   - **ID switches**: over the frames where some track is within 0.5 torso of the person, the times the
     nearest track changes from one such frame to the next;
   - the matched track's label (``action.json`` ``tracks``).

   Frames per second are the pipeline's own (``report.json`` ``fps``: decoding to the written answer).
3. **The peer, RTMPose-t** (mmpose's shipped config, built as :mod:`benchmarks.detector_fps` does, random
   weights: only its speed), timed as a top-down detector runs on the same 640 x 480 frames: per frame one
   ``MMPoseTopdown.infer_crops`` on N crops (the boxes of the N ground-truth people's annotated joints, padded
   1.25), frames/s = frames / seconds, median of 3 passes over the clip after one warm-up pass. It **excludes
   the person detector** a top-down model needs to find the boxes (mmdet's would cost more on top); ours
   includes everything from decoding the video to the action labels.

Targets (the issue): recall >= 90 %; >= 15 frames/s with one person and >= 8 with three, 640 x 480, 2 CPU
cores. The machine is shared: the load average before and after is in the header.

OpenMP: unless the environment sets ``OMP_WAIT_POLICY``, the script sets ``--omp-wait-policy`` (default
``PASSIVE``; ``runtime`` keeps the runtime's default) for itself and the pipeline runs. With the runtime's
spinning default and one other busy process on the 2 cores, RTMPose-t's per-frame calls went from 30 ms to
1.2-1.3 s on many frames (one pass over the 3-person clip: 5 to 57 s, measured while writing this); with
``PASSIVE`` every pass took 4.3-4.5 s (about 43 ms per frame, 3 crops). MediaPipe's TFLite/XNNPACK threads do
not use OpenMP.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import datetime
import json
import statistics
import subprocess
import tempfile
import time
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from common.io import write_json, write_text
from common.paths import shared
from common.skeleton import get_layout, shared_joints

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = "benchmarks/results/multi_person.md"
FIGURE = "benchmarks/results/figures/multi_person_overlay.png"
WORK = REPO / "work_dirs" / "multi_person"
PIPELINE = "pipelines/rgb_to_action_real.yaml"
DEFAULT_COCO = [("images", "coco", "test_coco.json")]
DEFAULT_MPII = [("images", "mpii", "test_mpii.json")]
FRAME_SIZE = (640, 480)  # (W, H)
#: a person is found when a detection lies within this many torso sizes (median over shared joints)
FOUND_RADIUS = 0.5
#: PCK threshold, in torso sizes
PCK_RADIUS = 0.2
TORSO = ("l_shoulder", "r_shoulder", "l_hip", "r_hip")
TARGETS = {"recall": 0.90, "fps_1": 15.0, "fps_3": 8.0}
WARMUP_FRAMES = 8


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- geometry
def torso_size(joints: np.ndarray, layout: str) -> np.ndarray:
    """Distance left shoulder - right hip of joints (..., J, 2) of ``layout``; NaN where any of the four torso
    joints is unlabelled (NaN)."""
    L = get_layout(layout)
    j = np.asarray(joints, np.float64)
    idx = [L[n] for n in TORSO]
    ok = np.all(np.isfinite(j[..., idx, :]), axis=(-1, -2))
    d = np.linalg.norm(j[..., L["l_shoulder"], :] - j[..., L["r_hip"], :], axis=-1)
    return np.where(ok & (d > 0), d, np.nan)


def median_distance(gt: np.ndarray, pred17: np.ndarray, layout: str) -> float:
    """Median distance (pixels) between one annotated person's joints (J, 2) of ``layout`` (NaN = unlabelled)
    and a detected person's h36m17 joints (17, 2), over the labelled joints they share; NaN when none."""
    p_idx, g_idx = shared_joints(layout)
    g = np.asarray(gt, np.float64)[g_idx]
    p = np.asarray(pred17, np.float64)[p_idx]
    ok = np.all(np.isfinite(g), -1) & np.all(np.isfinite(p), -1)
    return float(np.median(np.linalg.norm(g[ok] - p[ok], axis=-1))) if ok.any() else float("nan")


# ---------------------------------------------------------------------------------------------- 1. recall
def match_people(gts: Sequence[np.ndarray], layout: str, dets: Sequence[np.ndarray],
                 radius: float = FOUND_RADIUS) -> List[dict]:
    """One row per annotated person of an image (``gts``: (J, 2) each, NaN = unlabelled) against the image's
    detections (``dets``: h36m17 (17, 2) each): ``torso`` (True when all four torso joints are labelled; only
    those count), ``match`` (the detection's index, or -1), ``distance`` (its median distance in torso sizes).
    A pair counts within ``radius`` torso sizes; each detection matches one person at most, nearest pairs first."""
    rows = [{"torso": bool(np.isfinite(torso_size(g, layout))), "match": -1, "distance": None} for g in gts]
    pairs = []
    for i, g in enumerate(gts):
        if not rows[i]["torso"]:
            continue
        size = float(torso_size(g, layout))
        for k, d in enumerate(dets):
            r = median_distance(g, d, layout) / size
            if np.isfinite(r) and r <= radius:
                pairs.append((r, i, k))
    used = set()
    for r, i, k in sorted(pairs):
        if rows[i]["match"] < 0 and k not in used:
            rows[i]["match"], rows[i]["distance"] = k, float(r)
            used.add(k)
    return rows


def group_by_image(samples) -> List[list]:
    """Annotated people (one-frame samples named ``<image stem>#<id>``) grouped by image, in file order."""
    groups: Dict[str, list] = {}
    for s in samples:
        groups.setdefault(s.name.rsplit("#", 1)[0], []).append(s)
    return list(groups.values())


def to_h36m(lm: np.ndarray) -> np.ndarray:
    """A MediaPipe person (33, 3: x, y, visibility) as h36m17 joints (17, 2)."""
    from common.skeleton import to_h36m17

    return to_h36m17(lm[None, :, :2], "mediapipe33", lm[None, :, 2])[0][0]


def recall_of(images: List[list], search_windows: bool) -> dict:
    """The person search on every image of ``images`` (lists of one image's annotated people)."""
    from stage1_2d.landmarker import PoseLandmarker
    from stage1_2d.mediapipe_pose import MediaPipePose

    det = MediaPipePose({"mode": "image", "search_windows": search_windows})
    mark = PoseLandmarker(det.cfg["max_people"], "image", det.cfg["min_detection_confidence"])
    per_image, secs = [], []
    try:
        for k, people in enumerate(images):
            frame = people[0].load_frames()[0]
            if k == 0:
                det.find_people(frame, mark)  # untimed: the graph's first call
            t0 = time.perf_counter()
            found = det.find_people(frame, mark)
            secs.append(time.perf_counter() - t0)
            rows = match_people([s.joints2d[0] for s in people], people[0].layout, [to_h36m(lm) for lm in found])
            per_image.append({"image": people[0].name.rsplit("#", 1)[0], "annotated": len(people),
                              "with_torso": sum(r["torso"] for r in rows),
                              "found": sum(r["torso"] and r["match"] >= 0 for r in rows),
                              "detections": len(found), "seconds": secs[-1],
                              "people": [{"name": s.name, **r} for s, r in zip(people, rows)]})
    finally:
        mark.close()
    return summarise(per_image, search_windows)


def summarise(per_image: List[dict], search_windows: bool) -> dict:
    n = sum(r["with_torso"] for r in per_image)
    found = sum(r["found"] for r in per_image)
    return {"search_windows": search_windows, "images": len(per_image),
            "annotated": sum(r["annotated"] for r in per_image), "with_torso": n, "found": found,
            "recall": found / n if n else None,
            "detections_per_image": float(np.mean([r["detections"] for r in per_image])) if per_image else None,
            "seconds_per_image": float(np.mean([r["seconds"] for r in per_image])) if per_image else None,
            "per_image": per_image}


def annotation_sets(coco: Sequence[Path], mpii: Sequence[Path]) -> List[Tuple[str, list]]:
    """(name, samples) per annotation file that exists and reads."""
    from common.annotated import coco_people, mpii_people

    out = []
    for files, reader in ((coco, coco_people), (mpii, mpii_people)):
        for f in files:
            f = Path(f)
            if not f.is_file():
                log(f"  {f}: not found, skipped")
                continue
            try:
                out.append((f.stem, reader(f)))
            except Exception as e:
                log(f"  {f}: {type(e).__name__}: {e}; skipped")
    return out


def run_recall(coco, mpii) -> List[dict]:
    rows = []
    for name, samples in annotation_sets(coco, mpii):
        images = group_by_image(samples)
        for sw in (True, False):
            r = recall_of(images, sw)
            rows.append({"set": name, "layout": samples[0].layout, **r})
            rec = "-" if r["recall"] is None else f"{100 * r['recall']:.0f} %"
            log(f"  {name} (search_windows={sw}): {r['found']}/{r['with_torso']} found ({rec}), "
                f"{r['detections_per_image']:.1f} detections and {r['seconds_per_image']:.2f} s per image")
    return rows


# ---------------------------------------------------------------------------------------------- 2. tracking
def track_distances(gt: np.ndarray, gt_vis: np.ndarray, layout: str, kps: np.ndarray,
                    scores: np.ndarray) -> np.ndarray:
    """(N, P, T) median distance, in the ground-truth person's torso size of that frame, between each
    ground-truth person (``gt`` (N, T, J, 2) of ``layout``, ``gt_vis`` (N, T, J)) and each track (``kps``
    (P, T, 17, 2) h36m17, ``scores`` (P, T, 17)) over their shared joints; NaN where the person's torso is not
    annotated or the track is absent (all scores 0)."""
    p_idx, g_idx = shared_joints(layout)
    g = np.where(np.asarray(gt_vis, bool)[..., None], np.asarray(gt, np.float64), np.nan)
    size = torso_size(g, layout)  # (N, T)
    gs = g[:, :, g_idx]  # (N, T, S, 2)
    ps = np.asarray(kps, np.float64)[:, :, p_idx]  # (P, T, S, 2)
    d = np.linalg.norm(gs[:, None] - ps[None], axis=-1)  # (N, P, T, S), NaN where a joint is unlabelled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: nothing labelled in that frame
        med = np.nanmedian(d, axis=-1)
    present = np.asarray(scores).max(-1) > 0  # (P, T)
    out = med / size[:, None]  # NaN where the torso is not annotated
    out[:, ~present] = np.nan
    return out


def match_tracks(dist: np.ndarray, annotated: np.ndarray) -> List[int]:
    """Per ground-truth person, the track nearest over the clip (-1 without tracks): the mean over its
    ``annotated`` frames (N, T) of the distance capped at 1 torso, a frame without the track counting 1."""
    N, P, T = dist.shape
    out = []
    for n in range(N):
        frames = np.asarray(annotated[n], bool)
        if P == 0 or not frames.any():
            out.append(-1)
            continue
        cost = np.where(np.isfinite(dist[n][:, frames]), np.minimum(dist[n][:, frames], 1.0), 1.0).mean(1)
        out.append(int(np.argmin(cost)))
    return out


def id_switches(dist_n: np.ndarray, radius: float = FOUND_RADIUS) -> Tuple[int, List[int]]:
    """(switches, nearest track per frame, -1 where none) for one person's distances (P, T): over the frames
    where some track is within ``radius``, how often the nearest track changes from one such frame to the next."""
    P, T = dist_n.shape
    nearest = []
    for t in range(T):
        col = dist_n[:, t]
        ok = np.isfinite(col) & (col <= radius)
        nearest.append(int(np.argmin(np.where(ok, col, np.inf))) if ok.any() else -1)
    seen = [k for k in nearest if k >= 0]
    return int(sum(a != b for a, b in zip(seen, seen[1:]))), nearest


def pck(gt: np.ndarray, gt_vis: np.ndarray, layout: str, kps: np.ndarray, present: np.ndarray,
        radius: float = PCK_RADIUS) -> Optional[float]:
    """PCK@``radius`` of one track (``kps`` (T, 17, 2) h36m17, ``present`` (T,)) against one person (``gt``
    (T, J, 2), ``gt_vis`` (T, J)) on their shared joints, threshold ``radius`` x the torso size, over every frame
    with an annotated torso; joints of frames without the track are misses. None when nothing is annotated."""
    p_idx, g_idx = shared_joints(layout)
    g = np.where(np.asarray(gt_vis, bool)[..., None], np.asarray(gt, np.float64), np.nan)
    size = torso_size(g, layout)  # (T,)
    gs = g[:, g_idx]
    lab = np.all(np.isfinite(gs), -1) & np.isfinite(size)[:, None]  # (T, S)
    if not lab.any():
        return None
    d = np.linalg.norm(gs - np.asarray(kps, np.float64)[:, p_idx], axis=-1)
    with np.errstate(invalid="ignore"):
        hit = lab & np.asarray(present, bool)[:, None] & (d <= radius * size[:, None])
    return float(hit.sum() / lab.sum())


def score_video(gt: np.ndarray, gt_vis: np.ndarray, layout: str, kps: np.ndarray, scores: np.ndarray,
                tracks: Sequence[dict] = ()) -> List[dict]:
    """Per ground-truth person: matched track, PCK, frames found, ID switches and the track's label (with the
    closest class, ``top5[0]``, which differs from it when the answer is "unknown")."""
    T = min(gt.shape[1], kps.shape[1])
    gt, gt_vis, kps, scores = gt[:, :T], gt_vis[:, :T], kps[:, :T], scores[:, :T]
    dist = track_distances(gt, gt_vis, layout, kps, scores)
    g = np.where(np.asarray(gt_vis, bool)[..., None], gt, np.nan)
    annotated = np.isfinite(torso_size(g, layout))  # (N, T)
    matched = match_tracks(dist, annotated)
    by_id = {int(t["id"]): t for t in tracks}
    rows = []
    for n, p in enumerate(matched):
        switches, nearest = id_switches(dist[n])
        row = {"person": n, "track": p, "frames_annotated": int(annotated[n].sum()),
               "frames_found": 0, "pck": 0.0 if annotated[n].any() else None, "id_switches": switches,
               "tracks_near": sorted({k for k in nearest if k >= 0}), "label": None, "probability": None,
               "closest": None}
        if p >= 0:
            d = dist[n, p]
            row["frames_found"] = int((np.isfinite(d) & (np.nan_to_num(d, nan=np.inf) <= FOUND_RADIUS)).sum())
            row["pck"] = pck(gt[n], gt_vis[n], layout, kps[p], scores[p].max(-1) > 0)
            if p in by_id:
                row["label"], row["probability"] = by_id[p].get("label"), by_id[p].get("probability")
                top = by_id[p].get("top5") or [{}]
                row["closest"] = top[0].get("label")
        rows.append(row)
    return rows


def write_video(frames: np.ndarray, path: Path, fps: float) -> Path:
    H, W = frames.shape[1:3]
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (W, H))
    for f in frames:
        w.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    w.release()
    return path


def run_pipeline(video: Path, work: Path, sets: Sequence[str] = ()) -> Tuple[dict, str]:
    """The real pipeline on ``video`` in its own process: (report.json, its log: stdout then stderr)."""
    cmd = [sys.executable, "pipelines/run.py", PIPELINE, "--input", str(video), "--work-dir", str(work),
           *(["--set", *sets] if sets else [])]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
    return json.loads((work / "report.json").read_text()), r.stdout + r.stderr


def checkpoint_lines(text: str) -> List[str]:
    """The pipeline's log lines saying a stage's checkpoint was loaded or trained."""
    return [ln.strip() for ln in text.splitlines()
            if ln.startswith("[run]") and any(k in ln for k in ("loaded from", "trained in", "saved"))]


def crop_boxes(gt: np.ndarray, gt_vis: np.ndarray, aspect: float):
    """Per frame, the N people's (center, scale) boxes from their annotated joints (padding 1.25)."""
    from common import crop as C

    N, T = gt.shape[:2]
    out = []
    for t in range(T):
        boxes = []
        for n in range(N):
            ok = np.asarray(gt_vis[n, t], bool) & np.all(np.isfinite(gt[n, t]), -1)
            pts = gt[n, t][ok] if ok.sum() >= 2 else gt[n][np.asarray(gt_vis[n], bool)]
            boxes.append(C.box_from_keypoints(pts, 1.25, aspect))
        out.append(boxes)
    return out


def time_rtmpose(det, frames: np.ndarray, gt: np.ndarray, gt_vis: np.ndarray, repeats: int = 3) -> dict:
    """RTMPose-t as a top-down detector on ``frames``: one ``infer_crops`` per frame on the N people's crops;
    frames/s of the median of ``repeats`` passes over the clip after one warm-up pass."""
    boxes = crop_boxes(gt, gt_vis, det.aspect)
    N = gt.shape[0]

    def one_pass():
        for f, bx in zip(frames, boxes):
            det.infer_crops(np.repeat(f[None], N, 0), [c for c, _ in bx], [s for _, s in bx])

    one_pass()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        one_pass()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {"crops_per_frame": N, "frames": len(frames), "seconds": times, "median_s": med,
            "fps": len(frames) / med, "ms_per_frame": 1000 * med / len(frames)}


def save_overlay_frame(overlay: Path, dst: Path) -> bool:
    cap = cv2.VideoCapture(str(overlay))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.set(cv2.CAP_PROP_POS_FRAMES, max(n // 2, 0))
    ok, frame = cap.read()
    cap.release()
    if not ok:
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    return bool(cv2.imwrite(str(dst), frame))


def run_videos(ntu: Path, people: Sequence[int], sets: Sequence[str], work_root: Path, threads: int,
               figure: Optional[Path]) -> dict:
    from benchmarks.detector_fps import build_topdown, rtmpose_t_config
    from common.annotated import crowd_clip, kinect_clips
    from common.handoff import Pose2DSeq

    sample = kinect_clips(ntu)[0]
    out = {"clip": sample.name, "fps_source": sample.fps, "rows": [], "warmup": None}
    rtm, rtm_error = None, None
    try:
        import torch
        torch.set_num_threads(threads)
        rtm = build_topdown(rtmpose_t_config())
    except Exception as e:
        rtm_error = f"{type(e).__name__}: {e}"
        log(f"  RTMPose-t unavailable: {rtm_error}")
    with tempfile.TemporaryDirectory(prefix="multi_person_") as tmp:
        for i, n in enumerate(people):
            frames, gt, vis, layout = crowd_clip(sample, people=n, size=FRAME_SIZE)
            video = write_video(frames, Path(tmp) / f"{sample.name}_{n}_people.mp4", sample.fps)
            if i == 0:  # load (or train, once) the lifter and the classifier outside the timed runs
                t0 = time.perf_counter()
                try:
                    _, err = run_pipeline(video, work_root / "warmup", [*sets, f"video.max_frames={WARMUP_FRAMES}"])
                    out["warmup"] = {"seconds": time.perf_counter() - t0, "log": checkpoint_lines(err)}
                except Exception as e:
                    out["warmup"] = {"seconds": time.perf_counter() - t0, "error": str(e)}
                log(f"  warm-up run: {out['warmup']['seconds']:.0f} s"
                    + (f", FAILED: {out['warmup']['error']}" if "error" in out["warmup"] else ""))
            row = {"people": n, "frames": len(frames), "size": list(FRAME_SIZE), "layout": layout}
            work = work_root / f"{n}_people"
            try:
                rep, err = run_pipeline(video, work, sets)
                seq = Pose2DSeq.load(work / "pose2d.npz")
                action = json.loads((work / "action.json").read_text())
                tracks = action.get("tracks", [])
                row.update({"fps": rep["fps"], "n_frames": rep["n_frames"], "seconds": rep.get("seconds"),
                            "tracks_found": len(tracks), "tracks_in_pose2d": int(seq.keypoints.shape[0]),
                            "tracks": [{**{k: t.get(k) for k in ("id", "frames", "label", "probability")},
                                        "closest": (t.get("top5") or [{}])[0].get("label")} for t in tracks],
                            "label": action.get("label"), "stage1_2d": rep.get("stage1_2d"),
                            "per_person": score_video(gt, vis, layout, seq.keypoints, seq.scores, tracks)})
                if figure is not None and n == max(people):
                    row["overlay_png"] = _rel(figure) if save_overlay_frame(work / "overlay.mp4", figure) else None
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {e}"
                log(f"  {n} people: pipeline FAILED: {row['error']}")
            if rtm is not None:
                try:
                    row["rtmpose_t"] = time_rtmpose(rtm, frames, gt, vis)
                except Exception as e:
                    row["rtmpose_t"] = {"error": f"{type(e).__name__}: {e}"}
            else:
                row["rtmpose_t"] = {"error": rtm_error}
            out["rows"].append(row)
            log_video_row(row)
    return out


def log_video_row(row: dict) -> None:
    if "error" not in row:
        pp = ", ".join(f"person {p['person']}: track {p['track']} PCK {_pct(p['pck'])} switches {p['id_switches']}"
                       for p in row["per_person"])
        log(f"  {row['people']} people: {row['tracks_found']} track(s), {row['fps']:.1f} frames/s end to end; {pp}")
    r = row.get("rtmpose_t", {})
    if "fps" in r:
        log(f"  {row['people']} people: RTMPose-t pose network {r['fps']:.1f} frames/s ({r['crops_per_frame']} crops)")


# ---------------------------------------------------------------------------------------------- report
def _rel(p: Path) -> str:
    p = Path(p)
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.0f} %"


def _num(v, digits=1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def markdown(res: dict) -> str:
    h = res["header"]
    v = h["versions"]
    lines = [f"# Stage 1 on crowded real video: people found, tracked and labelled ({h['date']})", "",
             f"- machine: {h['machine']}, {h['cpu_count']} CPUs; torch {v.get('torch', '-')} with {h['threads']} "
             f"thread(s) for RTMPose-t; load average {h['load_before']} before, {h['load_after']} after; "
             f"{h['wall_seconds']:.0f} s in all",
             f"- versions: mediapipe {v.get('mediapipe', '-')}, mmpose {v.get('mmpose', '-')}, OpenCV "
             f"{v.get('opencv', '-')}",
             f"- OpenMP wait policy (this process and the pipeline runs): {h.get('omp_wait_policy', '-')}",
             f"- command: `{h['command']}`",
             f"- targets: recall >= {100 * TARGETS['recall']:.0f} %; >= {TARGETS['fps_1']:.0f} frames/s with one "
             f"person, >= {TARGETS['fps_3']:.0f} with three (640x480, 2 CPU cores)", ""]
    rec = res.get("recall")
    if rec is not None:
        lines += ["## Person search on annotated images", "",
                  f"`MediaPipePose(mode=image).find_people`; found = a detection within {FOUND_RADIUS} torso "
                  "sizes (median over the shared joints), one person per detection; people with both shoulders "
                  "and both hips labelled only.", "",
                  "| set | layout | search windows | images | people (torso labelled) | found | recall | "
                  "detections / image | s / image |", "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in rec:
            ok = r["recall"] is not None and r["recall"] >= TARGETS["recall"]
            lines.append(f"| {r['set']} | {r['layout']} | {'yes' if r['search_windows'] else 'no'} | {r['images']} | "
                         f"{r['with_torso']} | {r['found']} | {_pct(r['recall'])}{' ✓' if ok else ''} | "
                         f"{_num(r['detections_per_image'])} | {_num(r['seconds_per_image'], 2)} |")
        tot = [r for r in rec if r["search_windows"]]
        n, f = sum(r["with_torso"] for r in tot), sum(r["found"] for r in tot)
        if n:
            met = "met" if f / n >= TARGETS["recall"] else "missed"
            lines += ["", f"All sets with search windows (the default): {f}/{n} found, recall {_pct(f / n)} "
                      f"(target >= {100 * TARGETS['recall']:.0f} %: {met})."]
        lines.append("")
    vid = res.get("video")
    if vid is not None:
        lines += ["## Videos of several real people", "",
                  f"`crowd_clip` of NTU clip {vid['clip']} ({vid['fps_source']:.0f} frames/s), 640x480, run through "
                  f"`{PIPELINE}` in its own process. Ours: frames/s end to end (decode, 2D, tracking, lifting, "
                  "action labels). RTMPose-t: its pose network alone (random weights), one `infer_crops` per frame on "
                  "the ground-truth people's crops, **without a person detector** (a top-down model needs one; "
                  "mmdet's would add its own cost).", "",
                  "| people | frames | tracks found | ours: frames/s end to end | target | "
                  "RTMPose-t pose network alone: frames/s | mean PCK@0.2 | ID switches | labels |",
                  "|---:|---:|---:|---:|---|---:|---:|---:|---|"]
        for r in vid["rows"]:
            target = TARGETS["fps_1"] if r["people"] == 1 else TARGETS["fps_3"]
            rt = r.get("rtmpose_t", {})
            rts = (f"{rt['fps']:.1f} ({rt['crops_per_frame']} crop(s)/frame)" if "fps" in rt
                   else f"failed: {rt.get('error')}")
            if "error" in r:
                lines.append(f"| {r['people']} | {r['frames']} | failed: {r['error'][:300]} | | >= {target:.0f} | "
                             f"{rts} | | | |")
                continue
            pcks = [p["pck"] for p in r["per_person"] if p["pck"] is not None]
            labels = ", ".join(f"{t['id']}: {t['label']}" + (f" (closest {t['closest']})" if t.get("closest") and
                                                              t["closest"] != t["label"] else "")
                               for t in r["tracks"]) or "-"
            met = "met" if r["fps"] >= target else "missed"
            lines.append(f"| {r['people']} | {r['frames']} | {r['tracks_found']} | {r['fps']:.1f} | >= {target:.0f} "
                         f"({met}) | {rts} | {_pct(float(np.mean(pcks)) if pcks else None)} | "
                         f"{sum(p['id_switches'] for p in r['per_person'])} | {labels} |")
        lines += ["", "### Per person", "",
                  "| people in video | person | matched track | frames found / annotated | PCK@0.2 | ID switches | "
                  "tracks near it | track label (probability) |", "|---:|---:|---:|---:|---:|---:|---|---|"]
        for r in vid["rows"]:
            for p in r.get("per_person", []):
                lab = "-" if p["label"] is None else f"{p['label']} ({_num(p['probability'], 2)})"
                if p.get("closest") and p["closest"] != p["label"]:
                    lab += f", closest class {p['closest']}"
                lines.append(f"| {r['people']} | {p['person']} | {p['track'] if p['track'] >= 0 else '-'} | "
                             f"{p['frames_found']} / {p['frames_annotated']} | {_pct(p['pck'])} | {p['id_switches']} | "
                             f"{', '.join(map(str, p['tracks_near'])) or '-'} | {lab} |")
        lines.append("")
    lines += ["## Notes", ""] + [f"- {n}" for n in notes(res)]
    return "\n".join(lines) + "\n"


def notes(res: dict) -> List[str]:
    out = []
    for r in res.get("recall") or []:
        missed = [q["name"] for i in r["per_image"] for q in i["people"] if q["torso"] and q["match"] < 0]
        if missed and r["search_windows"]:
            out.append(f"{r['set']}, search windows: missed {', '.join(missed)}")
    vid = res.get("video")
    if vid is not None:
        w = vid.get("warmup") or {}
        if "error" in w:
            out.append(f"warm-up run failed: {w['error'][:500]}")
        elif w:
            out.append(f"one warm-up run ({WARMUP_FRAMES} frames, {w['seconds']:.0f} s) came first: "
                       + ("; ".join(w.get("log", [])) or "no checkpoint lines logged"))
        for r in vid["rows"]:
            if r.get("overlay_png"):
                out.append(f"the {r['people']}-person run's overlay, middle frame: `{r['overlay_png']}`")
            info = ((r.get("stage1_2d") or {}).get("person") or {})
            if info:
                out.append(f"{r['people']} people: stage 1 saw at most {info.get('max_people', '-')} at once, "
                           f"{info.get('tracks_found', '-')} track(s), {info.get('frames_without_person', '-')} "
                           "frame(s) without anybody")
            if "error" not in r and r["people"] > 1 and r["tracks_found"] < r["people"]:
                out.append(f"{r['people']} people: only {r['tracks_found']} track(s) found; people without a track of "
                           "their own are matched to the nearest track anyway (their PCK shows it)")
    out += ["PCK@0.2: a joint is correct within 0.2 x the person's torso size (left shoulder to right hip) in that "
            "frame, on the 12 limb joints ntu25 shares with h36m17; frames where the matched track is absent count "
            "as misses. ID switches: changes of the nearest track (within 0.5 torso) between consecutive frames "
            "where the person is found.",
            "RTMPose-t frames/s exclude the person detector it needs and the rest of the chain (2D only), ours "
            "include decoding, person search and tracking, lifting and the action labels; RTMPose-t has random "
            "weights (speed only)."]
    return out


def versions() -> Dict[str, str]:
    from importlib import metadata

    out = {"opencv": cv2.__version__}
    for pkg in ("torch", "mmpose", "mediapipe"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--coco", nargs="*", type=Path, default=[], metavar="FILE",
                    help="COCO-format annotation files to add to the shared images/coco/test_coco.json")
    ap.add_argument("--mpii", nargs="*", type=Path, default=[], metavar="FILE",
                    help="MPII annotation files to add to the shared images/mpii/test_mpii.json")
    ap.add_argument("--ntu", type=Path, default=None, help="folder of NTU .skeleton files with their videos "
                    "(default: the shared ntu folder)")
    ap.add_argument("--people", type=int, nargs="+", default=[1, 3], help="people side by side per video")
    ap.add_argument("--skip-recall", action="store_true")
    ap.add_argument("--skip-video", action="store_true")
    ap.add_argument("--threads", type=int, default=2, help="torch threads for RTMPose-t")
    ap.add_argument("--omp-wait-policy", default="PASSIVE",
                    help="OMP_WAIT_POLICY when the environment sets none ('runtime': keep the runtime default)")
    ap.add_argument("--set", nargs="*", default=[], dest="sets", help="--set options for every pipeline run")
    ap.add_argument("--work-dir", type=Path, default=WORK, help="the pipeline runs' work dirs go under it")
    ap.add_argument("--out", default=DEFAULT_OUT, help="markdown report; the JSON goes beside it (.json)")
    a = ap.parse_args(argv)
    if any(n < 1 for n in a.people):
        raise SystemExit(f"--people: expected positive counts, got {a.people}")
    people = sorted(set(a.people))
    out = Path(a.out)
    out = out if out.is_absolute() else REPO / out
    figure = REPO / FIGURE if out == REPO / DEFAULT_OUT else out.parent / "figures" / f"{out.stem}_overlay.png"
    if "OMP_WAIT_POLICY" not in os.environ and a.omp_wait_policy.lower() != "runtime":
        if "torch" in sys.modules:
            log("  warning: torch is already imported; OMP_WAIT_POLICY may not take effect in this process")
        os.environ["OMP_WAIT_POLICY"] = a.omp_wait_policy
    from common.reproducibility import cpu_model  # imports torch: after the wait policy is set

    cv2.setNumThreads(a.threads)
    load_before = [round(x, 2) for x in os.getloadavg()]
    log(f"multi_person: {os.cpu_count()} CPUs, load average {load_before[0]}")
    t0 = time.perf_counter()
    res: dict = {}
    if not a.skip_recall:
        log("[1] person search recall on annotated images")
        coco = [shared(*p) for p in DEFAULT_COCO] + list(a.coco)
        mpii = [shared(*p) for p in DEFAULT_MPII] + list(a.mpii)
        res["recall"] = run_recall(coco, mpii)
    if not a.skip_video:
        log(f"[2] videos of {', '.join(map(str, people))} people through {PIPELINE}, RTMPose-t beside")
        res["video"] = run_videos(a.ntu or shared("ntu"), people, a.sets, a.work_dir, a.threads, figure)
    res["header"] = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": cpu_model(),
                     "cpu_count": os.cpu_count(), "threads": a.threads, "versions": versions(),
                     "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "runtime default"),
                     "load_before": load_before, "load_after": [round(x, 2) for x in os.getloadavg()],
                     "wall_seconds": round(time.perf_counter() - t0, 1), "targets": TARGETS,
                     "command": " ".join(["python benchmarks/multi_person.py",
                                          *(sys.argv[1:] if argv is None else argv)])}
    md = markdown(res)
    print(md)
    write_text(out, md)
    write_json(out.with_suffix(".json"), res)
    log(f"wrote {out} and {out.with_suffix('.json')} ({res['header']['wall_seconds']:.0f} s)")
    return res


if __name__ == "__main__":
    main()
