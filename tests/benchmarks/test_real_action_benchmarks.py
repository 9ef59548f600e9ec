"""The real-action benchmarks at tiny sizes: the arms of compare_real_actions, the open-set calibration's
threshold rule, and real_video on the shared video."""
import json

import numpy as np
import pytest

from benchmarks import calibrate_unknown as CU
from benchmarks import compare_real_actions as CR
from benchmarks import real_video as RV
from common.paths import shared

UTD = shared("utd_mhad")
TINY = ["data.train_subjects=[1,3]", "stages.stage3_action.width=8", "stages.stage3_action.chain_views=1",
        "stages.stage2_lift.epochs=1", "stages.stage2_lift.width=32", "stages.stage2_lift.train_data.real_mocap=false",
        "stages.stage2_lift.train_data.synthetic_cfg.frames=8",
        "stages.stage2_lift.train_data.synthetic_cfg.subjects.train=2",
        "stages.stage2_lift.train_data.synthetic_cfg.per_class.train=1"]


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path / "cache"))
    for mod, name in ((CR, "compare_real_actions"), (CU, "calibrate_unknown"), (RV, "real_video")):
        monkeypatch.setattr(mod, "OUT", tmp_path / "results" / name)
        monkeypatch.setattr(mod, "WORK", tmp_path / "work" / name)
    return tmp_path


@pytest.mark.skipif(not UTD.is_dir(), reason="needs ../shared/data/utd_mhad")
def test_compare_real_actions_two_arms(sandbox):
    CR.main(["--only", "both", "clean_3d", "--seeds", "0", "--holdout", "3", "--epochs", "1", "--set", *TINY])
    rep = json.loads((sandbox / "results" / "compare_real_actions.json").read_text())
    assert {r["arm"] for r in rep["rows"]} == {"both", "clean_3d"} and all(r["holdout"] == 3 for r in rep["rows"])
    assert all(r["n_clips"] == 108 for r in rep["rows"])  # subject 3: 27 classes x 4 trials
    md = (sandbox / "results" / "compare_real_actions.md").read_text()
    assert "| both |" in md and "| clean_3d |" in md and "chain + clean 3D beats clean 3D" in md


def test_calibration_thresholds_come_from_the_other_folds(sandbox, monkeypatch):
    rng = np.random.default_rng(0)
    folds = {k: {"fold": k, "excluded": [f"c{k}"], "known_correct": [True] * 100,
                 "known": list(rng.uniform(0.4 + 0.1 * k, 1.0, 100)), "known_distance": list(rng.uniform(0, 0.3, 100)),
                 "unknown": list(rng.uniform(0.0, 0.9, 30)), "unknown_distance": list(rng.uniform(0.4, 0.6, 30))}
             for k in range(3)}
    monkeypatch.setattr(CU, "run_fold", lambda k, *a: folds[k])
    CU.main(["--folds", "3", "--false-unknown", "0.1"])
    rep = json.loads((sandbox / "results" / "calibrate_unknown.json").read_text())
    for r in rep["rows"]:
        others = [k for k in range(3) if k != r["fold"]]
        kp = [x for k in others for x in folds[k]["known"]]
        kd = [x for k in others for x in folds[k]["known_distance"]]
        if r["rule"] == "probability":
            assert r["unknown_threshold"] == pytest.approx(np.quantile(kp, 0.1)) and "unknown_distance" not in r
        elif r["rule"] == "distance":
            assert r["unknown_distance"] == pytest.approx(np.quantile(kd, 0.9)) and "unknown_threshold" not in r
        else:
            assert r["unknown_threshold"] == pytest.approx(np.quantile(kp, 0.05))
            assert r["unknown_distance"] == pytest.approx(np.quantile(kd, 0.95))
    # here the distance separates the left-out classes far better than the probability: it is chosen
    assert rep["best"] == "distance"
    assert rep["pooled"]["distance"]["thresholds"]["unknown_distance"] == pytest.approx(
        np.quantile([x for k in range(3) for x in folds[k]["known_distance"]], 0.9))
    assert (sandbox / "results" / "figures" / "calibrate_unknown.png").stat().st_size > 0


def test_rates():
    r = CU.rates([0.2, 0.5, 0.9, 0.95], [0.1, 0.1, 0.1, 0.5], [0.1, 0.3, 0.6], [0.1, 0.1, 0.1],
                 {"unknown_threshold": 0.4, "unknown_distance": 0.3})
    assert r["false_unknown"] == 0.5 and r["missed_unknown"] == pytest.approx(1 / 3)  # 0.1 and 0.3 caught
    assert r["confident_wrong"] == pytest.approx(1 / 3)


@pytest.mark.skipif(not (UTD.is_dir() and shared("video", "test.avi").is_file()), reason="needs the shared data")
def test_real_video_benchmark(sandbox):
    RV.main(["--videos", str(shared("video", "test.avi")), "--size", "160x120", "--set", *TINY,
             "stages.stage3_action.epochs=1"])
    rep = json.loads((sandbox / "results" / "real_video.json").read_text())
    row = rep["rows"][0]
    assert row["frames"] == 164 and row["fps"] > 0 and len(row["top5"]) == 5 and row["segments"]
    assert (sandbox / "results" / "figures" / "real_video_timeline.png").stat().st_size > 0
    assert "| test_160x120.mp4 | 164 |" in (sandbox / "results" / "real_video.md").read_text()
