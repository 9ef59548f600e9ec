"""Penn Action (Zhang, Zhu, Derpanis, "From Actemes to Action: A Strongly-Supervised Representation for Detailed
Action Understanding", ICCV 2013) as :class:`~common.dataset.Sample` objects for action recognition from poses.

Each ``.mat`` file is one video of one person: 13 annotated 2D joints per frame (``penn13``), converted to
h36m17 (``common.skeleton.to_h36m17``); the annotated visibility becomes ``visible`` and, optionally, the
joints' scores (occluded joints are still annotated, so by default every annotated joint scores 1); there is
no 3D. The 15 action classes are those of the dataset, in alphabetical
order. The official train split is carved into training, ``val`` (model selection) and ``holdout`` (the
reported validation top-1) parts, stratified by class and deterministic for a seed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .dataset import Sample
from .errors import InputError
from .paths import files_under
from .progress import progress_bar
from .readers import read_penn_mat
from .skeleton import to_h36m17

PENN_ACTIONS = ("baseball_pitch", "baseball_swing", "bench_press", "bowl", "clean_and_jerk", "golf_swing",
                "jump_rope", "jumping_jacks", "pullup", "pushup", "situp", "squat", "strum_guitar",
                "tennis_forehand", "tennis_serve")
#: Penn Action videos are 30 frames per second
PENN_FPS = 30.0


def penn_sample(path, visibility_scores: bool = True) -> Sample:
    m = read_penn_mat(path)
    if m["action"] not in PENN_ACTIONS:
        raise InputError(f"{path}: field 'action': unknown class {m['action']!r}; known: {', '.join(PENN_ACTIONS)}")
    kp, vis = to_h36m17(m["keypoints"], "penn13", m["visibility"].astype(np.float64))
    sc = vis if visibility_scores else np.ones_like(vis)
    h, w = m["dimensions"][:2]
    return Sample(name=Path(path).stem, action=PENN_ACTIONS.index(m["action"]), subject=0, fps=PENN_FPS,
                  joints2d=kp.astype(np.float32), visible=vis > 0, joints3d=None, camera=None,
                  image_size=(int(w), int(h)), scores=sc.astype(np.float32), source=Path(path).name)


def penn_samples(folder, progress: bool = True, visibility_scores: bool = True) -> List[Sample]:
    files = files_under(folder, ".mat", "Penn Action")
    bar = progress_bar(files, desc=f"read {Path(folder).name}", unit="file", disable=not progress)
    return [penn_sample(f, visibility_scores) for f in bar]


def carve(samples: Sequence[Sample], fractions: Sequence[float], seed: int) -> Tuple[List[Sample], ...]:
    """Split ``samples`` into ``len(fractions) + 1`` parts, stratified by action: part ``i`` (``i`` >= 1) takes
    ``fractions[i-1]`` of each class (at least one sample where the class has more than one), part 0 the rest."""
    if sum(fractions) >= 1:
        raise InputError(f"data: split fractions {list(fractions)} must sum to less than 1")
    rng = np.random.default_rng(seed)
    parts: List[List[Sample]] = [[] for _ in range(len(fractions) + 1)]
    by_class: Dict[int, List[Sample]] = {}
    for s in samples:
        by_class.setdefault(s.action, []).append(s)
    for a in sorted(by_class):
        group = [by_class[a][i] for i in rng.permutation(len(by_class[a]))]
        start = 0
        for i, f in enumerate(fractions):
            n = int(round(f * len(group))) if len(group) > 1 else 0
            n = max(n, 1) if f > 0 and len(group) > len(fractions) else n
            parts[i + 1] += group[start:start + n]
            start += n
        parts[0] += group[start:]
    return tuple(sorted(p, key=lambda s: s.name) for p in parts)
