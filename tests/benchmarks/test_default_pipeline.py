"""``benchmarks/default_pipeline.py`` (``make numbers``): the README's table is written from a run's report.json,
every number from its key, with the environment the run recorded."""
import json

from benchmarks import default_pipeline


def _report():
    return {"stage1_2d": {"pck": 0.8771, "fps": 101.26, "n_frames": 2304},
            "stage2_lift": {"mpjpe_mm": 61.04, "p_mpjpe_mm": 35.55, "n_mpjpe_mm": 50.06, "mpjpe_mm_noisy": 90.94,
                            "p_mpjpe_mm_noisy": 55.51},
            "stage3_action": {"top1": 0.9583, "labels": [f"c{i}" for i in range(8)]},
            "end_to_end": {"top1": 0.7361, "fps": 99.94, "mpjpe_mm": 111.11, "n_clips": 72},
            "train": {"stage1_2d": {"checkpoint": "/x/mmpose_topdown-abc.pt"}, "stage2_lift": {}},
            "config": {"stages": {"stage1_2d": "mmpose_topdown", "stage2_lift": "two_stream_mlp",
                                  "stage3_action": "pose_cnn"}},
            "environment": {"seed": 3, "deterministic": True, "torch_threads": 2, "cpu_count": 4,
                            "versions": {"torch": "9.9", "numpy": "1.0", "mmpose": "1.3"}}}


def test_table_from_a_report(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps(_report()))
    out = tmp_path / "numbers.md"
    assert default_pipeline.main(["--no-run", "--work-dir", str(tmp_path), "--out", str(out)]) == 0
    md = out.read_text()
    for text in ("PCK@0.2 (torso) 0.877, 101.3 frames/s", "`two_stream_mlp`", "MPJPE 61.0 mm, P-MPJPE 35.5 mm",
                 "N-MPJPE 50.1 mm; noisy 2D 90.9 / 55.5 mm", "top-1 0.958 (chance 0.125)",
                 "top-1 0.736, 99.9 frames/s; MPJPE of the chain's 3D 111.1 mm", "72 clips of 8 classes",
                 "seed 3, deterministic True, 2 torch threads", "torch 9.9", "`mmpose_topdown-abc.pt`"):
        assert text in md, text
    assert "--no-run" not in md  # the table names the command that runs the pipeline
    assert json.loads(out.with_suffix(".json").read_text())["end_to_end"]["top1"] == 0.7361
