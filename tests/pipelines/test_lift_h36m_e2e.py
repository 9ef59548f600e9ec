"""``pipelines/lift_h36m.yaml`` end to end on files written in VideoPose3D's format: the standard subject split,
each subject's own real cameras, a detector's 2D from a data_2d file, and one-line errors."""
import json

import numpy as np
import pytest
from pipeline_run import run_pipeline

from common.paths import shared

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not (shared("mocap", "bandai").is_dir() and shared("h36m", "cameras.pkl").is_file()),
                                 reason="needs ../shared/data/mocap and h36m/cameras.pkl")]
TINY = ["data.train_subjects=[S1,S5]", "stages.stage2_lift.epochs=2", "stages.stage2_lift.width=32"]
CLIPS = {"S1": "dataset-1_walk_normal_001", "S5": "dataset-1_bow_normal_001", "S9": "dataset-1_bye_normal_001",
         "S11": "dataset-1_guide_normal_001"}


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    """data_3d_h36m.npz (32 joints, metres, the H36M world: the pelvis at the origin, z up) from real Bandai clips,
    one subject each, and a data_2d file of the test subjects' exact 2D moved by 3 px."""
    from common.bvh import load_bvh_h36m17
    from common.camera import load_h36m_cameras
    from common.mocap import centre_on_origin, place_on_floor
    from common.videopose3d import H36M32_KEPT, metadata_2d, write_positions_2d, write_positions_3d
    tmp = tmp_path_factory.mktemp("h36m_npz")
    cams = load_h36m_cameras(shared("h36m", "cameras.pkl"))
    p3, p2 = {}, {}
    for subject, clip in CLIPS.items():
        k17, _ = load_bvh_h36m17(shared("mocap", "bandai", clip + ".bvh"))
        k17 = centre_on_origin(place_on_floor(k17))  # inside the capture area of the H36M cameras
        k32 = np.zeros((len(k17), 32, 3), np.float32)
        k32[:, list(H36M32_KEPT)] = k17
        p3[subject] = {"Walking 1": k32}
        if subject in ("S9", "S11"):
            views = [c for (s, _), c in sorted(cams.items()) if s == subject]
            p2[subject] = {"Walking 1": [c.project(c.world_to_camera(k17.reshape(-1, 3))).reshape(-1, 17, 2) + 3.0
                                         for c in views]}
    write_positions_3d(tmp / "data_3d_h36m.npz", p3)
    write_positions_2d(tmp / "data_2d_h36m_test.npz", p2, metadata_2d("h36m"))
    return tmp


def run(tmp, *sets, work="out", check=True):
    return run_pipeline(tmp, "pipelines/lift_h36m.yaml", f"data.npz_3d={tmp / 'data_3d_h36m.npz'}", *TINY, *sets,
                        work=work, check=check)


def test_standard_split_and_protocols(npz):
    run(npz)
    rep = json.loads((npz / "out" / "report.json").read_text())["stage2_lift"]
    # the test subjects at every frame, through their own 4 cameras; the trained ones never
    assert set(rep["per_file"]) == {"S9/Walking 1", "S11/Walking 1"}
    assert rep["n_frames"] == 4 * (111 + 86)
    assert 0 < rep["p_mpjpe_mm"] <= rep["mpjpe_mm"] < 1000
    r2 = run(npz, f"data.npz_2d={npz / 'data_2d_h36m_test.npz'}", work="out2")
    assert "loaded from" in r2.stdout and "training" not in r2.stdout  # the 2D of the test never changes training
    rep2 = json.loads((npz / "out2" / "report.json").read_text())["stage2_lift"]
    assert rep2["n_frames"] == rep["n_frames"] and rep2["mpjpe_mm"] != rep["mpjpe_mm"]


@pytest.mark.parametrize("sets, message", [
    (["data.test_subjects=[S9,S7]"], "no subject(s) S7"),
    (["data.test_subjects=[S1]"], "both in train_subjects and test_subjects"),
    (["data.npz_2d=/nonexistent.npz"], "no such file"),
])
def test_bad_input_gives_one_line(npz, sets, message):
    r = run(npz, *sets, work="bad", check=False)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr[-400:]
    assert not (npz / "bad" / "report.json").exists()
