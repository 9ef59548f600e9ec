"""The synthetic world: procedural people (``body``), 12 parametric actions (``motion``), an OpenCV renderer
(``render``) and the cached dataset builder (``world``)."""
from .motion import ACTIONS
from .world import SYNTH_DEFAULTS, build_synthetic

__all__ = ["ACTIONS", "SYNTH_DEFAULTS", "build_synthetic"]
