"""The pose half of a multi-task prediction block (Luvizon et al. 2021, section 3.1.1, eqs. 4-7 and 10, Fig. 4).

Given the block's input ``X^{p-1,l} + DU(X^{p,l-1})`` (the caller adds the lateral and the unit's output):

- ``Z' = RU(input)`` (eq. 4), a depthwise 5 x 5 residual unit;
- ``Z = W_z * Z'`` (eq. 5), a pre-activated separable 5 x 5 convolution: the multi-task features;
- ``h = Phi(W_h * Z)`` (eq. 6) and ``d = sigmoid(W_d * Z)`` (eq. 7), 1 x 1 projections of the activated Z to one
  map per joint; the pose by soft-argmax, depth pooling and confidence (``joint.regression``);
- re-injection (eq. 10): ``X = W_r * h + W_s * d + Z' + Z``. h is taken times H x W (a uniform map is then 1
  everywhere), a constant that keeps the re-injected term on the scale of the features at every resolution;
  the authors' code re-injects the logits instead (JOINT_MODEL_NOTES.md section 3).

Decoupled action poses (section 3.3.4, Fig. 6): ``replica`` adds W'_h and W'_d, 1 x 1 convolutions beside W_h
and W_d on the same features; ``copy_replica()`` initialises them with W_h and W_d late in training, after
which the action part reads only the replica maps and the pose outputs only the originals.
"""
from __future__ import annotations

from typing import Dict

import torch
import torch.nn as nn

from .regression import regress
from .units import ResidualUnit, pre_conv


class PosePrediction(nn.Module):
    def __init__(self, channels: int, n_joints: int, k: int = 5, replica: bool = False):
        super().__init__()
        self.ru = ResidualUnit(channels, channels, k)                 # eq. 4
        self.w_z = pre_conv(channels, channels, k, depthwise=True)    # eq. 5
        self.act = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU())
        self.w_h = nn.Conv2d(channels, n_joints, 1, bias=False)       # eq. 6
        self.w_d = nn.Conv2d(channels, n_joints, 1, bias=False)       # eq. 7
        self.w_r = nn.Conv2d(n_joints, channels, 1, bias=False)       # eq. 10
        self.w_s = nn.Conv2d(n_joints, channels, 1, bias=False)
        self.replica = nn.ModuleDict({"w_h": nn.Conv2d(channels, n_joints, 1, bias=False),
                                      "w_d": nn.Conv2d(channels, n_joints, 1, bias=False)}) if replica else None
        self.register_buffer("_decoupled", torch.tensor(False), persistent=True)

    @property
    def decoupled(self) -> bool:
        return bool(self._decoupled)

    @torch.no_grad()
    def copy_replica(self) -> None:
        """W'_h <- W_h and W'_d <- W_d; from now on the action part reads the replica (section 3.3.4)."""
        if self.replica is None:
            raise RuntimeError("copy_replica: this block was built without replica projections")
        self.replica["w_h"].weight.copy_(self.w_h.weight)
        self.replica["w_d"].weight.copy_(self.w_d.weight)
        self._decoupled.fill_(True)

    def forward(self, x: torch.Tensor, for_action: bool = False) -> Dict[str, torch.Tensor]:
        """Returns ``x`` (the re-injected features X^{p,l}), ``z`` (multi-task features), ``pose`` (N, J, 4) and,
        with ``for_action``, ``action_h`` / ``action_pose``: the maps and pose the action part uses."""
        z1 = self.ru(x)
        z = self.w_z(z1)
        a = self.act(z)
        h, d, pose = regress(self.w_h(a), self.w_d(a))
        hw = float(h.shape[-1] * h.shape[-2])
        out = {"x": self.w_r(h * hw) + self.w_s(d) + z1 + z, "z": z, "pose": pose}
        if for_action:
            if self.decoupled:
                out["action_h"], _, out["action_pose"] = regress(self.replica["w_h"](a), self.replica["w_d"](a))
            else:
                out["action_h"], out["action_pose"] = h, pose
        return out
