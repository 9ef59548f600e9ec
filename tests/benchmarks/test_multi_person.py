"""The multi-person benchmark's scoring on hand-made people and tracks (the full run, which runs the pipeline,
is ``python benchmarks/multi_person.py``)."""
import json

import numpy as np
import pytest

from benchmarks import multi_person as MP
from common.skeleton import get_layout, shared_joints


def person(layout: str, x: float, y: float, rng) -> np.ndarray:
    """(J, 2) joints of ``layout`` around (x, y): a 40 x 60 px torso (torso size hypot(35, 60) ~ 69.5 px) and the
    other joints scattered inside a 100 x 200 px box."""
    L = get_layout(layout)
    j = np.column_stack([x + rng.uniform(-50, 50, L.n_joints), y + rng.uniform(-40, 160, L.n_joints)])
    for name, (dx, dy) in {"l_shoulder": (20, 0), "r_shoulder": (-20, 0), "l_hip": (15, 60),
                           "r_hip": (-15, 60)}.items():
        j[L[name]] = (x + dx, y + dy)
    return j


def as_h36m(gt: np.ndarray, layout: str, shift=(0.0, 0.0)) -> np.ndarray:
    """An h36m17 detection (17, 2) that copies ``gt``'s shared joints, moved by ``shift``; the others far away."""
    p_idx, g_idx = shared_joints(layout)
    out = np.full((17, 2), 1e4)
    out[p_idx] = gt[g_idx] + shift
    return out


TORSO = np.hypot(35, 60)


def test_torso_size():
    rng = np.random.default_rng(0)
    g = person("coco17", 100, 100, rng)
    assert MP.torso_size(g, "coco17") == pytest.approx(TORSO)
    g[get_layout("coco17")["r_hip"]] = np.nan
    assert np.isnan(MP.torso_size(g, "coco17"))


@pytest.mark.parametrize("layout", ["coco17", "mpii16"])
def test_match_people(layout):
    rng = np.random.default_rng(1)
    a, b, c = person(layout, 100, 100, rng), person(layout, 300, 100, rng), person(layout, 500, 100, rng)
    c[get_layout(layout)["l_hip"]] = np.nan  # c's torso is not labelled: it does not count
    dets = [as_h36m(b, layout, (0.6 * TORSO, 0)),  # 0.6 torso off: too far for b
            as_h36m(a, layout, (0.1 * TORSO, 0)),  # a, 0.1 torso off
            as_h36m(c, layout)]
    rows = MP.match_people([a, b, c], layout, dets)
    assert [r["torso"] for r in rows] == [True, True, False]
    assert [r["match"] for r in rows] == [1, -1, -1]
    assert rows[0]["distance"] == pytest.approx(0.1)
    # a detection matches one person only, the nearer first
    a2 = a + [0.2 * TORSO, 0]
    rows = MP.match_people([a2, a], layout, [as_h36m(a, layout, (0.05 * TORSO, 0))])
    assert [r["match"] for r in rows] == [-1, 0]
    rows = MP.match_people([a2, a], layout, [as_h36m(a, layout, (0.05 * TORSO, 0)), as_h36m(a2, layout)])
    assert [r["match"] for r in rows] == [1, 0]
    # unlabelled joints do not count: the shared joints that are labelled decide
    a3 = a.copy()
    a3[get_layout(layout)["l_knee"]] = np.nan
    assert MP.match_people([a3], layout, [as_h36m(a, layout)])[0]["match"] == 0


def test_summarise_and_group():
    class S:
        def __init__(self, name):
            self.name = name
    groups = MP.group_by_image([S("img1#3"), S("img2#1"), S("img1#7")])
    assert [[s.name for s in g] for g in groups] == [["img1#3", "img1#7"], ["img2#1"]]
    per_image = [{"annotated": 3, "with_torso": 2, "found": 2, "detections": 4, "seconds": 0.5},
                 {"annotated": 1, "with_torso": 1, "found": 0, "detections": 0, "seconds": 0.1}]
    s = MP.summarise(per_image, True)
    assert (s["with_torso"], s["found"], s["images"]) == (3, 2, 2)
    assert s["recall"] == pytest.approx(2 / 3) and s["detections_per_image"] == 2 and s["seconds_per_image"] == 0.3


def test_id_switches():
    nan = np.nan
    d = np.array([[0.1, 0.1, nan, 0.9, 0.1, 0.1, nan, 0.1],
                  [0.3, 0.3, 0.2, 0.2, nan, 0.4, 0.7, nan]])
    n, nearest = MP.id_switches(d)
    assert nearest == [0, 0, 1, 1, 0, 0, -1, 0]
    assert n == 2  # 0 -> 1 at frame 2, 1 -> 0 at frame 4; frame 6 (nobody near) is skipped, no switch at 7
    assert MP.id_switches(np.full((0, 5), nan))[0] == 0


