"""Figures and overlays: 3D skeletons, confusion matrices, training curves (matplotlib, drawn off-screen with
the Agg canvas, so no display is needed and pyplot's global backend is left alone) and 2D skeletons drawn on
frames and videos (OpenCV). Every file is written to a temporary name first, then renamed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Sequence

import cv2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .errors import InputError
from .io import atomic_path
from .skeleton import Layout, get_layout

__all__ = ["plot_skeleton3d", "plot_confusion", "draw_skeleton2d", "write_overlay_video", "plot_curves",
           "limb_sides", "plot_detections", "plot_speed_tradeoff", "plot_timeline"]

#: matplotlib colours of left limbs, right limbs and the centre line (VideoPose3D-like: right red)
SIDE_COLOURS = {"left": "tab:blue", "right": "tab:red", "centre": "0.25"}
#: the same as RGB tuples for OpenCV drawing on RGB images
SIDE_RGB = {"left": (40, 120, 255), "right": (255, 50, 50), "centre": (255, 210, 0)}
#: one colour per tracked person (RGB; person ``p`` gets ``TRACK_RGB[p % len]``), far from each other in hue
TRACK_RGB = ((255, 210, 0), (0, 200, 255), (255, 60, 200), (60, 255, 90), (255, 120, 30), (150, 90, 255),
             (255, 255, 255), (0, 140, 90))


def _layout(layout) -> Layout:
    return get_layout(layout) if isinstance(layout, str) else layout


def limb_sides(layout) -> list:
    """``[(parent, child, side)]`` per edge; ``side`` is ``left``/``right`` from the child's flip pair, or
    ``centre``."""
    L = _layout(layout)
    side = {}
    for a, b in L.flip_pairs:          # the pair's order follows the joint order, so read the side off the name
        n = L.names[a].lower()
        left = n.startswith(("l_", "left")) or n.endswith(("_l", "_left"))
        side[a], side[b] = ("left", "right") if left else ("right", "left")
    return [(p, c, side.get(c, "centre")) for p, c in L.edges]


def _save(fig: Figure, path) -> Path:
    FigureCanvasAgg(fig)
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    return Path(path)


# ---------------------------------------------------------------- matplotlib figures
def plot_skeleton3d(joints, layout, path, title: str | None = None) -> Path:
    """Save a PNG of one 3D skeleton ``(J, 3)`` or of several side by side (a list, e.g. prediction and truth).

    Joints are in the camera frame (x right, y down, z forward); they are drawn with up pointing up
    (plot axes: x, depth z, up -y), with equal aspect and the same extent in every panel, each centred on its pose.
    """
    L = _layout(layout)
    poses = [np.asarray(j, dtype=np.float64) for j in (joints if isinstance(joints, (list, tuple)) else [joints])]
    for i, p in enumerate(poses):
        if p.shape != (L.n_joints, 3):
            raise InputError(f"joints[{i}]: expected shape ({L.n_joints}, 3) for layout {L.name}, got {p.shape}")
    view = [np.stack([p[:, 0], p[:, 2], -p[:, 1]], axis=1) for p in poses]        # (x, depth, up)
    half = max(max(np.nanmax(np.nanmax(v, 0) - np.nanmin(v, 0)) for v in view) / 2, 1e-3) * 1.1
    fig = Figure(figsize=(4 * len(view), 4.4))
    for k, v in enumerate(view):
        ax = fig.add_subplot(1, len(view), k + 1, projection="3d")
        for p, c, side in limb_sides(L):
            ax.plot(*v[[p, c]].T, color=SIDE_COLOURS[side], lw=2.5)
        ax.scatter(*v.T, s=8, color="k", depthshade=False)
        mid = (np.nanmax(v, 0) + np.nanmin(v, 0)) / 2
        for axis, m in zip("xyz", mid):
            getattr(ax, f"set_{axis}lim")(m - half, m + half)
        ax.set_box_aspect((1, 1, 1))
        ax.set_xlabel("x (right)")
        ax.set_ylabel("z (forward)")
        ax.set_zlabel("up (-y)")
        ax.view_init(elev=15, azim=-70)
        if len(view) > 1:
            ax.set_title(f"#{k}")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_confusion(cm, labels: Sequence[str], path, title: str | None = None) -> Path:
    """Save a confusion matrix (rows = true classes) coloured by row-normalised rate and annotated with counts."""
    cm = np.asarray(cm)
    n = len(labels)
    if cm.shape != (n, n):
        raise InputError(f"cm: expected shape ({n}, {n}) for {n} labels, got {cm.shape}")
    rows = cm.sum(1, keepdims=True)
    rate = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    size = 2.5 + 0.45 * n
    fig = Figure(figsize=(size + 1, size))
    ax = fig.add_subplot()
    im = ax.imshow(rate, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{cm[i, j]:g}", ha="center", va="center", fontsize=8,
                    color="white" if rate[i, j] > 0.5 else "black")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_curves(curves: Dict[str, Sequence[float]], path, xlabel: str = "epoch", ylabel: str = "loss",
                title: str | None = None) -> Path:
    """Save training curves: one line per ``name -> values`` (x = 1, 2, ...)."""
    if not curves:
        raise InputError("curves: expected at least one name -> values entry, got none")
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for name, ys in curves.items():
        ys = np.asarray(ys, dtype=np.float64).reshape(-1)
        ax.plot(np.arange(1, len(ys) + 1), ys, marker="." if len(ys) < 50 else None, label=str(name))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_speed_tradeoff(per_block: Sequence[dict], path, title: str | None = None) -> Path:
    """Accuracy against speed of a network cut after each prediction block (Luvizon et al. 2021, Fig. 9): PCK and action
    top-1 against frames per second (pose: ``fps``; pose and action: ``fps_action``) and MPJPE against ``fps``;
    each point is labelled with its block number."""
    if not per_block:
        raise InputError("per_block: expected at least one block, got none")
    fig = Figure(figsize=(11, 4))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for ax, key, fps_key, label, colour in ((ax1, "pck", "fps", "2D PCK@0.2 (pose, batches of 16)", "tab:blue"),
                                            (ax1, "top1", "fps_action", "action top-1 (clips of 8)", "tab:red"),
                                            (ax2, "mpjpe_mm", "fps", "MPJPE mm (pose, batches of 16)", "tab:green")):
        pts = [(r[fps_key], r[key], r["block"]) for r in per_block
               if r.get(key) is not None and r.get(fps_key) is not None]
        if not pts:
            continue
        xs, ys, bs = zip(*pts)
        ax.plot(xs, ys, marker="o", color=colour, label=label)
        for x, y, b in pts:
            ax.annotate(str(b), (x, y), textcoords="offset points", xytext=(3, 3), fontsize=8)
    for ax, ylabel in ((ax1, "accuracy"), (ax2, "MPJPE (mm)")):
        ax.set_xlabel("frames per second")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_encoded_clip(img, path, title: str | None = None, axes=("rows", "columns")) -> Path:
    """Save a stage 3 encoded clip (C, H, W): a 3-channel image as RGB, otherwise one panel per channel; values
    are stretched to the image's range."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 3:
        raise InputError(f"encoded clip: expected (C, H, W), got shape {img.shape}")
    lo, hi = float(img.min()), float(img.max())
    norm = (img - lo) / max(hi - lo, 1e-9)
    panels = [norm.transpose(1, 2, 0)] if img.shape[0] == 3 else list(norm)
    fig = Figure(figsize=(3.2 * len(panels) + 0.5, 3.6))
    for k, p in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        ax.imshow(p, cmap=None if p.ndim == 3 else "coolwarm", aspect="auto", interpolation="nearest")
        ax.set_xlabel(axes[1])
        ax.set_ylabel(axes[0])
        if len(panels) > 1:
            ax.set_title(f"channel {k}")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_detections(items: Sequence[dict], path, cols: int = 6, title: str | None = None) -> Path:
    """A contact sheet of detected people: per item (``image`` (H, W, 3) uint8 RGB crop, ``pred`` (J, 2) and
    ``layout`` of the prediction, ``gt`` (K, 2) annotated points (NaN = not annotated), ``label``) the predicted
    skeleton drawn on the crop, the annotated points as white dots joined to their predicted joint by
    ``pairs`` (list of (pred index, gt index)) lines, and the label underneath."""
    if not items:
        raise InputError("plot_detections: no items")
    cols = max(1, min(cols, len(items)))
    rows = -(-len(items) // cols)
    fig = Figure(figsize=(2.2 * cols, 2.5 * rows))
    for i, it in enumerate(items):
        ax = fig.add_subplot(rows, cols, i + 1)
        img = draw_skeleton2d(it["image"], it["pred"], it["layout"])
        gt, pred = np.asarray(it["gt"], float), np.asarray(it["pred"], float)
        for a, b in it.get("pairs", []):
            if np.all(np.isfinite(gt[b])):
                cv2.line(img, tuple(int(round(v)) for v in gt[b]), tuple(int(round(v)) for v in pred[a]),
                         (255, 255, 255), 1, cv2.LINE_AA)
        for q in gt[np.all(np.isfinite(gt), axis=1)]:
            cv2.circle(img, tuple(int(round(v)) for v in q), 3, (255, 255, 255), -1, cv2.LINE_AA)
            cv2.circle(img, tuple(int(round(v)) for v in q), 3, (0, 0, 0), 1, cv2.LINE_AA)
        ax.imshow(img)
        ax.set_title(it.get("label", ""), fontsize=7)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


# ---------------------------------------------------------------- OpenCV overlays
def draw_skeleton2d(image, kps, layout, scores=None, thr: float = 0.3, color=None, label: str | None = None
                    ) -> np.ndarray:
    """Return a copy of ``image`` (H, W, 3) uint8 RGB with the skeleton ``kps`` (J, 2) in pixels drawn on it.

    Left and right limbs get different colours (or all ``color``, one person's among several, with the
    left limbs' joints drawn hollow); joints with a score below ``thr`` (and limbs touching them) or with
    non-finite coordinates are skipped. ``label`` is written above the drawn joints, in ``color``.
    """
    L = _layout(layout)
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise InputError(f"image: expected (H, W, 3) uint8 RGB, got {img.dtype} {img.shape}")
    kps = np.asarray(kps, dtype=np.float64)
    if kps.shape != (L.n_joints, 2):
        raise InputError(f"kps: expected shape ({L.n_joints}, 2) for layout {L.name}, got {kps.shape}")
    ok = np.all(np.isfinite(kps), axis=1)
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.shape != (L.n_joints,):
            raise InputError(f"scores: expected {L.n_joints} values, got shape {scores.shape}")
        ok &= scores >= thr
    out = np.ascontiguousarray(img).copy()
    t = max(1, round(min(img.shape[:2]) / 160))
    pts = np.round(np.where(ok[:, None], kps, 0)).astype(np.int64)
    sides = {}
    for p, c, side in limb_sides(L):
        sides.setdefault(c, side)
        if ok[p] and ok[c]:
            cv2.line(out, tuple(map(int, pts[p])), tuple(map(int, pts[c])), color or SIDE_RGB[side], t + 1,
                     cv2.LINE_AA)
    for j in np.flatnonzero(ok):
        side = sides.get(j, "centre")
        fill = 1 if color is not None and side == "left" else -1
        cv2.circle(out, tuple(map(int, pts[j])), t + 2, color or SIDE_RGB[side], fill, cv2.LINE_AA)
    if label and ok.any():
        scale = max(0.4, min(img.shape[:2]) / 600)
        width = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, int(2 * scale)))[0][0]
        x, y = int(pts[ok, 0].min()), int(pts[ok, 1].min()) - 6
        org = (max(0, min(x, img.shape[1] - width - 2)), max(int(14 * scale) + 2, y))
        cv2.putText(out, label, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), max(1, int(2 * scale)) + 2,
                    cv2.LINE_AA)
        cv2.putText(out, label, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color or (255, 255, 255),
                    max(1, int(2 * scale)), cv2.LINE_AA)
    return out


