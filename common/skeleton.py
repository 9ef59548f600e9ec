"""Skeleton layouts, each declared once: joint names and parents; edges and left/right flip pairs derived.

``h36m17`` is the canonical layout between stages. Left/right pairs are derived from joint names: a name
starting with ``l_``/``left_``/``L`` ... and its mirrored twin. Every layout here names its sided joints
``l_*``/``r_*`` after the PERSON's left and right.

Layouts: ``h36m17`` (Human3.6M), ``coco17`` (COCO keypoints), ``mpii16`` (MPII Human Pose), ``penn13``
(Penn Action), ``ntu25`` (Kinect v2 / NTU RGB+D), ``utd20`` (Kinect v1 / UTD-MHAD), ``mediapipe33``
(MediaPipe Pose landmarks), ``bandai22`` and ``cmu31`` (the BVH skeletons of the Bandai Namco Research Motion
dataset and of the cgspeed conversion of the CMU mocap database; ``common/bvh.py`` maps the file joint names onto
them), ``humaneva15`` (HumanEva-I's 15-joint evaluation skeleton as VideoPose3D stores it; ``common/videopose3d.py``
reads those files), and the key-point sets of COCO-format files: ``posetrack18`` (PoseTrack 2018), ``crowdpose14``
(CrowdPose), ``aic14`` (AI Challenger), ``halpe26`` (Halpe full-body's body and feet), ``halpe136`` (all of
Halpe full-body: body, feet, face, hands), ``coco_wholebody133`` (COCO-WholeBody);
:func:`common.keypoint_sets.layout_from_keypoint_names` finds the layout of a file's ``categories[].keypoints``.

Conversions to and from ``h36m17`` (:func:`to_h36m17`, :func:`from_h36m17`) work on ``(..., J, D)`` arrays,
``D`` = 2 (pixels) or 3, with optional scores ``(..., J)``. A target joint is either a joint of the source
(copied) or an affine combination of source joints (weights summing to 1, so it commutes with any rotation,
translation and scaling of the input); its score is the minimum of the scores used. Some joints list
fall-backs, used per element where the preferred sources have score 0. Joints that cannot be derived get
position 0 and score 0. The rules (``mid(a, b)`` is the midpoint, ``HEAD_K`` = 0.4):

* pelvis = mid-hips; thorax = mid-shoulders; spine = mid(pelvis, thorax) -- where the layout has no such joint.
  On the Human3.6M annotations the pelvis is exactly mid-hips; its thorax sits 4-8 cm (0.1-0.2 torso lengths)
  above mid-shoulders.
* neck (H36M joint 9, at the nose) = the nose (COCO, MediaPipe; fall-backs mid-ears, then mid-eyes), the head
  centre (Penn ``head``, Kinect ``head``), mid(upper_neck, head_top) (MPII).
* utd20 (Kinect v1): pelvis = mid-hips (Kinect's ``hip_center`` sits a few cm above the hip line), spine =
  ``spine``, thorax = ``shoulder_center``, neck = ``head`` (the head centre), head = the head-top rule below.
* head (top of the head) = head_top (MPII), or face + HEAD_K * (face - mid-shoulders) where ``face`` is the
  point used for the neck: on Human3.6M the head top is ~1.4x as far from mid-shoulders as joint 9.
* bandai22 / cmu31: pelvis = hips, thorax = the BVH ``neck`` joint (the level of the shoulders in both rigs;
  CMU's ``lowerneck`` sits ~9 cm lower because the conversion gives the thorax segment zero length), neck and
  head along the rig's neck -> head line: head = neck + a (head - neck), neck = mid(head joint, head)
  (a = 3.8 for Bandai, whose head joint is 6.5 cm above its neck and whose head top is put 0.18 m above the
  head joint; a = 2 for CMU, whose head end site is as far above the head joint as that is above the neck).
  Motion files do not use these two rules: :func:`common.bvh.load_bvh_h36m17` reads every rig, these two
  included, by the joint rules of :mod:`common.rig` (pelvis = mid-hips, thorax on the spine at shoulder level,
  the head top on the head's own axis: the CMU head end site, or 0.18 m along the Bandai head bone).
* humaneva15: limbs, pelvis, thorax and head (HumanEva's ``headDistal``, the top of the head) copied;
  spine = mid(pelvis, thorax); neck = mid(thorax, head): on the 4 annotated Human3.6M frames joint 9 projects
  to 0.46-0.52 of the way from the thorax to the head top (and lies 5-9 cm in front of that line, at the nose).
* posetrack18: pelvis, thorax, spine as COCO; neck = the nose (fall-back mid(head_bottom, head_top), MPII's rule:
  ``head_bottom`` is MPII's upper neck); head = head_top (fall-back the face rule from the nose).
* crowdpose14 / aic14: pelvis = mid-hips; thorax = the datasets' ``neck`` (the base of the neck, where both
  shoulders join it, as Kinect's ``spine_shoulder``; fall-back mid-shoulders); spine = mid(pelvis, thorax);
  head = head_top; neck = mid(thorax, head_top), the humaneva15 rule: these sets have no face point.
* halpe26: pelvis = ``mid_hip`` (Halpe's ``hip``), thorax = ``neck`` (the base of the neck), each falling back on
  the mid-hips / mid-shoulders; spine = mid(pelvis, thorax); neck and head as COCO (from the face), except that the
  annotated head top is the preferred head (and mid(neck, head_top) the last fall-back for the neck).
  halpe136 converts as halpe26 (its first 26 joints are Halpe-26's); face and hands are not used.
  coco_wholebody133 converts as coco17 (its first 17 joints are COCO's); feet, face and hands are not used.
* back to a layout (:func:`from_h36m17`): the inverse of the rules above where one exists (COCO/MediaPipe/Penn
  nose/head <- neck; MPII upper_neck and PoseTrack head_bottom = 2 neck - head; head_top <- head; CrowdPose, AIC
  and Halpe neck <- thorax, Halpe mid_hip <- pelvis; Kinect spine joints <- pelvis/spine/thorax, Kinect neck
  = mid(thorax, neck); HumanEva pelvis, thorax, head copied); eyes, ears, hands, feet, fingers, face get score 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import InputError


def _mirror(name: str):
    for a, b in (("l_", "r_"), ("left_", "right_"), ("Left", "Right")):
        if name.startswith(a):
            return b + name[len(a):]
        if name.startswith(b):
            return a + name[len(b):]
    for a, b in (("_l", "_r"), ("_left", "_right"), ("Left", "Right")):
        if name.endswith(a):
            return name[: -len(a)] + b
        if name.endswith(b):
            return name[: -len(b)] + a
    return None


@dataclass(frozen=True)
class Layout:
    """A skeleton layout: ``names[i]`` is joint ``i``; ``parents[i]`` its parent index (-1 for the root)."""

    name: str
    names: Tuple[str, ...]
    parents: Tuple[int, ...]
    index: Dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if len(self.names) != len(self.parents):
            raise ValueError(f"layout {self.name}: {len(self.names)} names but {len(self.parents)} parents")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"layout {self.name}: duplicate joint names")
        object.__setattr__(self, "index", {n: i for i, n in enumerate(self.names)})
        if sum(p == -1 for p in self.parents) != 1 or any(not -1 <= p < len(self.names) for p in self.parents):
            raise ValueError(f"layout {self.name}: parents must be joint indices with exactly one root (-1)")
        for j in range(len(self.names)):  # every joint reaches the root: no cycles
            k, steps = j, 0
            while self.parents[k] >= 0:
                k, steps = self.parents[k], steps + 1
                if steps > len(self.names):
                    raise ValueError(f"layout {self.name}: the parents of {self.names[j]!r} form a cycle")

    @property
    def n_joints(self) -> int:
        return len(self.names)

    @property
    def edges(self) -> List[Tuple[int, int]]:
        """(parent, child) pairs, one per non-root joint."""
        return [(p, c) for c, p in enumerate(self.parents) if p >= 0]

    @property
    def topo_order(self) -> List[int]:
        """Joint indices with every parent before its children (breadth first from the root)."""
        order = [self.parents.index(-1)]
        for j in order:
            order.extend(c for c, p in enumerate(self.parents) if p == j)
        return order

    @property
    def flip_pairs(self) -> List[Tuple[int, int]]:
        """Index pairs ``(i, j)``, ``i < j``, of joints whose names mirror each other (``l_x``/``r_x``)."""
        pairs = []
        for i, n in enumerate(self.names):
            m = _mirror(n)
            if m is not None and m in self.index and i < self.index[m]:
                pairs.append((i, self.index[m]))
        return pairs

    @property
    def flip_permutation(self) -> np.ndarray:
        """Index array that swaps left and right joints (apply after negating x)."""
        perm = np.arange(self.n_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def __getitem__(self, joint: str) -> int:
        return self.index[joint]


def _layout(name: str, joints: Sequence[Tuple[str, Optional[str]]]) -> Layout:
    """A layout from ``(joint, parent name or None)`` pairs in the dataset's order."""
    names = tuple(j for j, _ in joints)
    return Layout(name, names, tuple(-1 if p is None else names.index(p) for _, p in joints))


