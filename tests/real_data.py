"""Shared by the tests that read ../shared/data: skip with a reason when a file is absent; read an image."""
import cv2
import pytest

from common.paths import shared


def need(*parts):
    """The shared-data path ``parts``; the calling test skips when it is not there."""
    p = shared(*parts)
    if not p.exists():
        pytest.skip(f"real data {p} not present (see ../shared/data/README.md)")
    return p


def rgb(path):
    """An image file as (H, W, 3) uint8 RGB."""
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
