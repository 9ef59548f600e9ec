"""Sliding windows over a video and their answers merged into segments; ActionResult's open-set fields."""
import numpy as np
import pytest

from common.handoff import ActionResult, Pose3DSeq
from common.timeline import classify_timeline, segments, windows

LABELS = ("a", "b", "c", "d", "e", "f")


def _res(i, p=0.9, thr=0.0):
    s = np.full(len(LABELS), (1 - p) / (len(LABELS) - 1))
    s[i] = p
    return ActionResult(s, LABELS, thr)


def test_windows_cover_the_sequence():
    assert windows(40, 30, 2.0, 1.0) == [(0, 40)]  # shorter than 1.5 windows: one
    w = windows(200, 30, 2.0, 1.0)
    assert w[0] == (0, 60) and w[-1] == (140, 200) and all(b - a == 60 for a, b in w)
    assert [a for a, _ in w] == [0, 30, 60, 90, 120, 140]


def test_segments_merge_equal_neighbours():
    res = [(0, 60, _res(0, 0.7)), (30, 90, _res(0, 0.9)), (60, 120, _res(2)), (90, 150, _res(2, 0.3, thr=0.5))]
    seg = segments(res, 30.0)
    assert [s["label"] for s in seg] == ["a", "c", "unknown"]
    assert seg[0]["start_s"] == 0 and seg[0]["end_s"] == pytest.approx(75 / 30)  # half-way between centres
    assert seg[0]["probability"] == pytest.approx(0.9)
    assert seg[-1]["end_s"] == pytest.approx(150 / 30)
    assert all(a["end_s"] == pytest.approx(b["start_s"]) for a, b in zip(seg, seg[1:]))


def test_classify_timeline_slices_the_hand_off():
    seq = Pose3DSeq(np.arange(100, dtype=np.float32)[None, :, None, None] * np.ones((1, 100, 17, 3), np.float32),
                    np.ones((1, 100, 17), np.float32), fps=25.0)
    seen = []

    def classify(s):
        seen.append((s.n_frames, float(s.joints[0, 0, 0, 0])))
        return _res(0)

    out = classify_timeline(seq, classify, 2.0, 1.0)
    assert [(a, b) for a, b, _ in out] == [(0, 50), (25, 75), (50, 100)]
    assert seen == [(50, 0.0), (50, 25.0), (50, 50.0)]


def test_action_result_top5_and_unknown():
    r = ActionResult(np.array([0.05, 0.4, 0.1, 0.3, 0.05, 0.1]), LABELS, 0.5)
    top = r.top(5)
    assert [t["label"] for t in top[:2]] == ["b", "d"] and sum(t["probability"] for t in top) <= 1 + 1e-6
    assert r.unknown and r.decision == "unknown" and r.label == "b"
    j = r.to_json()
    assert j["label"] == "unknown" and j["top5"][0]["label"] == "b" and j["unknown_threshold"] == 0.5
    assert not ActionResult(r.scores, LABELS, 0.4).unknown  # at the threshold: known


def test_caption_at_follows_the_segments():
    from common.timeline import caption_at
    seg = [{"start_s": 0, "end_s": 1.5, "label": "wave", "probability": 0.81},
           {"start_s": 1.5, "end_s": 3.0, "label": "unknown", "probability": 0.2}]
    assert caption_at(seg, 0.0) == "wave 0.81" and caption_at(seg, 1.49) == "wave 0.81"
    assert caption_at(seg, 1.5) == "unknown 0.20" and caption_at(seg, 3.0) == "unknown 0.20"