H36M17 = Layout(
    "h36m17",
    ("pelvis", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "spine", "thorax", "neck",
     "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist"),
    (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
)
"""Human3.6M 17 joints in the usual order; ``neck`` is the nose/neck-base joint of H36M (index 9), ``head``
the top of the head (index 10)."""

COCO17 = _layout("coco17", [
    ("nose", None), ("l_eye", "nose"), ("r_eye", "nose"), ("l_ear", "l_eye"), ("r_ear", "r_eye"),
    ("l_shoulder", "nose"), ("r_shoulder", "nose"), ("l_elbow", "l_shoulder"), ("r_elbow", "r_shoulder"),
    ("l_wrist", "l_elbow"), ("r_wrist", "r_elbow"), ("l_hip", "l_shoulder"), ("r_hip", "r_shoulder"),
    ("l_knee", "l_hip"), ("r_knee", "r_hip"), ("l_ankle", "l_knee"), ("r_ankle", "r_knee")])
"""COCO keypoints (Lin et al. 2014), the order of ``categories[0].keypoints`` in the COCO json."""

MPII16 = _layout("mpii16", [
    ("r_ankle", "r_knee"), ("r_knee", "r_hip"), ("r_hip", "pelvis"), ("l_hip", "pelvis"), ("l_knee", "l_hip"),
    ("l_ankle", "l_knee"), ("pelvis", None), ("thorax", "pelvis"), ("upper_neck", "thorax"),
    ("head_top", "upper_neck"), ("r_wrist", "r_elbow"), ("r_elbow", "r_shoulder"), ("r_shoulder", "thorax"),
    ("l_shoulder", "thorax"), ("l_elbow", "l_shoulder"), ("l_wrist", "l_elbow")])
"""MPII Human Pose (Andriluka et al. 2014), joint ids 0-15. Its order puts children before parents."""

PENN13 = _layout("penn13", [
    ("head", None), ("r_shoulder", "head"), ("l_shoulder", "head"), ("r_elbow", "r_shoulder"),
    ("l_elbow", "l_shoulder"), ("r_wrist", "r_elbow"), ("l_wrist", "l_elbow"), ("r_hip", "r_shoulder"),
    ("l_hip", "l_shoulder"), ("r_knee", "r_hip"), ("l_knee", "l_hip"), ("r_ankle", "r_knee"),
    ("l_ankle", "l_knee")])
"""Penn Action (Zhang et al. 2013) ``x``/``y``/``visibility`` columns. The dataset README lists the pairs as
left, right; the annotations are the person's RIGHT first: in the 1258 train sequences the first shoulder is
on the image left for 95% of ``front`` views and on the image right for 78% of ``back`` views, the second
wrist is the guitar-fretting hand in 87% of ``strum_guitar`` and the first the ball hand in 81% of ``bowl``.
``head`` is the centre of the head (about as far from mid-shoulders as the COCO nose), not its top."""

NTU25 = _layout("ntu25", [
    ("spine_base", None), ("spine_mid", "spine_base"), ("neck", "spine_shoulder"), ("head", "neck"),
    ("l_shoulder", "spine_shoulder"), ("l_elbow", "l_shoulder"), ("l_wrist", "l_elbow"), ("l_hand", "l_wrist"),
    ("r_shoulder", "spine_shoulder"), ("r_elbow", "r_shoulder"), ("r_wrist", "r_elbow"), ("r_hand", "r_wrist"),
    ("l_hip", "spine_base"), ("l_knee", "l_hip"), ("l_ankle", "l_knee"), ("l_foot", "l_ankle"),
    ("r_hip", "spine_base"), ("r_knee", "r_hip"), ("r_ankle", "r_knee"), ("r_foot", "r_ankle"),
    ("spine_shoulder", "spine_mid"), ("l_hand_tip", "l_hand"), ("l_thumb", "l_hand"),
    ("r_hand_tip", "r_hand"), ("r_thumb", "r_hand")])
"""Kinect v2 body joints (``JointType`` 0-24) as stored in NTU RGB+D ``.skeleton`` files; ``head`` is the
centre of the head, ``spine_shoulder`` the base of the neck. Its order puts children before parents."""

UTD20 = _layout("utd20", [
    ("head", "shoulder_center"), ("shoulder_center", "spine"), ("spine", "hip_center"), ("hip_center", None),
    ("l_shoulder", "shoulder_center"), ("l_elbow", "l_shoulder"), ("l_wrist", "l_elbow"), ("l_hand", "l_wrist"),
    ("r_shoulder", "shoulder_center"), ("r_elbow", "r_shoulder"), ("r_wrist", "r_elbow"), ("r_hand", "r_wrist"),
    ("l_hip", "hip_center"), ("l_knee", "l_hip"), ("l_ankle", "l_knee"), ("l_foot", "l_ankle"),
    ("r_hip", "hip_center"), ("r_knee", "r_hip"), ("r_ankle", "r_knee"), ("r_foot", "r_ankle")])
"""Kinect v1 skeleton joints in the order of UTD-MHAD's ``d_skel`` rows (``Skeleton_joint_order.txt``: head,
shoulder_center, spine, hip_center, then left arm, right arm, left leg, right leg), not the Kinect SDK's
``JointType`` order. ``head`` is the centre of the head. Sides are the person's: in the right-handed actions
(swipe, wave, throw, draw, ...) the ``r_wrist`` row is the one that moves (tested on the real files)."""

MEDIAPIPE33 = _layout("mediapipe33", [
    ("nose", None), ("l_eye_inner", "nose"), ("l_eye", "l_eye_inner"), ("l_eye_outer", "l_eye"),
    ("r_eye_inner", "nose"), ("r_eye", "r_eye_inner"), ("r_eye_outer", "r_eye"), ("l_ear", "l_eye_outer"),
    ("r_ear", "r_eye_outer"), ("l_mouth", "nose"), ("r_mouth", "nose"), ("l_shoulder", "nose"),
    ("r_shoulder", "nose"), ("l_elbow", "l_shoulder"), ("r_elbow", "r_shoulder"), ("l_wrist", "l_elbow"),
    ("r_wrist", "r_elbow"), ("l_pinky", "l_wrist"), ("r_pinky", "r_wrist"), ("l_index", "l_wrist"),
    ("r_index", "r_wrist"), ("l_thumb", "l_wrist"), ("r_thumb", "r_wrist"), ("l_hip", "l_shoulder"),
    ("r_hip", "r_shoulder"), ("l_knee", "l_hip"), ("r_knee", "r_hip"), ("l_ankle", "l_knee"),
    ("r_ankle", "r_knee"), ("l_heel", "l_ankle"), ("r_heel", "r_ankle"), ("l_foot_index", "l_ankle"),
    ("r_foot_index", "r_ankle")])
"""MediaPipe Pose (BlazePose) 33 landmarks in landmark-index order (``mouth_left`` -> ``l_mouth``)."""

BANDAI22 = _layout("bandai22", [
    ("root", None), ("hips", "root"), ("spine", "hips"), ("chest", "spine"), ("neck", "chest"),
    ("head", "neck"), ("l_shoulder", "chest"), ("l_upperarm", "l_shoulder"), ("l_lowerarm", "l_upperarm"),
    ("l_hand", "l_lowerarm"), ("r_shoulder", "chest"), ("r_upperarm", "r_shoulder"),
    ("r_lowerarm", "r_upperarm"), ("r_hand", "r_lowerarm"), ("l_upperleg", "hips"), ("l_lowerleg", "l_upperleg"),
    ("l_foot", "l_lowerleg"), ("l_toes", "l_foot"), ("r_upperleg", "hips"), ("r_lowerleg", "r_upperleg"),
    ("r_foot", "r_lowerleg"), ("r_toes", "r_foot")])
"""Bandai Namco Research Motion Dataset-1 BVH joints in file order (``Shoulder_L`` -> ``l_shoulder`` is the
clavicle; the arm joints are ``UpperArm`` = shoulder, ``LowerArm`` = elbow, ``Hand`` = wrist; the leg joints
``UpperLeg`` = hip, ``LowerLeg`` = knee, ``Foot`` = ankle). ``head`` is the base of the head."""

CMU31 = _layout("cmu31", [
    ("hips", None), ("l_hipjoint", "hips"), ("l_hip", "l_hipjoint"), ("l_knee", "l_hip"), ("l_ankle", "l_knee"),
    ("l_toe", "l_ankle"), ("r_hipjoint", "hips"), ("r_hip", "r_hipjoint"), ("r_knee", "r_hip"),
    ("r_ankle", "r_knee"), ("r_toe", "r_ankle"), ("lowerback", "hips"), ("chest", "lowerback"),
    ("chest2", "chest"), ("lowerneck", "chest2"), ("neck", "lowerneck"), ("head", "neck"),
    ("l_collar", "chest2"), ("l_shoulder", "l_collar"), ("l_elbow", "l_shoulder"), ("l_wrist", "l_elbow"),
    ("l_hand", "l_wrist"), ("l_fingers", "l_hand"), ("l_thumb", "l_wrist"), ("r_collar", "chest2"),
    ("r_shoulder", "r_collar"), ("r_elbow", "r_shoulder"), ("r_wrist", "r_elbow"), ("r_hand", "r_wrist"),
    ("r_fingers", "r_hand"), ("r_thumb", "r_wrist")])
"""CMU mocap in the cgspeed BVH conversion, joints in file order (``LeftHip`` -> ``l_hip`` ...). Each joint
sits at the start of the ASF bone of its name, so ``l_hip``/``l_knee``/``l_ankle`` are the hip, knee and ankle
centres and ``head`` is the top of the upper neck; the head end site is the top of the head."""

HUMANEVA15 = _layout("humaneva15", [
    ("pelvis", None), ("thorax", "pelvis"), ("l_shoulder", "thorax"), ("l_elbow", "l_shoulder"),
    ("l_wrist", "l_elbow"), ("r_shoulder", "thorax"), ("r_elbow", "r_shoulder"), ("r_wrist", "r_elbow"),
    ("l_hip", "pelvis"), ("l_knee", "l_hip"), ("l_ankle", "l_knee"), ("r_hip", "pelvis"), ("r_knee", "r_hip"),
    ("r_ankle", "r_knee"), ("head", "thorax")])
"""HumanEva-I (Sigal, Balan, Black, IJCV 2010) 15 joints in the order of VideoPose3D's ``ConvertHumanEva.m``
(the joints of HumanEva's ``@body_pose/error.m``): pelvis = ``torsoDistal``, thorax = mean(``torsoProximal``,
``headProximal``), elbows and knees the mean of the two segment ends, ``head`` = ``headDistal``, which HumanEva's
code labels "top of the head". Parents and sides as VideoPose3D's ``humaneva_skeleton``."""


def _pairs(layout: Layout) -> List[Tuple[str, Optional[str]]]:
    """``(joint, parent name or None)`` pairs of a layout, for declaring a layout that extends it."""
    return [(n, layout.names[p] if p >= 0 else None) for n, p in zip(layout.names, layout.parents)]


def _hand(side: str) -> List[Tuple[str, Optional[str]]]:
    """21 hand key-points of one side (COCO-WholeBody): the hand root, then 4 joints per finger from the palm out."""
    out = [(f"{side}_hand_root", f"{side}_wrist")]
    for f in ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger"):
        out += [(f"{side}_{f}{k}", f"{side}_{f}{k - 1}" if k > 1 else f"{side}_hand_root") for k in range(1, 5)]
    return out


POSETRACK18 = _layout("posetrack18", [
    ("nose", None), ("head_bottom", "nose"), ("head_top", "nose"), ("l_ear", "nose"), ("r_ear", "nose"),
    ("l_shoulder", "head_bottom"), ("r_shoulder", "head_bottom"), *_pairs(COCO17)[7:]])
"""PoseTrack 2018 (Andriluka et al., CVPR 2018), the order of ``categories[0].keypoints`` in its json files
(nose, head_bottom, head_top, left_ear, right_ear, then the COCO limbs): the COCO order with the eyes replaced by
``head_bottom`` (the bottom of the head, where the neck meets it: MPII's upper neck) and ``head_top``. The ears are
never annotated."""

CROWDPOSE14 = _layout("crowdpose14", [
    ("l_shoulder", "neck"), ("r_shoulder", "neck"), ("l_elbow", "l_shoulder"), ("r_elbow", "r_shoulder"),
    ("l_wrist", "l_elbow"), ("r_wrist", "r_elbow"), ("l_hip", "l_shoulder"), ("r_hip", "r_shoulder"),
    ("l_knee", "l_hip"), ("r_knee", "r_hip"), ("l_ankle", "l_knee"), ("r_ankle", "r_knee"),
    ("head_top", "neck"), ("neck", None)])
"""CrowdPose (Li et al., CVPR 2019), the order of ``categories[0].keypoints`` in ``crowdpose_*.json``: the 12 COCO
limb joints, ``head`` (the top of the head, here ``head_top``; mmpose spells it ``top_head``) and ``neck`` (the base
of the neck: the dataset's skeleton joins both shoulders to it). Its order lists the limbs before their root."""

AIC14 = _layout("aic14", [
    ("r_shoulder", "neck"), ("r_elbow", "r_shoulder"), ("r_wrist", "r_elbow"), ("l_shoulder", "neck"),
    ("l_elbow", "l_shoulder"), ("l_wrist", "l_elbow"), ("r_hip", "r_shoulder"), ("r_knee", "r_hip"),
    ("r_ankle", "r_knee"), ("l_hip", "l_shoulder"), ("l_knee", "l_hip"), ("l_ankle", "l_knee"),
    ("head_top", "neck"), ("neck", None)])
"""AI Challenger human keypoints (Wu et al. 2017), its 14 in their order (right arm, left arm, right leg, left leg,
top of the head, neck), spelt as in the COCO-format conversion mmpose uses (``right_shoulder`` .. ``head_top``,
``neck``); ``neck`` is the base of the neck, joined to both shoulders as in CrowdPose. Its order lists the limbs
before their root."""

HALPE26 = _layout("halpe26", [
    *_pairs(COCO17), ("head_top", "nose"), ("neck", "nose"),
    ("mid_hip", "neck"), ("l_big_toe", "l_ankle"), ("r_big_toe", "r_ankle"), ("l_small_toe", "l_ankle"),
    ("r_small_toe", "r_ankle"), ("l_heel", "l_ankle"), ("r_heel", "r_ankle")])
"""Halpe full-body (Fang et al., AlphaPose, TPAMI 2022), its 26 body joints: the COCO 17, ``head`` (the top of the
head, here ``head_top``), ``neck`` (the base of the neck), ``hip`` (mid-hips, here ``mid_hip``), then the big toes,
small toes and heels, left before right."""

COCO_WHOLEBODY133 = _layout("coco_wholebody133", [
    *_pairs(COCO17), ("l_big_toe", "l_ankle"), ("l_small_toe", "l_ankle"), ("l_heel", "l_ankle"),
    ("r_big_toe", "r_ankle"), ("r_small_toe", "r_ankle"), ("r_heel", "r_ankle"),
    *[(f"face_{k}", "nose") for k in range(68)], *_hand("l"), *_hand("r")])
"""COCO-WholeBody (Jin et al., ECCV 2020) 133 key-points in the order of its evaluation and of mmpose: the COCO 17,
the feet (left big toe, small toe, heel, then right), the 68 face landmarks (``face-0`` .. ``face-67``, iBUG 300-W
order) and 21 per hand, left then right (``hand_root``, then four joints per finger from the palm out). Its json
files keep the 17 body points in ``keypoints`` (read as ``coco17``) and the rest in ``foot_kpts``, ``face_kpts``,
``lefthand_kpts``, ``righthand_kpts``; a file that lists all 133 names (a converted annotation or result file)
reads as this layout. The face points carry no side in their names: :func:`flip` leaves them in place."""

HALPE136 = _layout("halpe136", [
    *_pairs(HALPE26), *[(f"face_{k}", "nose") for k in range(68)], *_hand("l"), *_hand("r")])
"""Halpe full-body (Fang et al., "AlphaPose: Whole-Body Regional Multi-Person Pose Estimation and Tracking in
Real-Time", TPAMI 2022), all 136 key-points in AlphaPose's ``halpe_136`` order: the 26 of ``halpe26`` (0-25), the 68
face landmarks (26-93), 21 left-hand (94-114) and 21 right-hand (115-135) points. Face and hand points are named as
in ``coco_wholebody133`` (``face_0`` .. ``face_67``; ``l_hand_root``, ``l_thumb1`` .. ``l_pinky_finger4``), which
is also how mmpose's Halpe dataset info spells them (``face-0``, ``left_hand_root``, ...)."""

LAYOUTS: Dict[str, Layout] = {L.name: L for L in (H36M17, COCO17, MPII16, PENN13, NTU25, UTD20, MEDIAPIPE33,
                                                  BANDAI22, CMU31, HUMANEVA15, POSETRACK18, CROWDPOSE14, AIC14,
                                                  HALPE26, COCO_WHOLEBODY133, HALPE136)}


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise InputError(f"unknown skeleton layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None


# ------------------------------------------------------------------------------------------------ conversions
#: A rule: alternatives in order of preference, each ``{source joint: weight}`` with weights summing to 1.
Rule = Tuple[Dict[str, float], ...]
HEAD_K = 0.4
BANDAI_A, CMU_A = 3.8, 2.0
#: (side, h36m joint, Bandai joint) pairs of the limbs
_BANDAI_LIMBS = [(s, h, b) for s in "lr" for h, b in (("hip", "upperleg"), ("knee", "lowerleg"), ("ankle", "foot"),
                                                      ("shoulder", "upperarm"), ("elbow", "lowerarm"),
                                                      ("wrist", "hand"))]
_LIMBS = ("r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle",
          "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist")


def _same(*names: str) -> Dict[str, Rule]:
    return {n: ({n: 1.0},) for n in names}


def _mid(*names: str) -> Dict[str, float]:
    return {n: 1.0 / len(names) for n in names}


def _lerp(a: str, b: str, t: float) -> Dict[str, float]:
    """``a + t (b - a)``; ``t`` outside [0, 1] extrapolates."""
    return {a: 1.0 - t, b: t}


def _head_top(face: Dict[str, float], sh=("l_shoulder", "r_shoulder")) -> Dict[str, float]:
    """``face + HEAD_K (face - mid(shoulders))`` for a face point given as weights."""
    w = {n: (1 + HEAD_K) * v for n, v in face.items()}
    for s in sh:
        w[s] = w.get(s, 0.0) - HEAD_K / len(sh)
    return w


_TORSO = {"pelvis": (_mid("l_hip", "r_hip"),), "thorax": (_mid("l_shoulder", "r_shoulder"),),
          "spine": (_mid("l_hip", "r_hip", "l_shoulder", "r_shoulder"),)}
_FACE = ({"nose": 1.0}, _mid("l_ear", "r_ear"), _mid("l_eye", "r_eye"))  # COCO and MediaPipe share these names

#: target h36m17 joint -> rule, per source layout
_TO_H36M: Dict[str, Dict[str, Rule]] = {
    "coco17": {**_same(*_LIMBS), **_TORSO, "neck": _FACE, "head": tuple(_head_top(f) for f in _FACE)},
    "mpii16": {**_same(*_LIMBS, "pelvis", "thorax"), "spine": (_mid("pelvis", "thorax"),),
               "neck": (_mid("upper_neck", "head_top"),), "head": ({"head_top": 1.0},)},
    "penn13": {**_same(*_LIMBS), **_TORSO, "neck": ({"head": 1.0},), "head": (_head_top({"head": 1.0}),)},
    "ntu25": {**_same(*_LIMBS), "pelvis": ({"spine_base": 1.0},), "spine": ({"spine_mid": 1.0},),
              "thorax": ({"spine_shoulder": 1.0},), "neck": ({"head": 1.0},),
              "head": (_head_top({"head": 1.0}),)},
    "utd20": {**_same(*_LIMBS), "pelvis": (_mid("l_hip", "r_hip"),), "spine": ({"spine": 1.0},),
              "thorax": ({"shoulder_center": 1.0},), "neck": ({"head": 1.0},), "head": (_head_top({"head": 1.0}),)},
    "bandai22": {"pelvis": ({"hips": 1.0},), **{f"{s}_{h}": ({f"{s}_{b}": 1.0},) for s, h, b in _BANDAI_LIMBS},
                 "thorax": ({"neck": 1.0},), "spine": (_mid("hips", "neck"),),
                 "neck": (_lerp("neck", "head", (1 + BANDAI_A) / 2),), "head": (_lerp("neck", "head", BANDAI_A),)},
    "cmu31": {**_same(*_LIMBS), "pelvis": ({"hips": 1.0},), "thorax": ({"neck": 1.0},),
              "spine": (_mid("hips", "neck"),), "neck": (_lerp("neck", "head", (1 + CMU_A) / 2),),
              "head": (_lerp("neck", "head", CMU_A),)},
    "humaneva15": {**_same(*_LIMBS, "pelvis", "thorax", "head"), "spine": (_mid("pelvis", "thorax"),),
                   "neck": (_mid("thorax", "head"),)},
}
_TO_H36M["mediapipe33"] = _TO_H36M["coco17"]
_TO_H36M["coco_wholebody133"] = _TO_H36M["coco17"]
_TO_H36M["posetrack18"] = {**_same(*_LIMBS), **_TORSO, "neck": ({"nose": 1.0}, _mid("head_bottom", "head_top")),
                           "head": ({"head_top": 1.0}, _head_top({"nose": 1.0}))}
_TO_H36M["crowdpose14"] = _TO_H36M["aic14"] = {
    **_same(*_LIMBS), "pelvis": _TORSO["pelvis"], "thorax": ({"neck": 1.0}, *_TORSO["thorax"]),
    "spine": ({"l_hip": 0.25, "r_hip": 0.25, "neck": 0.5}, *_TORSO["spine"]),
    "neck": (_mid("neck", "head_top"),), "head": ({"head_top": 1.0},)}
_TO_H36M["halpe26"] = {**_same(*_LIMBS), "pelvis": ({"mid_hip": 1.0}, *_TORSO["pelvis"]),
                       "thorax": ({"neck": 1.0}, *_TORSO["thorax"]),
                       "spine": (_mid("mid_hip", "neck"), *_TORSO["spine"]), "neck": (*_FACE, _mid("neck", "head_top")),
                       "head": ({"head_top": 1.0}, *(_head_top(f) for f in _FACE))}
_TO_H36M["halpe136"] = _TO_H36M["halpe26"]

#: target layout joint -> rule over h36m17 joints
_FROM_H36M: Dict[str, Dict[str, Rule]] = {
    "coco17": {**_same(*_LIMBS), "nose": ({"neck": 1.0},)},
    "mpii16": {**_same(*_LIMBS, "pelvis", "thorax"), "upper_neck": ({"neck": 2.0, "head": -1.0},),
               "head_top": ({"head": 1.0},)},
    "penn13": {**_same(*_LIMBS), "head": ({"neck": 1.0},)},
    "ntu25": {**_same(*_LIMBS), "spine_base": ({"pelvis": 1.0},), "spine_mid": ({"spine": 1.0},),
              "spine_shoulder": ({"thorax": 1.0},), "neck": (_mid("thorax", "neck"),), "head": ({"neck": 1.0},)},
    "utd20": {**_same(*_LIMBS), "hip_center": ({"pelvis": 1.0},), "spine": ({"spine": 1.0},),
              "shoulder_center": ({"thorax": 1.0},), "head": ({"neck": 1.0},)},
    "bandai22": {"hips": ({"pelvis": 1.0},), **{f"{s}_{b}": ({f"{s}_{h}": 1.0},) for s, h, b in _BANDAI_LIMBS},
                 "neck": ({"thorax": 1.0},), "head": (_lerp("thorax", "head", 1 / BANDAI_A),)},
    "cmu31": {**_same(*_LIMBS), "hips": ({"pelvis": 1.0},), "neck": ({"thorax": 1.0},),
              "head": (_lerp("thorax", "head", 1 / CMU_A),)},
    "humaneva15": _same(*_LIMBS, "pelvis", "thorax", "head"),
}
_FROM_H36M["mediapipe33"] = _FROM_H36M["coco17"]
_FROM_H36M["coco_wholebody133"] = _FROM_H36M["coco17"]
_FROM_H36M["posetrack18"] = {**_same(*_LIMBS), "nose": ({"neck": 1.0},), "head_top": ({"head": 1.0},),
                             "head_bottom": ({"neck": 2.0, "head": -1.0},)}
_FROM_H36M["crowdpose14"] = _FROM_H36M["aic14"] = {**_same(*_LIMBS), "neck": ({"thorax": 1.0},),
                                                   "head_top": ({"head": 1.0},)}
_FROM_H36M["halpe26"] = {**_FROM_H36M["crowdpose14"], "nose": ({"neck": 1.0},), "mid_hip": ({"pelvis": 1.0},)}
_FROM_H36M["halpe136"] = _FROM_H36M["halpe26"]


def _as_layout(layout: Union[str, Layout]) -> Layout:
    return layout if isinstance(layout, Layout) else get_layout(layout)


def _rules(table: Dict[str, Dict[str, Rule]], layout: Layout) -> Dict[str, Rule]:
    if layout.name not in table or LAYOUTS.get(layout.name) != layout:
        raise InputError(f"no h36m17 conversion for layout {layout.name!r}; known: {', '.join(sorted(table))}")
    return table[layout.name]


def _check(kps, layout: Layout, scores, what: str):
    kps = np.asarray(kps, dtype=np.float64)
    if kps.ndim < 2 or kps.shape[-2] != layout.n_joints or kps.shape[-1] not in (2, 3):
        raise InputError(f"{what}: expected shape (..., {layout.n_joints}, 2 or 3) for layout {layout.name}, "
                         f"got {kps.shape}")
    if scores is None:
        scores = np.ones(kps.shape[:-1])
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != kps.shape[:-1]:
        raise InputError(f"{what} scores: expected shape {kps.shape[:-1]}, got {scores.shape}")
    return kps, scores


def _apply(kps, scores, src: Layout, dst: Layout, rules: Mapping[str, Rule]):
    out = np.zeros(kps.shape[:-2] + (dst.n_joints, kps.shape[-1]))
    out_s = np.zeros(kps.shape[:-2] + (dst.n_joints,))
    for j, name in enumerate(dst.names):
        for k, alt in enumerate(reversed(rules.get(name, ()))):  # least preferred first, overwritten by better
            idx = [src[n] for n in alt]
            w = np.array([alt[n] for n in alt])
            val = np.einsum("...jd,j->...d", kps[..., idx, :], w)
            s = scores[..., idx].min(axis=-1)
            use = np.ones_like(s, dtype=bool) if k == 0 else s > 0
            out[..., j, :] = np.where(use[..., None], val, out[..., j, :])
            out_s[..., j] = np.where(use, s, out_s[..., j])
    return out, out_s


def to_h36m17(kps, layout: Union[str, Layout], scores=None) -> Tuple[np.ndarray, np.ndarray]:
    """Convert keypoints ``(..., J, D)`` of ``layout`` (D = 2 or 3) to ``h36m17``: ``(kps17, scores17)``.

    ``scores`` ``(..., J)`` default to 1. The rules are listed in the module docstring; a joint's score is the
    minimum of the scores of the joints it is built from, 0 where it cannot be derived.
    """
    src = _as_layout(layout)
    kps, scores = _check(kps, src, scores, f"to_h36m17({src.name})")
    if src.name == H36M17.name:
        return kps.copy(), scores.copy()
    return _apply(kps, scores, src, H36M17, _rules(_TO_H36M, src))


def h36m17_layouts() -> List[str]:
    """The names of the layouts :func:`to_h36m17` converts (``h36m17`` itself included), sorted."""
    return sorted(n for n in LAYOUTS if n == H36M17.name or n in _TO_H36M)


def from_h36m17(kps17, layout: Union[str, Layout], scores=None) -> Tuple[np.ndarray, np.ndarray]:
    """Convert ``h36m17`` keypoints ``(..., 17, D)`` to ``layout``: ``(kps, scores)``.

    Joints the layout shares with h36m17 are copied; the others follow the inverse rules of the module
    docstring; joints h36m17 lacks (eyes, ears, hands, feet, ...) get position 0 and score 0.
    """
    dst = _as_layout(layout)
    kps17, scores = _check(kps17, H36M17, scores, f"from_h36m17({dst.name})")
    if dst.name == H36M17.name:
        return kps17.copy(), scores.copy()
    return _apply(kps17, scores, H36M17, dst, _rules(_FROM_H36M, dst))


def flip(kps, layout: Union[str, Layout], width: Optional[float] = None) -> np.ndarray:
    """Mirror keypoints ``(..., J, D)`` horizontally and swap left and right joints.

    ``x`` becomes ``width - x`` (pixels, with (0, 0) the top-left corner of the image, so an image of ``width``
    columns flipped with ``img[:, ::-1]`` matches) or ``-x`` when ``width`` is None (camera or world
    coordinates). Flipping twice gives the input back.
    """
    lay = _as_layout(layout)
    kps, _ = _check(kps, lay, None, f"flip({lay.name})")
    out = kps[..., lay.flip_permutation, :].copy()
    out[..., 0] = -out[..., 0] if width is None else width - out[..., 0]
    return out


def shared_joints(layout: Union[str, Layout]) -> Tuple[List[int], List[int]]:
    """The joints ``layout`` shares with ``h36m17``: ``(h36m17 indices, layout indices)`` of the h36m17 joints
    its conversion copies from a joint of the same name (limbs, and pelvis / thorax where the layout has them).

    Comparing a detector's h36m17 output with annotations of another layout on these joints only leaves out
    the joints one layout has to construct (a head top from the face, say), which would measure the rule.
    """
    src = _as_layout(layout)
    if src.name == H36M17.name:
        return list(range(H36M17.n_joints)), list(range(H36M17.n_joints))
    rules = _rules(_TO_H36M, src)
    pairs = [(H36M17[n], src[n]) for n in H36M17.names if rules.get(n) == ({n: 1.0},)]
    return [h for h, _ in pairs], [s for _, s in pairs]
