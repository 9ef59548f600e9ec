"""``oracle`` 2D detector: the ground-truth 2D key-points, optionally with detector-like noise and dropped joints.

It measures the later stages without stage-1 errors. It needs ground truth, so it cannot run on ``--input``.
"""
from __future__ import annotations

import zlib

import numpy as np

from common.errors import InputError
from common.handoff import Pose2DSeq
from common.noise import detector_noise
from common.registry import register
from common.stage import Detector2D


@register("detector2d", "oracle")
class Oracle2D(Detector2D):
    defaults = {"noise_px": 0.0, "drop_rate": 0.0}
    trainable = False
    needs_ground_truth = True

    def predict(self, frames, fps=25.0, sample=None) -> Pose2DSeq:
        if sample is None:
            raise InputError("stages.stage1_2d.type=oracle needs ground-truth 2D and cannot run on --input; "
                             "use mmpose_topdown")
        kps = np.asarray(sample.joints2d, dtype=np.float32)
        scores = np.ones(kps.shape[:-1], dtype=np.float32)
        if self.cfg["noise_px"] > 0 or self.cfg["drop_rate"] > 0:
            rng = np.random.default_rng([self.seed, zlib.crc32(sample.name.encode())])
            kps, scores = detector_noise(kps, scores, self.cfg["noise_px"], self.cfg["drop_rate"], rng)
        return Pose2DSeq(kps[None], scores[None], sample.image_size, fps=sample.fps, layout=sample.layout)
