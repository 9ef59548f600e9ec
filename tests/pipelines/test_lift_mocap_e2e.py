"""``pipelines/lift_mocap.yaml`` end to end with tiny sizes: evaluation on any folder of motion files of any format,
per-file numbers, the lifter swapped with one --set, and one-line errors for bad folders and files."""
import json

import numpy as np
import pytest
from pipeline_run import run_pipeline

from common.paths import shared

BANDAI = shared("mocap", "bandai")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not BANDAI.is_dir(), reason="needs ../shared/data/mocap")]
TINY = ["data.synthetic_cfg.subjects.train=2", "data.synthetic_cfg.subjects.val=1",
        "data.synthetic_cfg.subjects.test=1", "data.synthetic_cfg.per_class.train=1",
        "data.synthetic_cfg.per_class.val=1",
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
    (["data.bvh_dir=/nonexistent/folder"], "motion folder not found"),
    (["data.synthetic=false", "data.real_mocap=false"], "no training data"),
])
def test_bad_data_gives_a_one_line_error(folders, sets, message):
    r = run(folders, *sets, work="bad", check=False)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1


def _h36m17_as_npz(path, clip, subject="S9", action="Walking"):
    """``clip`` (a real BVH) written as VideoPose3D's data_3d npz with Human3.6M's 32 joints."""
    from common.bvh import load_bvh_h36m17
    from common.videopose3d import H36M32_KEPT, write_positions_3d
    k17, _ = load_bvh_h36m17(clip)
    k32 = np.zeros((len(k17), 32, 3))
    k32[:, list(H36M32_KEPT)] = k17
    write_positions_3d(path, {subject: {action: k32.astype(np.float32)}})


def test_motion_dir_takes_every_format(folders):
    """One folder: a BVH of another rig (Mixamo-style names, inches), ASF/AMC, a DeepMimic motion with its
    character file, a VideoPose3D npz; each is evaluated and reported per file."""
    tmp = folders
    mixed = tmp / "mixed"
    if not mixed.exists():
        mocap = shared("mocap")
        (mixed / "data" / "motions").mkdir(parents=True)
        (mixed / "data" / "characters").mkdir()
        (mixed / "walk.bvh").symlink_to(mocap / "pymo" / "AV_8Walk_Meredith_HVHA_Rep1.bvh")
        for f in ("HDM_dg.asf", "HDM_dg_06-03_03_120.amc"):
            (mixed / f).symlink_to(mocap / "hdm05" / f)
        (mixed / "data" / "characters" / "humanoid3d.txt").symlink_to(
            mocap / "deepmimic" / "data" / "characters" / "humanoid3d.txt")
        (mixed / "data" / "motions" / "kick.txt").symlink_to(
            mocap / "deepmimic" / "data" / "motions" / "humanoid3d_kick.txt")
        (mixed / "README.md").write_text("not motion")
        _h36m17_as_npz(mixed / "data_3d_test.npz", BANDAI / "dataset-1_bye_normal_001.bvh")
    run(tmp, f"data.mocap_dirs=[{tmp / 'train'}]", f"data.motion_dir={mixed}", work="mixed_out")
    rep = json.loads((tmp / "mixed_out" / "report.json").read_text())["stage2_lift"]
    assert set(rep["per_file"]) == {"walk.bvh", "HDM_dg_06-03_03_120.amc", "kick.txt", "data_3d_test.npz#S9/Walking"}
    assert rep["per_file"]["HDM_dg_06-03_03_120.amc"]["frames"] == 8 * 202
    assert rep["per_file"]["data_3d_test.npz#S9/Walking"]["frames"] == 8 * 111
    assert all(0 < f["mpjpe_mm"] < 1000 for f in rep["per_file"].values())


def _bad_files(tmp):
    """A folder per kind of bad input: (folder, what the one-line error says)."""
    pymo = shared("mocap", "pymo", "AV_8Walk_Meredith_HVHA_Rep1.bvh").read_text()
    head, motion = pymo.split("MOTION")
    rows = motion.strip().split("\n")
    cases = {
        "missing_channels": ("MOTION\n".join([head,
                                              "\n".join(rows[:2] + [" ".join(r.split()[:-1]) for r in rows[2:]])]),
                             "channels"),
        "nan": (head + "MOTION\n" + "\n".join(rows[:2] + [rows[2].replace(rows[2].split()[5], "nan", 1)] + rows[3:]),
                "non-finite"),
        "no_legs": ("\n".join(line for line in pymo.split("\n")), "cannot place h36m17 joint"),
    }
    out = []
    for name, (text, message) in cases.items():
        d = tmp / "bad" / name
        d.mkdir(parents=True, exist_ok=True)
        if name == "no_legs":  # rename the leg joints away: a skeleton with no legs
            text = text.replace("UpLeg", "UpperTail").replace("LeftLeg", "LeftTail").replace("RightLeg", "RightTail")
            text = text.replace("LeftFoot", "LeftFin").replace("RightFoot", "RightFin")
        (d / "clip.bvh").write_text(text)
        out.append((d, message))
    d = tmp / "bad" / "npz"
    d.mkdir(parents=True, exist_ok=True)
    np.savez(d / "data_3d_x.npz", positions=np.zeros((3, 17, 3)))
    out.append((d, "positions_3d"))
    return out


def test_bad_motion_files_give_one_line_and_no_output(folders):
    for folder, message in _bad_files(folders):
        work = f"bad_{folder.name}"
        r = run(folders, f"data.mocap_dirs=[{folders / 'train'}]", f"data.motion_dir={folder}", work=work, check=False)
        assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, (folder.name, r.stderr[-500:])
        assert not (folders / work / "report.json").exists()
