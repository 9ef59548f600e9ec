"""Stage 3: action classifiers (pose sequence -> action) and sequence encoders, registered as ``action`` and
``encoder``; the ENAS architecture search (``nas_*``, ``enas_*``) that ``searched_cnn`` builds on."""
from . import enhanced_spmf, ensemble, pose_cnn, pose_image, searched_cnn  # noqa: F401
