"""benchmarks/compare_actions.py without training: every arm's pipeline and options resolve and build, and the
tables and claims come from the rows (the full run is ``python benchmarks/compare_actions.py``)."""
import json

import pytest

from benchmarks import compare_actions as CA
from pipelines.chain import Chain
from pipelines.run import parse_args, resolve_pipeline


@pytest.mark.parametrize("arm", list(CA.ARMS))
def test_every_arm_resolves_and_builds(arm, tmp_path, monkeypatch):
    monkeypatch.setattr(CA, "OUT", tmp_path / "compare_actions")
    pipeline, sets, _ = CA.ARMS[arm]
    sets = [s.format(random_arch=CA.random_arch_file(0)) if "{random_arch}" in s else s for s in sets]
    cfg = resolve_pipeline(parse_args(
        [pipeline, "--set", "seed=0", f"{CA.EPOCHS_KEY.get(arm, 'stages.stage3_action.epochs')}=3", *sets]))
    part = Chain(cfg, "cpu").parts["stage3_action"]
    members = getattr(part, "members", {"": part})
    assert all(m.cfg["epochs"] == 3 for m in members.values())
    if "streams" in arm or arm in ("searched", "random"):
        assert all(m.encoder.streams == ["joints", "bones", "motion"] for m in members.values())


def test_tables_and_claims(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(CA, "OUT", tmp_path / "compare_actions")
    top1 = {"streams_2d": [0.96, 0.965, 0.97], "ensemble_2d": [0.99, 0.991, 0.989],
            "utd_3d": [0.90, 0.91, 0.92], "utd_streams_3d": [0.92, 0.93, 0.91]}

    def fake(arm, seed, epochs):
        return {"arm": arm, "seed": seed, "epochs": epochs, "top1": top1[arm][seed], "top1_single_clip": 0.9,
                "best_val_top1": 0.95, "train_seconds": 10.0, "n_parameters": 1000, "n_clips": 100,
                "top1_end_to_end": 0.8 + seed / 100 if arm.startswith("utd") else None}

    monkeypatch.setattr(CA, "run_one", fake)
    CA.main(["--only", *top1, "--seeds", "0", "1", "2", "--jobs", "1"])
    md = (tmp_path / "compare_actions.md").read_text()
    rep = json.loads((tmp_path / "compare_actions.json").read_text())
    assert len(rep["rows"]) == 12
    assert "| utd_3d |" in md and "| 81.0 ± 1.0 |" in md            # the end-to-end column of UTD-MHAD
    assert "| streams_2d |" in md and "| 96.5 ± 0.5 | 90.0 ± 0.0 | - |" in md
    verdicts = {c["claim"]: c["verdict"] for c in rep["claims"]}
    assert verdicts["a per-stream ensemble beats streams as channels"] == "holds"
    assert verdicts["UTD-MHAD: streams beat joints (3D skeletons)"] == "not resolved"
    assert verdicts["searched beats random"] == "not measured"
    # --tables runs nothing and writes the same tables again
    monkeypatch.setattr(CA, "run_one", None)
    (tmp_path / "compare_actions.md").unlink()
    CA.main(["--tables"])
    assert (tmp_path / "compare_actions.md").read_text() == md
