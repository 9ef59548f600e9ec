import numpy as np
import pytest

from common.errors import InputError
from common.handoff import ActionResult, Pose2DSeq, Pose3DSeq


def test_round_trip_npz(tmp_path):
    rng = np.random.default_rng(0)
    p2 = Pose2DSeq(rng.random((2, 5, 17, 2)) * 100, rng.random((2, 5, 17)), (320, 240), fps=30)
    p3 = Pose3DSeq(rng.normal(size=(1, 5, 17, 3)), np.ones((1, 5, 17)), fps=30)
    a = ActionResult(np.array([0.2, 0.7, 0.1]), ("walk", "run", "jump"))
    for obj in (p2, p3, a):
        back = type(obj).load(obj.save(tmp_path / f"{type(obj).__name__}.npz"))
        for k, v in obj.__dict__.items():
            if isinstance(v, np.ndarray):
                assert np.array_equal(getattr(back, k), v)
            elif isinstance(v, float) and np.isnan(v):  # ActionResult.distance without a training bank
                assert np.isnan(getattr(back, k))
            else:
                assert getattr(back, k) == v
    assert a.label == "run" and a.to_json()["label_set"] == ["walk", "run", "jump"]
    assert not list(tmp_path.glob("*.tmp"))  # nothing half-written left behind


@pytest.mark.parametrize("bad,match", [
    (dict(keypoints=np.zeros((1, 5, 16, 2)), scores=np.ones((1, 5, 16))), "layout h36m17 has 17 joints"),
    (dict(keypoints=np.zeros((5, 17, 2))), "expected 4 dimensions"),
    (dict(keypoints=np.full((1, 5, 17, 2), np.nan)), "NaN"),
    (dict(scores=np.ones((1, 4, 17))), "scores: expected shape"),
    (dict(image_size=(0, 10)), "image_size"),
    (dict(layout="nope"), "unknown skeleton layout"),
])
def test_pose2d_validation(bad, match):
    kw = dict(keypoints=np.zeros((1, 5, 17, 2)), scores=np.ones((1, 5, 17)), image_size=(64, 64))
    kw.update(bad)
    with pytest.raises(InputError, match=match):
        Pose2DSeq(**kw)


def test_pose3d_and_action_validation():
    with pytest.raises(InputError, match="last dimension 3"):
        Pose3DSeq(np.zeros((1, 5, 17, 2)), np.ones((1, 5, 17)))
    with pytest.raises(InputError, match="names for 3"):
        ActionResult(np.ones(3), ("a", "b"))


def test_load_wrong_or_corrupt_file(tmp_path):
    a = ActionResult(np.ones(2), ("a", "b")).save(tmp_path / "a.npz")
    with pytest.raises(InputError, match="holds a ActionResult"):
        Pose2DSeq.load(a)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a readable"):
        Pose3DSeq.load(bad)
    with pytest.raises(InputError, match="not found"):
        Pose3DSeq.load(tmp_path / "missing.npz")
