"""Stage 1: 2D pose detectors (frames -> 2D key-points in the h36m17 layout), registered as ``detector2d``."""
from . import mmpose_topdown, oracle  # noqa: F401
