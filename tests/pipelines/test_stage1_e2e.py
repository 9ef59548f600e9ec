"""Stage 1 end to end: detect2d_eval.yaml on the real annotated people, and rgb_to_action_mediapipe.yaml on a
real video (``--input``: a video file with a frame stride, a folder of images, key-points imported back)."""
import json

import cv2
import numpy as np
import pytest
from pipeline_run import run_pipeline

from common.handoff import Pose2DSeq
from common.paths import shared

pytestmark = pytest.mark.e2e

pytest.importorskip("mediapipe")
COCO, MPII, VIDEO = shared("images", "coco"), shared("images", "mpii"), shared("video", "test.avi")
#: MediaPipe on one crop per person: the ensemble's quickest setting
QUICK = ["stages.stage1_2d.paddings=[1.5]", "stages.stage1_2d.context=[0.0]", "stages.stage1_2d.refine=1",
         "stages.stage1_2d.flip_test=false"]


@pytest.mark.skipif(not COCO.is_dir() or not MPII.is_dir(), reason="../shared/data/images not present")
def test_detect2d_eval_on_coco_then_mpii(tmp_path):
    run_pipeline(tmp_path, "pipelines/detect2d_eval.yaml", *QUICK, f"data.coco_json={COCO / 'test_coco.json'}",
                 f"data.image_dir={COCO}", work="coco")
    rep = json.loads((tmp_path / "coco" / "report.json").read_text())["stage1_2d"]
    assert rep["n_persons"] == 12 and list(rep["per_set"]) == ["coco"]  # only what was asked: no default sets
    assert len(rep["per_person"]) == 12 and all(0 <= p["pck"] <= 1 for p in rep["per_person"])
    assert 0.7 <= rep["pck"] <= 1.0 and rep["fps"] > 0 and "pckh" not in rep  # MediaPipe, pretrained
    assert (tmp_path / "coco" / "detections.png").stat().st_size > 0
    # MPII's format: the same command with data.mpii_json
    run_pipeline(tmp_path, "pipelines/detect2d_eval.yaml", *QUICK, f"data.mpii_json={MPII / 'test_mpii.json'}",
                 f"data.image_dir={MPII}", work="mpii")
    rep = json.loads((tmp_path / "mpii" / "report.json").read_text())["stage1_2d"]
    assert rep["n_persons"] == 5 and list(rep["per_set"]) == ["mpii"] and rep["pck"] >= 0.7


@pytest.mark.skipif(not COCO.is_dir(), reason="../shared/data/images not present")
def test_detect2d_eval_bad_image_dir(tmp_path):
    r = run_pipeline(tmp_path, "pipelines/detect2d_eval.yaml", f"data.coco_json={COCO / 'test_coco.json'}",
                     f"data.image_dir={tmp_path}", check=False)
    assert r.returncode == 2 and "not found in" in r.stderr and not (tmp_path / "out" / "report.json").exists()


TINY = ["data.frames=16", "data.image_size=128", "data.subjects.train=2", "data.subjects.val=1",
        "data.subjects.test=1", "data.per_class.train=2", "data.per_class.val=1", "data.per_class.test=1",
        "stages.stage2_lift.epochs=2", "stages.stage2_lift.width=64",
        "stages.stage3_action.epochs=3", "stages.stage3_action.width=8"]


@pytest.fixture(scope="module")
def video_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mediapipe_video")
    r = run_pipeline(tmp, "pipelines/rgb_to_action_mediapipe.yaml", *TINY, "video.stride=2", "--input",
                     str(VIDEO), work="video")
    return tmp, r


@pytest.mark.skipif(not VIDEO.is_file(), reason="../shared/data/video not present")
def test_mediapipe_pipeline_on_a_real_video(video_run):
    tmp, r = video_run
    out = tmp / "video"
    for f in ("pose2d.npz", "pose3d.npz", "action.json", "overlay.mp4", "skeleton3d.png", "report.json"):
        assert (out / f).stat().st_size > 0, f
    p2 = Pose2DSeq.load(out / "pose2d.npz")
    assert p2.keypoints.shape[:2] == (1, 82) and p2.image_size == (320, 240)  # 164 frames, every 2nd
    assert p2.fps == pytest.approx(12.5) and p2.layout == "h36m17"
    assert 0.1 < p2.scores.mean() <= 1.0  # MediaPipe's visibility, carried as scores
    rep = json.loads((out / "report.json").read_text())
    assert rep["fps"] > 0 and rep["frame_stride"] == 2 and rep["n_frames"] == 82
    assert rep["stage1_2d"]["person"]["policy"] == "all"
    assert rep["stage1_2d"]["person"]["frames"] == 82
    action = json.loads((out / "action.json").read_text())
    assert action["label"] in action["label_set"] + ["unknown"]
    # one person: one track, the main person, over the whole clip, with the top-level answer
    assert [(t["id"], t["frames"]) for t in action["tracks"]] == [(0, [0, 81])]
    assert action["tracks"][0]["label"] == action["label"] and action["tracks"][0]["segments"]


