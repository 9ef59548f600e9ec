"""``stereo_lifter``: the "3D Label Generator" of Tang et al. 2020 (Tang, Wang, Guo, "A Multi-Task Neural Network for
Action Recognition with 3D Key-Points"), three parts:

1. **Stereoscopic view synthesis** (``model.synth``): from the left (real) view's 2D pose, predict the 2D pose
   seen by a virtual right camera with the same intrinsics, translated by a fixed baseline ``b`` =
   ``baseline_m`` (0.5 m) along the left camera's x axis (camera-frame points ``X_right = X_left - (b, 0, 0)``).
   One fixed baseline, as the paper has one virtual right camera (a random one would have to be an input).
   Targets come from the augmented 3D of every batch, ``project(j3 - (b, 0, 0), K)``, screen-normalised by the
   width like the left view. The right view differs from the left by a horizontal disparity ``f b / Z_j`` per
   joint (no vertical parallax); as the 2D size of a person of height H is about ``f H / Z``, the disparity is
   about ``(b / H) x`` the 2D size, whatever the focal length. So the network predicts the residual
   ``right - left`` divided by the input's 2D size (RMS distance of the joints from their centroid), z-scored
   with training statistics, and adds it back to its input. Loss: mean squared error of the right 2D in units of
   the (size-normalised) disparity spread.
2. **3D reconstruction** (``model.recon``): regresses the z-scored root-relative 3D joints (the target of
   :class:`~stage2_lift.lifting.SingleFrameLifter`) from ``concat(left, synthesised right)``, both z-scored.
3. **Geometric search** (:mod:`stage2_lift.geometric_search`, objective and search written there): refines
   every predicted frame against the 2D input with a bone-length prior, a left/right symmetry prior and a pull
   towards the network's pose. Switch ``geometric_search`` (default true). Bone-length prior
   (``search_bone_prior``): ``train`` (default) - the training set's mean bone lengths (left/right averaged),
   scaled per person track by the median over frames of (coarse total bone length / training total): the
   proportions of the training skeletons, the size of the network's estimate; works on single images (the
   label generator's use). ``sequence`` - per track, the median over frames of the coarse pose's own bone
   lengths, left/right averaged (adapts to a person's proportions but inherits the network's bias; on
   ``tiny_poses`` it is 1.5-2.5 mm worse). Intrinsics: those of ``sample.camera`` when ``predict`` gets a
   sample with a camera (rescaled to the 2D's image width), else a pinhole with focal length 1.15 x the image
   width and the principal point at the image centre (Human3.6M-like). Lens distortion is ignored. Scores of
   the 2D input weight the reprojection term.

Both subnetworks are :class:`~stage2_lift.martinez_mlp.MartinezMLP` (``width``, ``blocks``, ``dropout``). Training
follows the seed's order: view synthesis first (``synth_epochs``), then it is frozen (``requires_grad`` off, kept
in eval mode, so its batch-norm statistics and dropout are fixed) while the reconstruction trains (``epochs``)
with the same scheme (augmentation, optimiser, schedule). ``fit`` returns ``loss`` (reconstruction, per
epoch), ``synth_loss``, ``synth_val_px`` (right-view 2D error on the validation poses, pixels) and
``train_seconds`` (both phases).

``predict(pose2d, sample=None, search=None)``: ``search`` overrides ``geometric_search`` for one call; the
coarse (network-only) result of the last call is kept in ``last_coarse``, so one call gives both (Table I's
"w/o GS" and "w/ GS").
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import nn

from common.errors import InputError
from common.handoff import Pose2DSeq, Pose3DSeq
from common.registry import register

from .geometric_search import bone_lengths, default_intrinsics, geometric_search, scaled_bone_prior, sequence_bone_prior
from .lifting import LIFTER_DEFAULTS, SingleFrameLifter, normalize, project
from .martinez_mlp import MartinezMLP


def pose_size(xy: torch.Tensor) -> torch.Tensor:
    """Size of 2D poses (N, 2J) flat: root-mean-square distance of the joints from their centroid."""
    xy = xy.reshape(xy.shape[0], -1, 2)    # shape[0], not len(): the batch stays free in an ONNX export
    return (xy - xy.mean(1, keepdim=True)).pow(2).sum(-1).mean(1).sqrt().clamp(min=1e-4)


class StereoNet(nn.Module):
    """The two subnetworks; ``forward`` maps the encoded left 2D to the z-scored 3D target.

    Buffers (from the training statistics): ``x_mean``/``x_std`` (left-view encoding), ``r_mean``/``r_std``
    (right-view encoding for the reconstruction input), ``d_mean`` (per coordinate) and ``d_scale`` (scalar): mean
    and spread of the right - left offset divided by the left pose's 2D size (:func:`pose_size`), which scale the
    synthesis network's output.
    """

    def __init__(self, n_in: int, n_out: int, width: int, blocks: int, dropout: float, stats: dict):
        super().__init__()
        self.synth = MartinezMLP(n_in, n_in, width, blocks, dropout)
        self.recon = MartinezMLP(2 * n_in, n_out, width, blocks, dropout)
        self.synth_frozen = False
        for k, default in (("x_mean", 0.0), ("x_std", 1.0), ("r_mean", 0.0), ("r_std", 1.0), ("d_mean", 0.0)):
            v = stats.get(k)
            self.register_buffer(k, torch.as_tensor(v, dtype=torch.float32).clone() if v is not None
                                 else torch.full((n_in,), default))
        v = stats.get("d_scale")
        self.register_buffer("d_scale", torch.as_tensor(1.0 if v is None else v, dtype=torch.float32).clone())

    def set_stats(self, stats: dict) -> None:
        for k in ("x_mean", "x_std", "r_mean", "r_std", "d_mean", "d_scale"):
            getattr(self, k).copy_(torch.as_tensor(stats[k], dtype=torch.float32))

    def synthesize(self, x_enc: torch.Tensor) -> torch.Tensor:
        """Encoded left 2D (N, 2J) -> right-view 2D (N, 2J), screen-normalised."""
        left = x_enc * self.x_std + self.x_mean
        return left + pose_size(left)[:, None] * (self.synth(x_enc) * self.d_scale + self.d_mean)

    def forward(self, x_enc: torch.Tensor) -> torch.Tensor:
        right_enc = (self.synthesize(x_enc) - self.r_mean) / self.r_std
        return self.recon(torch.cat([x_enc, right_enc], dim=1))

    def freeze_synth(self) -> None:
        self.synth_frozen = True
        for p in self.synth.parameters():
            p.requires_grad_(False)
        self.synth.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.synth_frozen:
            self.synth.eval()
        return self


@register("lifter", "stereo_lifter")
class StereoLifter(SingleFrameLifter):
    defaults = {**LIFTER_DEFAULTS, "width": 512, "blocks": 2, "dropout": 0.25, "synth_epochs": 30,
                "baseline_m": 0.5, "geometric_search": True, "search_bone_prior": "train",
                "search_iters": 6, "search_cg_iters": 8, "search_sigma_2d": 0.004, "search_sigma_bone_m": 0.02,
                "search_sigma_sym_m": 0.01, "search_sigma_3d_m": 0.05}

    def __init__(self, cfg=None, device="cpu", seed=0):
        super().__init__(cfg, device, seed)
        if self.cfg["search_bone_prior"] not in ("sequence", "train"):
            raise InputError(f"lifter stereo_lifter: search_bone_prior must be 'sequence' or 'train', "
                             f"got {self.cfg['search_bone_prior']!r}")
        if not float(self.cfg["baseline_m"]) > 0:
            raise InputError(f"lifter stereo_lifter: baseline_m must be > 0, got {self.cfg['baseline_m']!r}")
        self._phase = "recon"
        self.last_coarse: Optional[Pose3DSeq] = None

    def build_model(self, in_dim: int, out_dim: int) -> nn.Module:
        c = self.cfg
        return StereoNet(in_dim, out_dim, c["width"], c["blocks"], c["dropout"], self.stats)

    # ------------------------------------------------------------------ training
    def right_view(self, batch) -> torch.Tensor:
        """Screen-normalised 2D (N, J, 2) of the batch's posed 3D seen by the right camera."""
        shift = torch.tensor([float(self.cfg["baseline_m"]), 0.0, 0.0])
        return normalize(project(batch["j3"] - shift, batch["K"]), batch["size"])

    def prepare(self, data) -> None:
        self.stats = {}
        super().prepare(data)
        tr = self._tr
        b = self.views(tr["j3"], tr["K"], tr["size"], self._g, train=True)
        right = self.right_view(b).reshape(len(b["x"]), -1)
        d = (right - b["x_clean"].reshape(len(right), -1)) / pose_size(b["x"].reshape(len(right), -1))[:, None]
        bones = bone_lengths(tr["j3"], self.layout).mean(0)
        self.stats.update({"r_mean": right.mean(0), "r_std": right.std(0) + 1e-6, "d_mean": d.mean(0),
                           "d_scale": d[:, 0::2].std() + 1e-6, "bone_mean": bones})
        self.model.set_stats(self.stats)

    def synth_loss(self, batch) -> torch.Tensor:
        """Phase 1: mean squared error of the synthesised right view, in units of the disparity spread."""
        pred = self.model.synthesize(self._encode(batch["x"]).to(self.device))
        target = self.right_view(batch).reshape(len(pred), -1).to(self.device)
        return ((pred - target) / self.model.d_scale).pow(2).mean()

    @torch.no_grad()
    def synth_error_px(self, j3: torch.Tensor, K: torch.Tensor, size: torch.Tensor) -> float:
        """Mean right-view 2D error (pixels) of the view synthesis on exact left 2D of poses ``j3``."""
        b = self.views(j3, K, size, self._g, train=False)
        self.model.eval()
        pred = self.model.synthesize(self._encode(b["x"]).to(self.device)).cpu().reshape(len(j3), -1, 2)
        return float(((pred - self.right_view(b)).norm(dim=-1) * size[:, None, 0] / 2).mean())

    def validate(self) -> float:
        if self._phase == "synth":
            va = self._va
            return -self.synth_error_px(va["j3"], va["K"], va["size"])
        return super().validate()

    def fit(self, data) -> dict:
        self.prepare(data)
        c = self.cfg
        self._phase = "synth"
        try:
            s1 = self.train_phase(self.model.synth.parameters(), c["synth_epochs"],
                                  "train stereo_lifter: view synthesis", self.synth_loss)
        finally:
            self._phase = "recon"
        self.model.freeze_synth()
        s2 = self.train_phase(self.model.recon.parameters(), c["epochs"], "train stereo_lifter: reconstruction")
        return {**s2, "synth_loss": s1["loss"], "synth_val_px": s1["val_mpjpe_mm"],
                "synth_train_seconds": s1["train_seconds"], "recon_train_seconds": s2["train_seconds"],
                "train_seconds": s1["train_seconds"] + s2["train_seconds"]}

    def load_state(self, state: dict) -> None:
        super().load_state(state)
        self.model.freeze_synth()

    # ------------------------------------------------------------------ inference
    def intrinsics(self, pose2d: Pose2DSeq, sample=None) -> torch.Tensor:
        """(fx, fy, cx, cy) for the 2D's image: the sample's camera rescaled to the 2D's image width, else the
        default of :func:`~stage2_lift.geometric_search.default_intrinsics`."""
        w, h = pose2d.image_size
        cam = getattr(sample, "camera", None)
        if cam is None:
            return default_intrinsics(w, h)
        s = w / float(cam.width) if cam.width else 1.0
        return torch.tensor([cam.fx * s, cam.fy * s, cam.cx * s, cam.cy * s], dtype=torch.float64)

    def bone_prior(self, coarse: torch.Tensor) -> torch.Tensor:
        """Prior bone lengths (B,) for one person's coarse sequence (T, J, 3)."""
        if self.cfg["search_bone_prior"] == "sequence":
            return sequence_bone_prior(coarse, self.layout)
        return scaled_bone_prior(coarse, self.stats["bone_mean"], self.layout)

    def refine(self, joints: np.ndarray, pose2d: Pose2DSeq, sample=None) -> np.ndarray:
        """Geometric search on coarse root-relative joints (P, T, J, 3) against ``pose2d``; same shape."""
        c = self.cfg
        P, T, J, _ = joints.shape
        coarse = torch.as_tensor(joints, dtype=torch.float32)
        prior = torch.stack([self.bone_prior(coarse[p]) for p in range(P)])           # (P, B)
        prior = prior[:, None].expand(P, T, -1).reshape(P * T, -1)
        out = geometric_search(coarse.reshape(P * T, J, 3), torch.as_tensor(pose2d.keypoints).reshape(P * T, J, 2),
                               self.intrinsics(pose2d, sample).float(), self.layout, prior,
                               torch.as_tensor(pose2d.scores).reshape(P * T, J),
                               sigma_2d=c["search_sigma_2d"] * pose2d.image_size[0],
                               sigma_bone=c["search_sigma_bone_m"], sigma_sym=c["search_sigma_sym_m"],
                               sigma_3d=c["search_sigma_3d_m"], iters=c["search_iters"],
                               cg_iters=c["search_cg_iters"])
        return out.numpy().reshape(P, T, J, 3)

    def predict(self, pose2d: Pose2DSeq, sample=None, search: Optional[bool] = None) -> Pose3DSeq:
        """Network prediction, refined by the geometric search when ``search`` (default: the
        ``geometric_search`` option) is true; the network-only result is kept in ``last_coarse``."""
        coarse = super().predict(pose2d, sample)
        self.last_coarse = coarse
        if not (self.cfg["geometric_search"] if search is None else search):
            return coarse
        return Pose3DSeq(self.refine(coarse.joints, pose2d, sample), coarse.scores, fps=coarse.fps,
                         layout=coarse.layout)
