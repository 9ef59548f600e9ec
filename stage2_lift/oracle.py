"""``oracle`` lifter: the ground-truth 3D joints (root-relative camera frame), to measure stage 3 alone."""
from __future__ import annotations

import numpy as np

from common.errors import InputError
from common.handoff import Pose3DSeq
from common.registry import register
from common.stage import Lifter


@register("lifter", "oracle")
class Oracle3D(Lifter):
    defaults = {}
    trainable = False
    needs_ground_truth = True

    def predict(self, pose2d, sample=None) -> Pose3DSeq:
        if sample is None or sample.joints3d is None:
            raise InputError("stages.stage2_lift.type=oracle needs ground-truth 3D and cannot run on --input; "
                             "use martinez_mlp")
        j = np.asarray(sample.joints3d, dtype=np.float32)
        j = j - j[:, :1]
        return Pose3DSeq(j[None], np.asarray(pose2d.scores[:1], dtype=np.float32), fps=pose2d.fps, layout=sample.layout)
