"""The joint-mode benchmarks at small sizes: speed per cut, and the ablation's claim rule and table."""
import json

from benchmarks import joint_ablation as JA
from benchmarks import joint_speed as JS
from common.claims import compare


def test_speed_per_cut_table(tmp_path):
    out = tmp_path / "joint_speed"
    JS.main(["--scales", "default", "--repeats", "1", "--threads", "1", "--out", str(out)])
    rep = json.loads(out.with_suffix(".json").read_text())
    cuts = rep["results"][0]["per_cut"]
    assert [c["block"] for c in cuts] == [1, 2, 3, 4, 5, 6]
    assert all(c["fps"] > 0 and c["fps_action"] > 0 for c in cuts)
    assert "| cut after block |" in out.with_suffix(".md").read_text()


def test_claim_rule_needs_a_gap_over_two_std():
    assert compare([0.9, 0.91, 0.92], [0.5, 0.52, 0.51])["verdict"] == "holds"
    assert compare([0.5, 0.52, 0.51], [0.9, 0.91, 0.92])["verdict"] == "reversed"
    assert compare([0.6, 0.8, 0.7], [0.65, 0.7, 0.75])["verdict"] == "not resolved"
    assert compare([50.0, 51.0], [60.0, 61.0], higher_is_better=False)["verdict"] == "holds"


def test_ablation_table_and_claims():
    rows = [{"arm": arm, "seed": s, "top1": t + 0.01 * s, "top1_single_clip": t, "pck": 0.8, "mpjpe_mm": 100.0,
             "train_seconds": 10.0}
            for arm, t in (("default", 0.9), ("last", 0.5), ("coupled", 0.88)) for s in range(3)]
    claims = [JA.claim(rows, *c) for c in JA.CLAIMS]
    verdicts = {c["claim"]: c["verdict"] for c in claims}
    assert verdicts["all-block supervision beats last-block only: top-1"] == "holds"
    assert verdicts["all-block supervision beats last-block only: PCK"] == "not resolved"
    assert verdicts["combined features beat pose features only: top-1"] == "not measured"
    md = JA.markdown(rows, claims, ["joint.train.pose_steps=10"])
    assert "| default |" in md and "| pose |" not in md and "joint.train.pose_steps=10" in md
