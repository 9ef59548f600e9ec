"""Stage 3: action classifiers (pose sequence -> action) and sequence encoders, registered as ``action`` and
``encoder``."""
from . import pose_cnn, pose_image  # noqa: F401
