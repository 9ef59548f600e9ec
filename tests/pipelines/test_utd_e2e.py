"""Real actions end to end at tiny sizes: UTD-MHAD evaluated on any folder of skeleton files (3D in, and 2D ->
lifter -> classifier), bad folders refused before anything is written, and a real video through
rgb_to_action_real.yaml (MediaPipe -> lifter -> UTD-MHAD classifier) writing top5, segments and the timeline."""
import json

import numpy as np
import pytest
from pipeline_run import run_pipeline
from scipy.io import savemat

from common.paths import shared
from common.utd_mhad import UTD_ACTIONS

UTD = shared("utd_mhad")
VIDEO = shared("video", "test.avi")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not UTD.is_dir(), reason="needs ../shared/data/utd_mhad")]

LIFT = ["stages.stage2_lift.epochs=1", "stages.stage2_lift.width=32", "stages.stage2_lift.train_data.real_mocap=false",
        "stages.stage2_lift.train_data.synthetic_cfg.frames=8",
        "stages.stage2_lift.train_data.synthetic_cfg.subjects.train=2",
        "stages.stage2_lift.train_data.synthetic_cfg.per_class.train=1"]
TINY = ["data.train_subjects=[1,3]", "stages.stage3_action.epochs=2", "stages.stage3_action.width=8",
        "stages.stage3_action.chain_views=1", *LIFT]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A test folder of subject 5's first trials (one per class for 9 classes, one in a subfolder)."""
    tmp = tmp_path_factory.mktemp("utd")
    for a in range(1, 10):
        f = UTD / f"a{a}_s5_t1_skeleton.mat"
        dst = tmp / "test" / ("sub" if a == 9 else "") / f.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.symlink_to(f)
    return tmp


def test_utd_mhad_on_a_test_folder(folders):
    tmp = folders
    r = run_pipeline(tmp, "pipelines/utd_mhad.yaml", *TINY, f"data.test_dir={tmp / 'test'}")
    rep = json.loads((tmp / "out" / "report.json").read_text())
    s3, e2e = rep["stage3_action"], rep["end_to_end"]
    assert s3["labels"] == list(UTD_ACTIONS) and s3["n_clips"] == 9 and s3["input"] == "ground truth"
    cm = np.asarray(e2e["confusion_matrix"])
    assert cm.shape == (27, 27) and cm.sum() == 9 and (cm.sum(1)[:9] == 1).all()
    assert 0 <= s3["top1"] <= 1 and 0 <= e2e["top1"] <= 1
    assert e2e["input"] == "ground-truth 2D through the oracle detector"
    assert [c["true"] for c in e2e["per_clip"]] == list(range(9))
    assert all(0 < c["probability"] <= 1 for c in e2e["per_clip"])
    assert rep["stage2_lift"]["mpjpe_mm"] > 0  # the lifter measured against the Kinect skeletons
    assert "stage3_action: no checkpoint" in r.stdout
    # trained through the chain: the lifter's output for one virtual view of each of 2 subjects x 3 trials, plus
    # the clean 3D
    assert rep["train"]["stage3_action"]["n_train_sequences"] == 2 * (27 * 2 * 3)
    assert (tmp / "out" / "confusion_end_to_end.png").stat().st_size > 0


def _bad_files(tmp):
    bad = {}
    for name, arrays in {"no_skel": {"skel": np.zeros((20, 3, 5))}, "shape": {"d_skel": np.zeros((20, 2, 5))},
                         "nan": {"d_skel": np.full((20, 3, 5), np.nan)}}.items():
        d = tmp / "bad" / name
        d.mkdir(parents=True)
        savemat(str(d / "a1_s2_t1_skeleton.mat"), arrays)
        bad[name] = d
    (tmp / "bad" / "empty").mkdir()
    bad["empty"] = tmp / "bad" / "empty"
    return bad


@pytest.mark.parametrize("case, message", [("no_skel", "missing field 'd_skel'"), ("shape", "expected shape"),
                                           ("nan", "NaN"), ("empty", "no .mat files")])
def test_bad_test_folders_are_one_line_errors_before_training(tmp_path, case, message):
    d = _bad_files(tmp_path)[case]
    r = run_pipeline(tmp_path, "pipelines/utd_mhad.yaml", *TINY, f"data.test_dir={d}", check=False)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert r.returncode == 2 and len(errors) == 1 and message in errors[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache" / "checkpoints").exists()


def test_unknown_excluded_class_is_an_error(tmp_path):
    r = run_pipeline(tmp_path, "pipelines/utd_mhad.yaml", *TINY, "data.holdout_subjects=[5]",
                     "data.exclude_classes=[moonwalk]", check=False)
    assert r.returncode == 2 and "moonwalk" in r.stderr


@pytest.mark.skipif(not VIDEO.is_file(), reason="../shared/data/video not present")
def test_real_video_labels_top5_segments_and_timeline(folders):
    tmp = folders
    r = run_pipeline(tmp, "pipelines/rgb_to_action_real.yaml", *TINY, "stages.stage3_action.unknown_threshold=0.99",
                     "--input", str(VIDEO), work="video")
    out = tmp / "video"
    for f in ("pose2d.npz", "pose3d.npz", "action.json", "overlay.mp4", "timeline.png", "report.json"):
        assert (out / f).stat().st_size > 0, f
    a = json.loads((out / "action.json").read_text())
    assert a["label_set"] == list(UTD_ACTIONS)
    # a barely trained classifier is never sure: with a threshold of 0.99 the answer is "unknown"
    assert a["unknown"] and a["label"] == "unknown" and a["unknown_threshold"] == 0.99
    top = a["top5"]
    assert len(top) == 5 and top[0]["probability"] == pytest.approx(a["probability"])
    assert all(t["label"] in UTD_ACTIONS for t in top) and sum(t["probability"] for t in top) <= 1 + 1e-6
    assert [t["probability"] for t in top] == sorted((t["probability"] for t in top), reverse=True)
    seg = a["segments"]
    duration = 164 / 25
    assert seg[0]["start_s"] == 0 and seg[-1]["end_s"] == pytest.approx(duration, abs=0.05)
    assert all(x["end_s"] == pytest.approx(y["start_s"]) for x, y in zip(seg, seg[1:]))
    assert a["window_s"] == pytest.approx(80 / 30)  # window_frames (80) at UTD-MHAD's 30 fps: one action
    assert "action: unknown (closest:" in r.stdout


def test_no_test_split_is_an_error_before_training(tmp_path):
    # the shared copy holds the training subjects only
    r = run_pipeline(tmp_path, "pipelines/utd_mhad.yaml", *TINY[1:], check=False)
    assert r.returncode == 2 and "no test sequences" in r.stderr and "data.holdout_subjects" in r.stderr
    trained = tmp_path / "trained"
    trained.mkdir()
    (trained / "a1_s1_t1_skeleton.mat").symlink_to(UTD / "a1_s1_t1_skeleton.mat")
    r = run_pipeline(tmp_path, "pipelines/utd_mhad.yaml", *TINY[1:], f"data.test_dir={trained}", check=False)
    assert r.returncode == 2 and "only subjects trained on" in r.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache" / "checkpoints").exists()