def clip(T=10, seed=2):
    """Two ntu25 people walking right, (2, T, 25, 2), all joints visible."""
    rng = np.random.default_rng(seed)
    base = [person("ntu25", 100, 100, rng), person("ntu25", 400, 100, rng)]
    gt = np.stack([np.stack([b + [3 * t, 0] for t in range(T)]) for b in base])
    return gt, np.ones(gt.shape[:3], bool)


def tracks_from(gt, who, T, absent=()):
    """h36m17 tracks (P, T, 17, 2) and scores: track p at frame t copies person who[p][t]; (p, t) in ``absent``:
    scores 0 there, the key-points kept (as a detector holding the last pose)."""
    P = len(who)
    kps, sc = np.zeros((P, T, 17, 2)), np.ones((P, T, 17))
    for p in range(P):
        for t in range(T):
            kps[p, t] = as_h36m(gt[who[p][t], t], "ntu25")
    for p, t in absent:
        sc[p, t] = 0
    return kps, sc


def test_tracking_scores_a_swap():
    T = 10
    gt, vis = clip(T)
    # track 0 follows person 1 for 6 frames, then person 0; track 1 the other way round: both swap at frame 6
    who = [[1] * 6 + [0] * 4, [0] * 6 + [1] * 4]
    kps, sc = tracks_from(gt, who, T)
    rows = MP.score_video(gt, vis, "ntu25", kps, sc, [{"id": 0, "label": "wave", "probability": 0.8},
                                                      {"id": 1, "label": "unknown", "probability": 0.6,
                                                       "top5": [{"label": "clap", "probability": 0.6}]}])
    assert [r["track"] for r in rows] == [1, 0]
    assert [r["id_switches"] for r in rows] == [1, 1]
    assert [r["pck"] for r in rows] == [pytest.approx(0.6)] * 2
    assert [r["frames_found"] for r in rows] == [6, 6] and [r["frames_annotated"] for r in rows] == [T, T]
    assert [r["tracks_near"] for r in rows] == [[0, 1], [0, 1]]
    assert (rows[0]["label"], rows[0]["probability"], rows[0]["closest"]) == ("unknown", 0.6, "clap")
    assert rows[1]["label"] == "wave" and rows[1]["closest"] is None


def test_tracking_absent_frames_and_unannotated():
    T = 10
    gt, vis = clip(T)
    gt, vis = gt[:1], vis[:1].copy()
    vis[0, 9, get_layout("ntu25")["r_hip"]] = False  # frame 9: torso not annotated, not scored
    kps, sc = tracks_from(gt, [[0] * T], T, absent=[(0, 2), (0, 3)])
    kps[0, 5] += [0.1 * TORSO, 0]  # within 0.2 torso: still correct
    kps[0, 6, shared_joints("ntu25")[0][:3]] += 0.5 * TORSO  # 3 of 12 joints wrong, the median still near
    dist = MP.track_distances(gt, vis, "ntu25", kps, sc)
    assert dist.shape == (1, 1, T) and np.isnan(dist[0, 0, [2, 3, 9]]).all()
    assert dist[0, 0, 5] == pytest.approx(0.1)
    r = MP.score_video(gt, vis, "ntu25", kps, sc)[0]
    assert r["track"] == 0 and r["frames_annotated"] == 9 and r["frames_found"] == 7 and r["id_switches"] == 0
    assert r["pck"] == pytest.approx((7 * 12 - 3) / (9 * 12))
    assert r["label"] is None
    # a junk track that is nearer in one frame but absent otherwise is not the match
    junk = np.zeros((1, T, 17, 2))
    junk[0, 2] = as_h36m(gt[0, 2], "ntu25")
    jsc = np.zeros((1, T, 17))
    jsc[0, 2] = 1
    rows = MP.score_video(gt, vis, "ntu25", np.concatenate([kps, junk]), np.concatenate([sc, jsc]))
    assert rows[0]["track"] == 0 and rows[0]["id_switches"] == 2  # 0 -> 1 at frame 2, 1 -> 0 at frame 4
    # no track at all
    r = MP.score_video(gt, vis, "ntu25", np.zeros((0, T, 17, 2)), np.zeros((0, T, 17)))[0]
    assert r["track"] == -1 and r["pck"] == 0.0 and r["frames_found"] == 0


