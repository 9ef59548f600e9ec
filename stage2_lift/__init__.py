"""Stage 2: lifters (2D key-points -> root-relative 3D joints), registered as ``lifter``."""
from . import martinez_mlp, oracle  # noqa: F401
