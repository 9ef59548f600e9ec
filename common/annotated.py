"""Real images and videos with annotated 2D key-points, as :class:`~common.dataset.Sample` objects for
evaluating a 2D detector (``pipelines/detect2d_eval.yaml``).

Each annotated person is one sample of one frame in the annotation's own layout (``coco17``, ``mpii16``, or the
key-point set a COCO-format file names: ``posetrack18``, ``crowdpose14``, ``aic14``, ...), with
its annotated box in :attr:`~common.dataset.Sample.boxes` (the usual top-down protocol crops each person by
it; unlabelled joints are NaN, so a person whose torso is not annotated is not scored) and, for MPII files
that give head boxes, :attr:`~common.dataset.Sample.head_sizes` for PCKh. A video with
Kinect joints (an NTU ``.skeleton`` file beside its ``_rgb.avi``) is one sample of all its frames, without
boxes: the detector finds and follows the person itself.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .dataset import Sample
from .errors import InputError
from .paths import files_under
from .readers import read_coco_keypoints, read_mpii_json, read_ntu_skeleton
from .skeleton import NTU25, get_layout

#: MPII's ``scale`` is the person's height / 200 px
MPII_SCALE_PX = 200.0
#: MPII's head segment length: 0.6 x the head box diagonal (Andriluka et al. 2014)
MPII_HEAD_FACTOR = 0.6
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv")


def _image_loader(path: Path):
    def load() -> np.ndarray:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise InputError(f"{path}: not a readable image")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)[None]
    return load


def _unlabelled_nan(joints: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    """(1, J, 2) float32 joints with the unlabelled ones (COCO writes 0, 0; MPII -1, -1) set to NaN."""
    out = np.asarray(joints, np.float32).copy()
    out[~np.asarray(labelled, bool)] = np.nan
    return out[None]


def _image_path(image_dir: Path, name: str, json_path: Path) -> Path:
    p = image_dir / name
    if not p.is_file():
        raise InputError(f"{json_path}: image {name} not found in {image_dir} (set data.image_dir to the folder "
                         "holding the images)")
    return p


def _image_size(path: Path, known) -> tuple:
    """(width, height) as the annotation file gives it, else read from the image."""
    if known and known[0] > 0 and known[1] > 0:
        return int(known[0]), int(known[1])
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise InputError(f"{path}: not a readable image")
    return img.shape[1], img.shape[0]


def coco_people(json_path, image_dir: Optional[str] = None) -> List[Sample]:
    """One sample per COCO person annotation with at least one labelled key-point (crowd regions left out).

    The file may name any known key-point set (:func:`~common.readers.read_coco_keypoints`): the samples keep its
    layout, and their ``source`` (the set they are reported under) is ``coco`` for COCO's 17 key-points, else the
    layout's name (``posetrack18``, ``crowdpose14``, ...)."""
    json_path = Path(json_path)
    folder = Path(image_dir) if image_dir else json_path.parent
    out = []
    for p in read_coco_keypoints(json_path):
        if p["num_keypoints"] == 0 or p["iscrowd"] or p["bbox"][2] <= 1 or p["bbox"][3] <= 1:
            continue
        path = _image_path(folder, p["image"], json_path)
        vis = p["visibility"] > 0
        out.append(Sample(name=f"{Path(p['image']).stem}#{p['id']}", action=-1, subject=-1, fps=1.0,
                          joints2d=_unlabelled_nan(p["keypoints"], vis), visible=vis[None], joints3d=None,
                          camera=None, image_size=_image_size(path, (p["width"], p["height"])), layout=p["layout"],
                          load_frames=_image_loader(path), source="coco" if p["layout"] == "coco17" else p["layout"],
                          boxes=p["bbox"][None].astype(np.float64)))
    if not out:
        raise InputError(f"{json_path}: no annotated person with key-points")
    return out


def mpii_people(json_path, image_dir: Optional[str] = None) -> List[Sample]:
    """One sample per MPII person; the box is the square of side ``scale`` x 200 px about ``center``."""
    json_path = Path(json_path)
    folder = Path(image_dir) if image_dir else json_path.parent
    out = []
    for i, p in enumerate(read_mpii_json(json_path)):
        path = _image_path(folder, p["image"], json_path)
        side = p["scale"] * MPII_SCALE_PX
        if side <= 1:
            continue
        box = np.array([p["center"][0] - side / 2, p["center"][1] - side / 2, side, side])
        head = None
        if "head_box" in p:
            x1, y1, x2, y2 = p["head_box"]
            head = np.array([MPII_HEAD_FACTOR * np.hypot(x2 - x1, y2 - y1)])
        out.append(Sample(name=f"{Path(p['image']).stem}#{i}", action=-1, subject=-1, fps=1.0,
                          joints2d=_unlabelled_nan(p["joints"], p["visibility"] > 0),
                          visible=(p["visibility"] > 0)[None],
                          joints3d=None, camera=None, image_size=_image_size(path, None), layout="mpii16",
                          load_frames=_image_loader(path), source="mpii", boxes=box[None], head_sizes=head))
    if not out:
        raise InputError(f"{json_path}: no annotated person")
    return out


