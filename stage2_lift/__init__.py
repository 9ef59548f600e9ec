"""Stage 2: lifters (2D key-points -> root-relative 3D joints), registered as ``lifter``."""
from . import martinez_mlp, mmpose_lifter, oracle, stereo_lifter, temporal_conv, two_stream_mlp  # noqa: F401
