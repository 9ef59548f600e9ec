"""``searched_cnn``: an encoded-clip classifier whose CNN is an architecture found by ENAS ("Efficient Neural
Architecture Search via Parameter Sharing", Pham et al., ICML 2018), as in the recognition stage of Pham et al. 2020
("A Unified Deep Framework for Joint 3D Pose Estimation and Action Recognition from a Single RGB Camera",
section on action recognition, Fig. 5).

``arch`` names an architecture JSON (``nas_space.py``: the search space, the arc, the retraining sizes); the
network is built from it from scratch (``nas_build.build_network``) and trained like every encoded classifier
(``classifier.py``). ``filters`` / ``n_cells`` override the document's sizes (a paper-size retraining on a GPU
uses the same arc with more filters and cells). The search itself runs only when asked
(``python pipelines/search_arch.py``), never from a pipeline.
"""
from __future__ import annotations

from common.paths import repo_path
from common.registry import register

from .classifier import CLASSIFIER_DEFAULTS, EncodedClassifier
from .nas_build import build_network
from .nas_space import load_arch


@register("action", "searched_cnn")
class SearchedCNNClassifier(EncodedClassifier):
    defaults = {**CLASSIFIER_DEFAULTS, "arch": "configs/arch/penn_action_macro.json",
                "filters": None, "n_cells": None, "dropout": 0.1, "head_grid": [1, 1]}

    def __init__(self, cfg=None, device="cpu", seed=0):
        super().__init__(cfg, device, seed)
        self.arch = load_arch(repo_path(self.cfg["arch"]))  # a bad file fails before any training

    def build_model(self, in_ch, image_hw, n_classes):
        return build_network(self.arch, in_ch, n_classes, filters=self.cfg["filters"],
                             n_cells=self.cfg["n_cells"], dropout=self.cfg["dropout"],
                             head_grid=self.cfg["head_grid"])

    def state(self) -> dict:
        return {**super().state(), "arch": self.arch}

    def load_state(self, state: dict) -> None:
        self.arch = state["arch"]
        super().load_state(state)
