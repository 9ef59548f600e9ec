"""The multi-task network of Luvizon et al. 2021 (section 3.1, Fig. 2): an entry flow, then P pyramids of L levels that
alternate downscaling (odd p) and upscaling (even p), with a prediction block (PB) at every level a pyramid
reaches: levels 1 .. L-1 going down, L-2 .. 0 going up, P x (L - 1) blocks in all (24 for P = 8, L = 4 as in
Table 4). Level l has ``features + l * growth`` channels (288 + 96 l in the paper) at 1/2^l of the entry flow's
resolution.

Wiring (Fig. 2 and Fig. 4; where the figures are not explicit, as the authors' code does it,
JOINT_MODEL_NOTES.md section 3): a PB receives ``X^{p-1,l}`` (the previous pyramid's block output at its level,
or the entry flow's output at level 0) plus ``DU/UU(X^{p,l-1 or l+1})``; a downscaling pyramid starts from the
level-0 features, an upscaling one from the top level's. Action features Y flow from action block to action
block through a 3 x 3 residual unit, plus the previous pyramid's Y at the same level; only pyramids listed in
``action_pyramids`` have an action part (section 4.2.2: the full 8-pyramid model starts it at the 5th).

``forward(frames, clip_len=T, upto=b)`` runs the blocks up to ``b`` only, which is how a trained model is cut
for speed (section 4.5.4, Fig. 9); without ``clip_len`` only the single-frame (pose) layers run.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn

from .action_block import ActionPrediction
from .pose_block import PosePrediction
from .stems import STEMS
from .units import DownscalingUnit, ResidualUnit, UpscalingUnit

#: network options of the ``joint`` section (the small CPU default; the paper's values in comments)
ARCH_DEFAULTS = {
    "entry_flow": "inception",   # inception | vgg16 | resnet
    "width": 0.5,                # entry-flow channel multiplier (1.0)
    "input_size": 128,           # square crops (256)
    "features": 64,              # level-0 features (288)
    "growth": 32,                # features added per level (96)
    "pyramids": 2,               # P (8)
    "levels": 4,                 # L (4)
    "action_pyramids": [1, 2],   # pyramids with an action part ([5, 6, 7, 8] for P = 8)
    "n_pose_features": 64,       # N_p (160 Penn Action, 192 NTU)
    "n_app_features": 64,        # N_v
    "action_features": "combined",  # pose | appearance | combined (Table 5)
    "decoupled_poses": True,     # replica W'_h, W'_d for the action part (section 3.3.4)
}


class MultitaskNet(nn.Module):
    def __init__(self, n_joints: int, n_actions: int, entry_flow: str = "inception", width: float = 0.5,
                 features: int = 64, growth: int = 32, pyramids: int = 2, levels: int = 4,
                 action_pyramids: Sequence[int] = (1, 2), n_pose_features: int = 64, n_app_features: int = 64,
                 action_features: str = "combined", decoupled_poses: bool = True, **_):
        super().__init__()
        if entry_flow not in STEMS:
            raise ValueError(f"joint.entry_flow: expected one of {', '.join(STEMS)}, got {entry_flow!r}")
        if pyramids < 1 or levels < 2:
            raise ValueError(f"joint: needs pyramids >= 1 and levels >= 2, got {pyramids} and {levels}")
        bad = [p for p in action_pyramids if not 1 <= int(p) <= pyramids]
        if bad:
            raise ValueError(f"joint.action_pyramids: {bad} outside 1..{pyramids}")
        self.n_joints, self.n_actions, self.levels = n_joints, n_actions, levels
        ch = [features + growth * i for i in range(levels)]
        self.stem = STEMS[entry_flow](features, width)
        #: (pyramid, level, 'down' | 'up') of every prediction block, in order
        self.blocks: List[tuple] = []
        for p in range(1, pyramids + 1):
            lv = range(1, levels) if p % 2 else range(levels - 2, -1, -1)
            self.blocks += [(p, level, "down" if p % 2 else "up") for level in lv]
        self.units, self.poses = nn.ModuleList(), nn.ModuleList()
        self.actions, self.transitions = nn.ModuleDict(), nn.ModuleDict()
        first_action = True
        for i, (p, level, kind) in enumerate(self.blocks):
            self.units.append(DownscalingUnit(ch[level - 1], ch[level]) if kind == "down"
                              else UpscalingUnit(ch[level + 1], ch[level]))
            self.poses.append(PosePrediction(ch[level], n_joints, replica=decoupled_poses))
            if p in action_pyramids:
                ab = ActionPrediction(ch[level], n_actions, n_pose_features, n_app_features, action_features,
                                      with_previous=not first_action)
                self.actions[str(i)] = ab
                if not first_action:
                    self.transitions[str(i)] = ResidualUnit(ab.channels, ab.channels, 3, kind="normal")
                first_action = False

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def action_blocks(self) -> List[int]:
        return sorted(int(k) for k in self.actions)

    def copy_replicas(self) -> None:
        """Decouple the action poses of every block (section 3.3.4)."""
        for pb in self.poses:
            pb.copy_replica()

    def forward(self, frames: torch.Tensor, clip_len: Optional[int] = None,
                upto: Optional[int] = None) -> Dict[str, list]:
        """``frames`` (N, 3, H, W), N = clips x ``clip_len`` when the action part runs. Returns ``poses``: one
        (N, J, 4) tensor (x, y in [0, 1] of the crop, z in [0, 1], confidence) per block run, and ``actions``:
        per block, (clips, A) class logits or None where the block has no action part (or no clip was given)."""
        last = self.n_blocks - 1 if upto is None else int(upto)
        if not 0 <= last < self.n_blocks:
            raise ValueError(f"upto: expected a block in 0..{self.n_blocks - 1}, got {upto}")
        lp = {0: self.stem(frames)}        # X^{p-1,l}: the latest block output at each level
        la: Dict[int, torch.Tensor] = {}   # Y^{p-1,l}
        poses, actions = [], []
        x, y = None, None
        for i, (_p, level, kind) in enumerate(self.blocks[: last + 1]):
            if kind == "down":
                x = self.units[i](lp[0] if level == 1 else x)
            else:
                src = lp[self.levels - 1] if level == self.levels - 2 else x
                x = self.units[i](src, lp[level].shape[-2:])
            if level in lp:
                x = x + lp[level]
            act = clip_len is not None and str(i) in self.actions
            out = self.poses[i](x, for_action=act)
            x = lp[level] = out["x"]
            poses.append(out["pose"])
            if act:
                prev = None
                if y is not None and str(i) in self.transitions:
                    prev = self.transitions[str(i)](y) + la.get(level, 0)
                logits, y = self.actions[str(i)](out["z"], out["action_h"], out["action_pose"], clip_len, prev)
                la[level] = y
                actions.append(logits)
            else:
                actions.append(None)
        return {"poses": poses, "actions": actions}