def test_crop_boxes():
    gt, vis = clip(4)
    boxes = MP.crop_boxes(gt, vis, 0.75)
    assert len(boxes) == 4 and len(boxes[0]) == 2
    c, s = boxes[1][1]
    lo, hi = gt[1, 1].min(0), gt[1, 1].max(0)
    assert np.allclose(c, (lo + hi) / 2) and s[0] / s[1] == pytest.approx(0.75) and s[1] >= (hi - lo)[1]


def result():
    header = {"date": "2026-01-01 00:00", "machine": "cpu", "cpu_count": 2, "threads": 2,
              "versions": {"torch": "2", "mediapipe": "0.10.21", "mmpose": "1.3", "opencv": "4"},
              "load_before": [1.0], "load_after": [1.0], "wall_seconds": 12.0, "omp_wait_policy": "PASSIVE",
              "command": "python benchmarks/multi_person.py"}
    recall = [{"set": "test_coco", "layout": "coco17", "search_windows": sw, "images": 4, "annotated": 12,
               "with_torso": 10, "found": f, "recall": f / 10, "detections_per_image": 3.0, "seconds_per_image": 0.5,
               "per_image": [{"people": [{"name": "im#1", "torso": True, "match": -1},
                                         {"name": "im#2", "torso": False, "match": -1},
                                         {"name": "im#3", "torso": True, "match": 0}]}]}
              for sw, f in ((True, 9), (False, 4))]
    pp = {"person": 0, "track": 0, "frames_annotated": 100, "frames_found": 95, "pck": 0.9, "id_switches": 1,
          "tracks_near": [0, 2], "label": "unknown", "probability": 0.7, "closest": "wave"}
    video = {"clip": "S001", "fps_source": 30.0, "warmup": {"seconds": 5.0, "log": ["[run] x loaded from y"]},
             "rows": [{"people": 1, "frames": 100, "tracks_found": 1, "fps": 20.0,
                       "tracks": [{"id": 0, "label": "unknown", "closest": "wave"}], "per_person": [pp],
                       "rtmpose_t": {"fps": 60.0, "crops_per_frame": 1},
                       "stage1_2d": {"person": {"max_people": 1, "tracks_found": 1, "frames_without_person": 0}}},
                      {"people": 3, "frames": 100, "error": "RuntimeError: boom",
                       "rtmpose_t": {"error": "no mmpose"}}]}
    return {"header": header, "recall": recall, "video": video}


def test_markdown():
    md = MP.markdown(result())
    assert "| test_coco | coco17 | yes | 4 | 10 | 9 | 90 % ✓ | 3.0 | 0.50 |" in md
    assert "| test_coco | coco17 | no | 4 | 10 | 4 | 40 % | 3.0 | 0.50 |" in md
    assert "9/10 found, recall 90 % (target >= 90 %: met)" in md
    assert "| 1 | 100 | 1 | 20.0 | >= 15 (met) | 60.0 (1 crop(s)/frame) | 90 % | 1 | 0: unknown (closest wave) |" in md
    assert "| 3 | 100 | failed: RuntimeError: boom | | >= 8 | failed: no mmpose | | | |" in md
    assert "| 1 | 0 | 0 | 95 / 100 | 90 % | 1 | 0, 2 | unknown (0.70), closest class wave |" in md
    assert "- test_coco, search windows: missed im#1\n" in md
    assert "without a person detector" in md and "[run] x loaded from y" in md
    assert "OpenMP wait policy (this process and the pipeline runs): PASSIVE" in md
    res = result()
    res["video"]["rows"][0]["fps"] = 12.0
    assert "| 12.0 | >= 15 (missed) |" in MP.markdown(res)
    del res["video"]
    assert "## Videos" not in MP.markdown(res) and "## Person search" in MP.markdown(res)


@pytest.fixture
def keep_cv2_threads():
    import cv2
    n = cv2.getNumThreads()
    yield
    cv2.setNumThreads(n)


def test_main_writes_the_results(tmp_path, monkeypatch, keep_cv2_threads):
    res = result()
    monkeypatch.setattr(MP, "run_recall", lambda coco, mpii: res["recall"])
    monkeypatch.setattr(MP, "run_videos", lambda *a: res["video"])
    out = tmp_path / "mp.md"
    MP.main(["--out", str(out), "--omp-wait-policy", "runtime"])
    rep = json.loads(out.with_suffix(".json").read_text())
    assert rep["recall"][0]["found"] == 9 and rep["video"]["rows"][0]["fps"] == 20.0
    assert "# Stage 1 on crowded real video" in out.read_text()
    MP.main(["--out", str(out), "--omp-wait-policy", "runtime", "--skip-video", "--skip-recall"])
    rep = json.loads(out.with_suffix(".json").read_text())
    assert "recall" not in rep and "video" not in rep
