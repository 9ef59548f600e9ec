"""``pipelines/lift_mocap.yaml`` end to end with tiny sizes: evaluation on any folder of BVH files, per-file
numbers, the lifter swapped with one --set, and one-line errors for bad folders."""
import json

import pytest

from common.paths import shared
from pipeline_run import run_pipeline

BANDAI = shared("mocap", "bandai")
pytestmark = pytest.mark.skipif(not BANDAI.is_dir(), reason="needs ../shared/data/mocap")
TINY = ["data.synthetic_cfg.subjects.train=2", "data.synthetic_cfg.subjects.val=1", "data.synthetic_cfg.subjects.test=1",
        "data.synthetic_cfg.per_class.train=1", "data.synthetic_cfg.per_class.val=1",
        "data.synthetic_cfg.per_class.test=1", "data.synthetic_cfg.frames=8", "data.mocap_fps=5",
        "stages.stage2_lift.epochs=2", "stages.stage2_lift.synth_epochs=2", "stages.stage2_lift.width=32"]


def run(tmp_path, *sets, work="out", check=True):
    return run_pipeline(tmp_path, "pipelines/lift_mocap.yaml", *TINY, *sets, work=work, check=check)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Training mocap and a held-out evaluation folder, as links to two disjoint sets of real Bandai files."""
    tmp = tmp_path_factory.mktemp("lift_mocap")
    (tmp / "train").mkdir()
    (tmp / "eval" / "sub").mkdir(parents=True)
    (tmp / "train" / "bow.bvh").symlink_to(BANDAI / "dataset-1_bow_normal_001.bvh")
    (tmp / "eval" / "bye.bvh").symlink_to(BANDAI / "dataset-1_bye_normal_001.bvh")
    (tmp / "eval" / "sub" / "guide.bvh").symlink_to(BANDAI / "dataset-1_guide_normal_001.bvh")
    return tmp


def test_bvh_folder_evaluation_writes_the_report(folders):
    tmp = folders
    run(tmp, f"data.mocap_dirs=[{tmp / 'train'}]", f"data.bvh_dir={tmp / 'eval'}")
    rep = json.loads((tmp / "out" / "report.json").read_text())["stage2_lift"]
    for k in ("mpjpe_mm", "p_mpjpe_mm", "n_mpjpe_mm", "mpjpe_mm_noisy", "p_mpjpe_mm_noisy", "fps"):
        assert rep[k] > 0, k
    assert rep["p_mpjpe_mm"] <= rep["mpjpe_mm"] < 1000
    assert set(rep["per_file"]) == {"bye.bvh", "guide.bvh"}  # the folder is searched recursively
    # 8 views of every frame of both files (the evaluation keeps every frame)
    assert rep["n_frames"] == 8 * (111 + 86) == sum(f["frames"] for f in rep["per_file"].values())
    mean = sum(f["mpjpe_mm"] * f["frames"] for f in rep["per_file"].values()) / rep["n_frames"]
    assert abs(mean - rep["mpjpe_mm"]) < 1e-3 * rep["mpjpe_mm"]


def test_evaluation_folder_never_changes_the_trained_lifter(folders):
    """data.bvh_dir is an evaluation key: another folder reuses the same checkpoint."""
    tmp = folders
    r = run(tmp, f"data.mocap_dirs=[{tmp / 'train'}]", f"data.bvh_dir={tmp / 'eval' / 'sub'}", work="out2")
    assert "training" not in r.stdout and "loaded from" in r.stdout
    rep = json.loads((tmp / "out2" / "report.json").read_text())["stage2_lift"]
    assert set(rep["per_file"]) == {"guide.bvh"}


def test_lifter_swapped_with_one_set(folders):
    tmp = folders
    r = run(tmp, f"data.mocap_dirs=[{tmp / 'train'}]", f"data.bvh_dir={tmp / 'eval' / 'sub'}",
            "stages.stage2_lift.type=two_stream_mlp", work="out3")
    assert "two_stream_mlp" in r.stdout
    assert json.loads((tmp / "out3" / "report.json").read_text())["config"]["stages"]["stage2_lift"] == "two_stream_mlp"


@pytest.mark.parametrize("sets, message", [
    (["data.bvh_dir=/nonexistent/folder"], "BVH folder not found"),
    (["data.synthetic=false", "data.real_mocap=false"], "no training data"),
])
def test_bad_data_gives_a_one_line_error(folders, sets, message):
    r = run(folders, *sets, work="bad", check=False)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1
