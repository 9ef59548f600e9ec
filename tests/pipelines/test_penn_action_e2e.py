"""Stage 3 pipelines end to end with tiny sizes on real skeletons: Penn Action from 2D and from lifted 3D
(evaluation on any folder of .mat files), the searched architecture through one --set, and the NTU smoke run."""
import json

import numpy as np
import pytest
from pipeline_run import run_pipeline

from common.paths import shared
from common.penn_action import PENN_ACTIONS
from common.readers import read_penn_mat

PENN = shared("penn_action", "train")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not PENN.is_dir(), reason="needs ../shared/data/penn_action")]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A small training folder (5 videos per class) and a disjoint test folder with a subfolder (1 per class),
    as links to the shared files."""
    tmp = tmp_path_factory.mktemp("penn")
    seen = {}
    for f in sorted(PENN.glob("*.mat")):
        a = read_penn_mat(f)["action"]
        k = seen.get(a, 0)
        if k < 6:
            dst = tmp / "train" / f.name if k < 5 else tmp / "test" / ("sub" if len(seen) % 2 else "") / f.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(f)
            seen[a] = k + 1
    assert len(seen) == 15
    return tmp


def tiny(tmp, *extra):
    return [f"data.train_dir={tmp / 'train'}", f"data.test_dir={tmp / 'test'}", "data.val_fraction=0.2",
            "data.holdout_fraction=0.0", "stages.stage3_action.epochs=2", *extra]


def test_penn_action_2d_on_a_test_folder(folders):
    tmp = folders
    r = run_pipeline(tmp, "pipelines/penn_action_single.yaml", *tiny(tmp, "stages.stage3_action.width=8"))
    rep = json.loads((tmp / "out" / "report.json").read_text())
    sec = rep["stage3_action"]
    assert sec["labels"] == list(PENN_ACTIONS) and sec["n_clips"] == 15  # every file of the folder, recursively
    cm = np.asarray(sec["confusion_matrix"])
    assert cm.shape == (15, 15) and (cm.sum(1) == 1).all()  # rows = true classes, one test video each
    assert 0 <= sec["top1"] <= 1 and 0 <= sec["top1_single_clip"] <= 1
    assert sec["input"] == "ground truth" and "stage2_lift" not in rep
    for f in ("confusion_stage3_action.png", "encoded_clip.png"):
        assert (tmp / "out" / f).stat().st_size > 0, f
    assert "training" in r.stdout
    # the test folder is evaluation only: another one reuses the trained model
    r = run_pipeline(tmp, "pipelines/penn_action_single.yaml", *tiny(tmp, "stages.stage3_action.width=8"),
            f"data.test_dir={tmp / 'test' / 'sub'}", work="again")
    assert "loaded from" in r.stdout and "training" not in r.stdout
    assert json.loads((tmp / "again" / "report.json").read_text())["stage3_action"]["n_clips"] < 15


def test_searched_architecture_with_one_set(folders):
    tmp = folders
    run_pipeline(tmp, "pipelines/penn_action_single.yaml", *tiny(tmp, "stages.stage3_action.type=searched_cnn",
                                                  "stages.stage3_action.arch=configs/arch/penn_action_macro.json",
                                                  "stages.stage3_action.filters=8"), work="searched")
    rep = json.loads((tmp / "searched" / "report.json").read_text())
    assert rep["config"]["stages"]["stage3_action"] == "searched_cnn"
    assert 0 <= rep["stage3_action"]["top1"] <= 1


def test_penn_action_lifted_to_3d(folders):
    tmp = folders
    lift = ["stages.stage2_lift.epochs=1", "stages.stage2_lift.width=32",
            "stages.stage2_lift.train_data.real_mocap=false", "stages.stage2_lift.train_data.synthetic_cfg.frames=8",
            "stages.stage2_lift.train_data.synthetic_cfg.subjects.train=2",
            "stages.stage2_lift.train_data.synthetic_cfg.per_class.train=1"]
    r = run_pipeline(tmp, "pipelines/penn_action_3d.yaml", *tiny(tmp, "stages.stage3_action.width=8", *lift),
                     work="lifted")
    assert "stage2_lift: trains on its own data section (mocap)" in r.stdout
    rep = json.loads((tmp / "lifted" / "report.json").read_text())
    assert "stage2_lift" not in rep  # no 3D ground truth to measure the lifter against
    assert rep["stage3_action"]["input"] == "predicted by the upstream stages" and rep["stage3_action"]["n_clips"] == 15


def test_the_default_penn_pipeline_is_the_stream_ensemble(folders):
    """pipelines/penn_action.yaml: one pose_cnn per stream, equal weights, the weights' choice kept switchable."""
    tmp = folders
    r = run_pipeline(tmp, "pipelines/penn_action.yaml", "data.train_dir=" + str(tmp / "train"),
                     f"data.test_dir={tmp / 'test'}", "data.val_fraction=0.2", "data.holdout_fraction=0.0",
                     "stages.stage3_action.shared.epochs=1", work="ensemble")
    rep = json.loads((tmp / "ensemble" / "report.json").read_text())
    tr = rep["train"]["stage3_action"]
    assert set(tr["weights"]) == {"joints", "bones", "motion"} and len(set(tr["weights"].values())) == 1
    assert rep["stage3_action"]["n_clips"] == 15 and 0 <= rep["stage3_action"]["top1"] <= 1
    # weights chosen on val: an inference option, so the trained members are reused
    r = run_pipeline(tmp, "pipelines/penn_action.yaml", "data.train_dir=" + str(tmp / "train"),
                     f"data.test_dir={tmp / 'test'}", "data.val_fraction=0.2", "data.holdout_fraction=0.0",
                     "stages.stage3_action.shared.epochs=1", "stages.stage3_action.weights=val", work="ensemble_val")
    assert "loaded from" in r.stdout and "training" not in r.stdout


def test_bad_test_folder_is_a_one_line_error(folders, tmp_path):
    r = run_pipeline(folders, "pipelines/penn_action_single.yaml", *tiny(folders), f"data.test_dir={tmp_path}",
                     check=False)
    assert r.returncode == 2 and "no .mat files found" in r.stderr


@pytest.mark.skipif(not shared("ntu").is_dir(), reason="needs ../shared/data/ntu")
def test_ntu_smoke(tmp_path):
    r = run_pipeline(tmp_path, "pipelines/ntu.yaml", f"data.test_dir={shared('ntu')}", "stages.stage3_action.epochs=3",
            "stages.stage3_action.width=8")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())["stage3_action"]
    assert len(rep["labels"]) == 60 and rep["labels"][0] == "drink water" and rep["n_clips"] == 1
    assert "stage3_action: no checkpoint" in r.stdout
    r = run_pipeline(tmp_path, "pipelines/ntu.yaml", "seed=0", check=False, work="no_test")
    assert r.returncode == 2 and "data.test_dir" in r.stderr