def caption(image, text: str) -> np.ndarray:
    """``image`` with ``text`` in white on a dark band along its top edge."""
    out = np.ascontiguousarray(image).copy()
    h, w = out.shape[:2]
    scale = max(0.4, w / 900)
    band = int(28 * scale) + 6
    out[:band] = (out[:band].astype(np.float32) * 0.35).astype(out.dtype)
    cv2.putText(out, text, (6, band - 8), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), max(1, int(2 * scale)),
                cv2.LINE_AA)
    return out


def write_overlay_video(frames, keypoints, layout, path, fps: float, scores=None, captions=None,
                        labels=None) -> Path:
    """Write an .mp4 (fourcc ``mp4v``) of ``frames`` (T, H, W, 3) uint8 RGB with the 2D skeletons ``keypoints``
    (T, J, 2) drawn on them (``scores`` (T, J) optional, see :func:`draw_skeleton2d`) and, optionally, one
    caption per frame (the action at that time, say) on top.

    Several people: ``keypoints`` (P, T, J, 2) and ``scores`` (P, T, J); person ``p`` is drawn in
    ``TRACK_RGB[p]`` with ``labels[p][t]`` (its id and action, say) above it, and not drawn in frames where
    all its scores are 0 (not seen)."""
    kps = np.asarray(keypoints, dtype=np.float64)
    if kps.ndim == 4:
        if scores is None or np.shape(scores) != kps.shape[:3]:
            raise InputError(f"scores: expected shape {kps.shape[:3]} for {kps.shape[0]} people, got "
                             f"{None if scores is None else np.shape(scores)}")
        if labels is not None and (len(labels) != len(kps) or any(len(lb) != kps.shape[1] for lb in labels)):
            raise InputError(f"labels: expected {kps.shape[0]} lists of {kps.shape[1]} strings")
    else:
        kps, scores = kps[None], None if scores is None else np.asarray(scores)[None]
    if len(frames) == 0 or len(frames) != kps.shape[1]:
        raise InputError(f"keypoints: expected one (J, 2) array per frame for {len(frames)} frames, "
                         f"got shape {kps.shape}")
    if scores is not None and scores.shape[1] != kps.shape[1]:
        raise InputError(f"scores: expected {kps.shape[1]} rows (one per frame), got {scores.shape[1]}")
    several = kps.shape[0] > 1 or labels is not None
    if not float(fps) > 0:
        raise InputError(f"fps: expected > 0, got {fps}")
    h, w = np.asarray(frames[0]).shape[:2]
    with atomic_path(path, ".mp4") as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (int(w), int(h)))
        if not writer.isOpened():
            raise OSError(f"{path}: OpenCV could not open an mp4v video writer")
        try:
            for t, frame in enumerate(frames):
                if np.asarray(frame).shape[:2] != (h, w):
                    raise InputError(f"frames[{t}]: expected size {(h, w)} like frame 0, got {np.shape(frame)}")
                drawn = np.asarray(frame)
                for p in range(kps.shape[0]):
                    if several and not np.any(scores[p, t] > 0):
                        continue
                    drawn = draw_skeleton2d(drawn, kps[p, t], layout, None if scores is None else scores[p, t],
                                            color=TRACK_RGB[p % len(TRACK_RGB)] if several else None,
                                            label=None if labels is None else labels[p][t])
                if captions is not None:
                    drawn = caption(drawn, captions[t])
                writer.write(cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
        finally:
            writer.release()
    return Path(path)


def plot_timeline(stills: Sequence[tuple], segments: Sequence[dict], duration_s: float, path,
                  title: str | None = None) -> Path:
    """The labels of a video along its timeline: ``stills`` (``(time_s, RGB image)``, e.g. overlay frames) in a
    row above a strip of ``segments`` (``{start_s, end_s, label, probability}``), one colour per label and grey
    for ``unknown``; each still's time is marked on the strip."""
    if not segments:
        raise InputError("segments: nothing to draw")
    n = max(len(stills), 1)
    fig = Figure(figsize=(2.4 * n, 3.4 if stills else 1.4))
    grid = fig.add_gridspec(2 if stills else 1, n, height_ratios=[3, 1] if stills else [1], hspace=0.25)
    for i, (t, img) in enumerate(stills):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(img)
        ax.set_axis_off()
        ax.set_title(f"{t:.1f} s", fontsize=9)
    ax = fig.add_subplot(grid[-1, :])
    names = [s["label"] for s in segments]
    palette = {n_: f"C{k % 10}" for k, n_ in enumerate(dict.fromkeys(x for x in names if x != "unknown"))}
    for s in segments:
        colour = palette.get(s["label"], "0.7")
        ax.barh(0, s["end_s"] - s["start_s"], left=s["start_s"], height=0.8, color=colour, edgecolor="white")
        ax.text((s["start_s"] + s["end_s"]) / 2, 0, f"{s['label']}\n{s['probability']:.2f}", ha="center",
                va="center", fontsize=8, color="black" if s["label"] == "unknown" else "white", clip_on=True)
    for t, _ in stills:
        ax.axvline(t, color="black", linewidth=1, linestyle=":")
    ax.set_xlim(0, max(duration_s, segments[-1]["end_s"]))
    ax.set_yticks([])
    ax.set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    return _save(fig, path)
