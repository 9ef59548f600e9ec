"""``pose_cnn``: a small hand-designed CNN that classifies an encoded pose sequence (by default the
``pose_image`` of Luvizon et al. 2021, section 3.3.1; any registered encoder can be named). Data,
augmentation and training are those of every encoded classifier (``classifier.py``).

Model: three stages of (3x3 conv, BatchNorm, ReLU) pairs over the (time x joints) image, halving time between
stages; max over time (the action may happen anywhere in the clip), flatten over the second axis (which joint
moves matters), dropout and a linear classifier.
"""
from __future__ import annotations

from torch import nn

from common.registry import register

from .classifier import CLASSIFIER_DEFAULTS, EncodedClassifier


class PoseCNN(nn.Module):
    def __init__(self, in_ch: int, width_axis: int, n_classes: int, width: int = 32, dropout: float = 0.3):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        w = width
        self.features = nn.Sequential(
            *block(in_ch, w), *block(w, w), nn.MaxPool2d((2, 1)),
            *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d((2, 1)),
            *block(2 * w, 4 * w))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(4 * w * width_axis, n_classes))

    def forward(self, x):  # (N, C, T, J)
        f = self.features(x)
        return self.head(f.amax(dim=2))


@register("action", "pose_cnn")
class PoseCNNClassifier(EncodedClassifier):
    defaults = {**CLASSIFIER_DEFAULTS, "width": 32}

    def build_model(self, in_ch, image_hw, n_classes):
        return PoseCNN(in_ch, image_hw[1], n_classes, self.cfg["width"], self.cfg["dropout"])
