"""The joint-mode benchmarks at small sizes: speed per cut, the ablation's claim rule and table, joint vs chain."""
import json

from benchmarks import compare_joint_chain as CJ
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


def test_compare_joint_chain_one_command(tmp_path, monkeypatch):
    """Both pipelines at tiny sizes on the same test split, in their own cache: one row per system and seed
    with the reported top-1, MPJPE and frames/s, and the markdown table of both systems."""
    monkeypatch.setenv("HAR_CACHE_DIR", str(tmp_path / "cache"))
    data = ["data.frames=16", "data.image_size=128", "data.subjects.train=2", "data.subjects.val=1",
            "data.subjects.test=1", "data.per_class.train=1", "data.per_class.val=1", "data.per_class.test=1"]
    chain = ["stages.stage1_2d.epochs=1", "stages.stage1_2d.frames_per_epoch=32", "stages.stage1_2d.val_frames=8",
             "stages.stage2_lift.epochs=1", "stages.stage2_lift.width=32", "stages.stage3_action.epochs=1",
             "stages.stage3_action.width=8"]
    joint = ["joint.input_size=64", "joint.levels=3", "joint.features=16", "joint.growth=8", "joint.width=0.25",
             "joint.n_pose_features=16", "joint.n_app_features=16", "joint.train.pose_steps=2",
             "joint.train.action_steps=1", "joint.train.joint_steps=2", "joint.train.pose_batch=4",
             "joint.train.clips_per_batch=2", "joint.train.clip_len=4", "joint.speed_repeats=1"]
    out = tmp_path / "compare"
    CJ.main(["--seeds", "0", "--work-root", str(tmp_path / "work"), "--out", str(out),
             "--chain-set", *data, *chain, "--set", *data, *joint])
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert [(r["system"], r["seed"]) for r in rows] == [("chain", 0), ("joint", 0)]
    for r in rows:
        rep = json.loads((tmp_path / "work" / f"{r['system']}_seed0" / "report.json").read_text())
        sec = rep["joint"] if r["system"] == "joint" else rep["end_to_end"]
        assert r["top1"] == sec["top1"] and r["mpjpe_mm"] == sec["mpjpe_mm"] and r["fps"] > 0
        assert r["train_seconds"] > 0
    md = out.with_suffix(".md").read_text()
    assert "| chain |" in md and "| joint |" in md and "joint.train.pose_steps=2" in md
