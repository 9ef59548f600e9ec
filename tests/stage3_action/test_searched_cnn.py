"""``searched_cnn``: built from an architecture JSON (the committed ones and random ones), trained on a tiny
synthetic task, saved and restored."""
import numpy as np
import pytest

import stage3_action  # noqa: F401
from common import metrics
from common.errors import InputError
from common.paths import REPO_ROOT
from common.registry import build
from pipelines.chain import gt_pose3d
from stage3_action.nas_space import load_arch, random_arc, save_arch

COMMITTED = sorted((REPO_ROOT / "configs" / "arch").glob("*.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_committed_architectures_are_valid_and_documented(path):
    doc = load_arch(path)
    assert {"command", "search_seconds", "val_acc_shared"} <= set(doc["meta"])  # how it was found


@pytest.mark.parametrize("space", ["macro", "micro"])
def test_trains_beats_chance_and_restores(tiny_poses, tmp_path, space):
    n = 3
    doc = {"space": space, "arc": random_arc(space, np.random.default_rng(0), n), "filters": 8,
           ("n_nodes" if space == "micro" else "n_layers"): n}
    if space == "micro":
        doc["n_cells"] = 1
    arch = save_arch(tmp_path / f"{space}.json", doc)
    cfg = {"type": "searched_cnn", "arch": str(arch), "input": "3d", "encoder": "pose_image", "epochs": 30,
           "clip_len": 16, "batch_size": 8, "head_grid": [2, 2]}
    cls = build("action", cfg, seed=0)
    summary = cls.fit(tiny_poses)
    assert summary["loss"][-1] < 0.8 * summary["loss"][0]
    preds = [cls.predict(gt_pose3d(s)).index for s in tiny_poses.test]
    assert metrics.top1(preds, [s.action for s in tiny_poses.test]) > 2.0 / len(tiny_poses.action_names)
    again = build("action", cfg, seed=0)
    again.load_state(cls.state())
    s = tiny_poses.test[0]
    assert np.allclose(again.predict(gt_pose3d(s)).scores, cls.predict(gt_pose3d(s)).scores, atol=1e-6)


def test_bad_architecture_file(tmp_path):
    with pytest.raises(InputError, match="architecture file not found"):
        build("action", {"type": "searched_cnn", "arch": str(tmp_path / "none.json")})
    (tmp_path / "bad.json").write_text('{"space": "macro", "arc": {"layers": [{"op": "conv_7x7", "skips": []}]}}')
    with pytest.raises(InputError, match="bad.json"):
        build("action", {"type": "searched_cnn", "arch": str(tmp_path / "bad.json")})