def kinect_clip(skeleton_path, video_path) -> Sample:
    """The body tracked longest in an NTU ``.skeleton`` file against its colour video.

    Kinect's colour stream is a mirror image (:func:`~common.readers.read_ntu_skeleton`): a detector reading
    the video sees a mirrored person, whose left side is the tracked body's right. The reference is therefore
    the colour-space joints with left and right exchanged, in the video's own pixels. Frames where the body is
    absent, and untracked joints (trackingState 0), do not count.
    """
    from .video import read_video, video_info

    d = read_ntu_skeleton(skeleton_path)
    if len(d["body_ids"]) == 0:
        raise InputError(f"{skeleton_path}: no tracked body")
    b = int(np.argmax(d["present"].sum(1)))
    info = video_info(video_path)
    if info["n_frames"] != d["n_frames"]:
        raise InputError(f"{video_path}: {info['n_frames']} frames, {skeleton_path} has {d['n_frames']}")
    flip = NTU25.flip_permutation
    joints = d["color"][b][:, flip].astype(np.float32)
    visible = (d["tracking"][b][:, flip] > 0) & d["present"][b][:, None]
    return Sample(name=Path(skeleton_path).stem, action=-1, subject=-1, fps=info["fps"], joints2d=joints,
                  visible=visible, joints3d=None, camera=None, image_size=(info["width"], info["height"]),
                  layout="ntu25", load_frames=lambda: read_video(video_path)[0], source="kinect")


def kinect_clips(folder) -> List[Sample]:
    """Every ``.skeleton`` file under ``folder`` that has a colour video beside it (``<stem>_rgb.avi``, or
    ``<stem>`` with a video suffix)."""
    out = []
    for sk in files_under(folder, ".skeleton", "NTU skeleton"):
        videos = [sk.with_name(sk.stem + tail + suf) for tail in ("_rgb", "") for suf in VIDEO_SUFFIXES]
        video = next((v for v in videos if v.is_file()), None)
        if video is not None:
            out.append(kinect_clip(sk, video))
    if not out:
        raise InputError(f"{folder}: no .skeleton file with its colour video beside it (<name>_rgb.avi)")
    return out


def crowd_clip(sample: Sample, people: int = 3, size=(640, 480)) -> Tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """A video of several real people with their annotated joints, made from a one-person annotated clip
    (:func:`kinect_clip`): ``people`` side-by-side columns of ``size``, each the crop of the clip around the
    person (the box of all its annotated joints over the clip, grown to the column's aspect), person ``k``
    started ``k / people`` of the clip later (wrapping round) and mirrored when ``k`` is odd, so the people
    move differently. Returns frames (T, H, W, 3) uint8 RGB, joints (people, T, J, 2) in the new pixels (left
    and right exchanged for mirrored people), visible (people, T, J) and the layout name."""
    W, H = (int(v) for v in size)
    if people < 1 or W < people * 16 or H < 16:
        raise InputError(f"crowd_clip: {people} people do not fit a {W}x{H} frame")
    frames = sample.frames()
    T = len(frames)
    gt = np.asarray(sample.joints2d, np.float64)
    vis = np.asarray(sample.visible, bool) & np.all(np.isfinite(gt), -1)
    if vis.sum() < 2:
        raise InputError(f"crowd_clip: {sample.name} has no annotated joints")
    lo, hi = gt[vis].min(0), gt[vis].max(0)
    col_w = W // people
    h_src = (hi[1] - lo[1]) * 1.25
    w_src = h_src * col_w / H
    cx, cy = (lo + hi) / 2
    x0, y0 = cx - w_src / 2, cy - h_src / 2
    s = H / h_src
    M = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]])
    flip = get_layout(sample.layout).flip_permutation
    out = np.zeros((T, H, W, 3), np.uint8)
    joints = np.zeros((people, T) + gt.shape[1:])
    seen = np.zeros((people, T, gt.shape[1]), bool)
    for k in range(people):
        order = (np.arange(T) + k * T // people) % T
        col = np.stack([cv2.warpAffine(frames[i], M, (col_w, H), flags=cv2.INTER_AREA,
                                       borderMode=cv2.BORDER_REPLICATE) for i in order])
        j = (gt[order] - [x0, y0]) * s
        v = vis[order]
        if k % 2:
            col, j, v = col[:, :, ::-1], j[:, flip], v[:, flip]
            j[..., 0] = col_w - 1 - j[..., 0]
        out[:, :, k * col_w:(k + 1) * col_w] = col
        joints[k], seen[k] = j + [k * col_w, 0], v
    return out, joints, seen, sample.layout