NTU = shared("ntu")


@pytest.mark.skipif(not NTU.is_dir() or not VIDEO.is_file(), reason="../shared/data/ntu not present")
def test_several_people_each_tracked_and_labelled(video_run, tmp_path):
    """Three real people side by side (common.annotated.crowd_clip of the NTU clip): three tracks, each with
    its own id, frames and action, person 0 the central one; the overlay draws each in its own colour."""
    from common.annotated import crowd_clip, kinect_clips
    from common.plots import TRACK_RGB

    tmp, _ = video_run
    frames, joints, _, _ = crowd_clip(kinect_clips(NTU)[0], 3, (480, 360))
    frames = frames[:40]
    video = tmp_path / "three.mp4"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (480, 360))
    for f in frames:
        w.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    w.release()
    run_pipeline(tmp, "pipelines/rgb_to_action_mediapipe.yaml", *TINY, "--input", str(video), work="three")
    out = tmp / "three"
    p2 = Pose2DSeq.load(out / "pose2d.npz")
    assert p2.keypoints.shape[:2] == (3, 40)
    # each track stays on one person: its hips' mean x lies in that person's column, the central one first
    cols = [int(np.nanmean(p2.keypoints[k, :, [1, 4], 0]) // 160) for k in range(3)]
    assert cols[0] == 1 and sorted(cols) == [0, 1, 2]
    assert np.all(p2.scores.max(-1) > 0)  # everyone seen in every frame
    action = json.loads((out / "action.json").read_text())
    assert [(t["id"], t["frames"]) for t in action["tracks"]] == [(0, [0, 39]), (1, [0, 39]), (2, [0, 39])]
    assert all(t["label"] in action["label_set"] + ["unknown"] and t["segments"] for t in action["tracks"])
    rep = json.loads((out / "report.json").read_text())
    assert rep["stage1_2d"]["person"]["max_people"] == 3
    # the overlay: each person's colour is drawn near its own column in the middle frame
    cap = cv2.VideoCapture(str(out / "overlay.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 20)
    ok, bgr = cap.read()
    assert ok
    img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(int)
    for k, c in enumerate(cols):
        near = np.abs(img[:, c * 160:(c + 1) * 160] - TRACK_RGB[k]).sum(-1) < 60
        assert near.sum() > 50, k


@pytest.mark.skipif(not VIDEO.is_file(), reason="../shared/data/video not present")
def test_image_folder_input_and_imported_keypoints(video_run):
    tmp, _ = video_run
    from common.video import read_video
    frames, _ = read_video(VIDEO, max_frames=6)
    folder = tmp / "frames"
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    r = run_pipeline(tmp, "pipelines/rgb_to_action_mediapipe.yaml", *TINY, "--input", str(folder), work="folder")
    assert "training" not in r.stdout  # the chain trained for the video is reused
    p2 = Pose2DSeq.load(tmp / "folder" / "pose2d.npz")
    assert p2.keypoints.shape[:2] == (1, 6)
    # the same frames with stage 1 replaced by the key-points just written: identical 2D
    r = run_pipeline(tmp, "pipelines/rgb_to_action_mediapipe.yaml", *TINY, "stages.stage1_2d.type=precomputed",
                     f"stages.stage1_2d.path={tmp / 'folder' / 'pose2d.npz'}",
                     "stages.stage3_action.train_on=ground_truth", "--input", str(folder), work="imported")
    q2 = Pose2DSeq.load(tmp / "imported" / "pose2d.npz")
    np.testing.assert_allclose(q2.keypoints, p2.keypoints, atol=1e-4)
    assert json.loads((tmp / "imported" / "report.json").read_text())["stage1_2d"]["format"] == "npz"
