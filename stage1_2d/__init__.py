"""Stage 1: 2D pose detectors (frames -> 2D key-points in the h36m17 layout), registered as ``detector2d``."""
from . import mediapipe_pose, mmpose_topdown, oracle, precomputed  # noqa: F401
