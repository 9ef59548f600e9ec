"""Stage 3 on Penn Action and UTD-MHAD: encoders and streams, training choices, score-level ensembles, 2D against
lifted 3D, and the searched architecture against random ones of the same space, each arm from several seeds with
the same classifier budget; one command:

    python benchmarks/compare_actions.py [--seeds 0 1 2] [--epochs 40] [--jobs 2] [--only searched random]
    python benchmarks/compare_actions.py --tables     # the tables and claims again from the last results

Every run is ``pipelines/run.py`` on a pipeline file with ``--set seed=S stages.stage3_action.epochs=E`` (an
ensemble's ``shared.epochs``; plus the arm's options), in its own process (``OMP_NUM_THREADS=1`` each, ``--jobs``
at once). Penn Action numbers are top-1 on the holdout part carved from the shared official train split (model
selection and ensemble weights use the separate ``val`` part); UTD-MHAD numbers are top-1 on subject 7, never
trained on (the test subjects 2, 4, 6, 8 are not in the shared data), from the 3D skeletons and end to end.
The random arm draws one architecture per seed (uniform over the space, ``nas_space.random_arc``, seed 1000+S)
and trains it with the same budget. Claims follow ``docs/interfaces.md``: a gap counts when it exceeds 2 std
(sample std over seeds, the larger of the two arms); otherwise "not resolved". ``--only`` re-runs some arms and
merges them into the last results.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from common.claims import claims_markdown, compare
from common.claims import mean_std as _stats
from common.io import write_json, write_text
from stage3_action.nas_space import load_arch, random_arc, save_arch

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "compare_actions"
ARCH = "configs/arch/penn_action_macro.json"
STREAMS = "stages.stage3_action.encoder_options={streams: [joints, bones, motion]}"
JOINTS = "stages.stage3_action.encoder_options={streams: [joints]}"
SEARCHED = ["stages.stage3_action.type=searched_cnn", f"stages.stage3_action.arch={ARCH}", STREAMS]
#: arm -> (pipeline, --set options, description); ``{random_arch}`` is filled per seed
ARMS = {
    "2d": ("pipelines/penn_action_single.yaml", [JOINTS], "pose_cnn, pose_image (joints), 2D annotations"),
    "3d": ("pipelines/penn_action_3d.yaml", [], "pose_cnn, pose_image (joints), lifted to 3D by martinez_mlp (mocap)"),
    "searched": ("pipelines/penn_action_single.yaml", SEARCHED,
                 f"searched_cnn {Path(ARCH).name}, pose_image (joint, bone, motion streams), 2D"),
    "random": ("pipelines/penn_action_single.yaml", [SEARCHED[0], "stages.stage3_action.arch={random_arch}", STREAMS],
               "searched_cnn, a random macro architecture per seed, pose_image (joint, bone, motion streams), 2D"),
    "spmf_2d": ("pipelines/penn_action_single.yaml", ["stages.stage3_action.encoder=enhanced_spmf"],
                "pose_cnn, enhanced_spmf, 2D annotations"),
    "streams_2d": ("pipelines/penn_action_single.yaml", [STREAMS],
                   "pose_cnn, pose_image with joint, bone and motion streams as channels, 2D annotations"),
    "roll_stretch_2d": ("pipelines/penn_action_single.yaml", [STREAMS, "stages.stage3_action.aug_roll_deg=10",
                                                       "stages.stage3_action.aug_stretch=0.1"],
                        "streams_2d + in-plane rotation (10 deg) and stretch (10 %) augmentation"),
    "mixup_2d": ("pipelines/penn_action_single.yaml", [STREAMS, "stages.stage3_action.mixup=0.2",
                                                "stages.stage3_action.label_smoothing=0.1"],
                 "streams_2d + mixup (alpha 0.2) and label smoothing 0.1"),
    "window_2d": ("pipelines/penn_action_single.yaml", [STREAMS, "stages.stage3_action.window_frames=64"],
                  "streams_2d, a clip spanning 64 frames (2.1 s) subsampled to 32"),
    "ensemble_2d": ("pipelines/penn_action.yaml", [],
                    "ensemble: one pose_cnn per stream (joints, bones, motion), equal weights, 2D"),
    "ensemble_2d_val": ("pipelines/penn_action.yaml", ["stages.stage3_action.weights=val"],
                        "ensemble_2d with the weights chosen on val (least cross-entropy) instead of equal"),
    "ensemble_2d3d": ("pipelines/penn_action_2d3d.yaml", [],
                      "ensemble: pose_cnn (streams) on the 2D + pose_cnn (streams) on the lifted 3D, equal weights"),
    "ensemble_2d3d_val": ("pipelines/penn_action_2d3d.yaml", ["stages.stage3_action.weights=val"],
                          "ensemble_2d3d with the weights chosen on val (least cross-entropy)"),
    # UTD-MHAD cross-subject, subject 7 of the shared training subjects held out (3D skeletons; end to end: the
    # skeletons projected to 2D, noised, lifted and classified), as in benchmarks/compare_real_actions.py
    "utd_3d": ("pipelines/utd_mhad.yaml", [JOINTS, "data.holdout_subjects=[7]"],
               "UTD-MHAD: pose_cnn, pose_image (joints), 3D skeletons, trained through the chain"),
    "utd_streams_3d": ("pipelines/utd_mhad.yaml", [STREAMS, "data.holdout_subjects=[7]"],
                       "UTD-MHAD: pose_cnn, pose_image (joint, bone, motion streams), 3D skeletons"),
    "utd_ensemble_3d": ("pipelines/utd_mhad_ensemble.yaml", ["data.holdout_subjects=[7]"],
                        "UTD-MHAD: ensemble, one pose_cnn per stream (joints, bones, motion), equal weights, 3D"),
}
#: the --set key of the training epochs where it is not stages.stage3_action.epochs
EPOCHS_KEY = {arm: "stages.stage3_action.shared.epochs"
              for arm in ("ensemble_2d", "ensemble_2d_val", "ensemble_2d3d", "ensemble_2d3d_val", "utd_ensemble_3d")}
CLAIMS = [("lifted 3D beats 2D", "3d", "2d"), ("searched beats random", "searched", "random"),
          ("pose_image beats enhanced_spmf", "2d", "spmf_2d"),
          ("joint + bone + motion streams beat joints", "streams_2d", "2d"),
          ("rotation + stretch augmentation helps the streams", "roll_stretch_2d", "streams_2d"),
          ("mixup + label smoothing help the streams", "mixup_2d", "streams_2d"),
          ("clips spanning 64 frames help the streams", "window_2d", "streams_2d"),
          ("a per-stream ensemble beats the joints image", "ensemble_2d", "2d"),
          ("a per-stream ensemble beats streams as channels", "ensemble_2d", "streams_2d"),
          ("equal weights beat weights chosen on val", "ensemble_2d", "ensemble_2d_val"),
          ("the 2D + lifted 3D ensemble beats 2D alone", "ensemble_2d3d", "streams_2d"),
          ("UTD-MHAD: streams beat joints (3D skeletons)", "utd_streams_3d", "utd_3d"),
          ("UTD-MHAD: a per-stream ensemble beats joints (3D skeletons)", "utd_ensemble_3d", "utd_3d")]


def random_arch_file(seed: int) -> Path:
    doc = load_arch(REPO / ARCH)
    doc["arc"] = random_arc(doc["space"], np.random.default_rng(1000 + seed), doc["n_layers"])
    doc["meta"] = {"random_baseline_of": ARCH, "seed": 1000 + seed}
    return save_arch(OUT / f"random_arch_seed{seed}.json", doc)


def run_one(arm: str, seed: int, epochs: int) -> dict:
    pipeline, sets, _ = ARMS[arm]
    sets = [s.format(random_arch=random_arch_file(seed)) if "{random_arch}" in s else s for s in sets]
    work = REPO / "work_dirs" / "compare_actions" / f"{arm}_seed{seed}"
    cmd = [sys.executable, "pipelines/run.py", pipeline, "--work-dir", str(work), "--set", f"seed={seed}",
           f"{EPOCHS_KEY.get(arm, 'stages.stage3_action.epochs')}={epochs}", *sets]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{arm} seed {seed} failed:\n{r.stderr[-2000:]}")
    rep = json.loads((work / "report.json").read_text())
    tr = rep["train"]["stage3_action"]
    print(f"{arm} seed {seed}: top-1 {rep['stage3_action']['top1']:.3f}", file=sys.stderr, flush=True)
    return {"arm": arm, "seed": seed, "epochs": epochs, "top1": rep["stage3_action"]["top1"],
            "top1_single_clip": rep["stage3_action"]["top1_single_clip"], "best_val_top1": tr.get("best_val_top1"),
            "train_seconds": tr.get("train_seconds"), "n_parameters": tr.get("n_parameters"),
            "n_clips": rep["stage3_action"]["n_clips"],
            "top1_end_to_end": (rep.get("end_to_end") or {}).get("top1") if arm.startswith("utd") else None}


def claim(rows, what, a, b, key="top1") -> dict:
    va, vb = [r[key] for r in rows if r["arm"] == a], [r[key] for r in rows if r["arm"] == b]
    if not va or not vb:
        return {"claim": what, "verdict": "not measured"}
    c = compare(va, vb)
    return {"claim": what, "a": a, "b": b, "gap": c["gap"], "std": c["std"], "verdict": c["verdict"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", nargs="+", choices=list(ARMS), default=None)
    p.add_argument("--tables", action="store_true", help="run nothing: rewrite the tables and claims from the "
                   "last results")
    a = p.parse_args(argv)
    if a.tables:
        a.only = []
    arms = list(ARMS) if a.only is None else a.only
    jobs = [(arm, s) for arm in arms for s in a.seeds]
    with ThreadPoolExecutor(a.jobs) as ex:
        rows = list(ex.map(lambda j: run_one(j[0], j[1], a.epochs), jobs))
    old = (json.loads(OUT.with_suffix(".json").read_text())["rows"]
           if a.only is not None and OUT.with_suffix(".json").is_file() else [])
    rows = [r for r in old if r["arm"] not in arms] + rows  # read now: another --only run may have written
    claims = [claim(rows, *c) for c in CLAIMS]
    write_json(OUT.with_suffix(".json"), {"rows": rows, "claims": claims})
    lines = ["# Stage 3 on Penn Action (holdout carved from the official train split) and UTD-MHAD (subject 7 held "
             "out): top-1 mean ± std over seeds", "",
             "| arm | what | seeds | epochs | top-1 multi-clip | top-1 single clip | top-1 end to end | parameters | "
             "train s |", "|---|---|---|---|---|---|---|---|---|"]
    for arm in ARMS:
        rs = [r for r in rows if r["arm"] == arm]
        if not rs:
            continue
        m, s = _stats([r["top1"] for r in rs])
        ms, ss = _stats([r["top1_single_clip"] for r in rs])
        e2e = [r["top1_end_to_end"] for r in rs if r.get("top1_end_to_end") is not None]
        me, se = _stats(e2e) if e2e else (None, None)
        lines.append(f"| {arm} | {ARMS[arm][2]} | {len(rs)} | {rs[0]['epochs']} | {100 * m:.1f} ± {100 * s:.1f} | "
                     f"{100 * ms:.1f} ± {100 * ss:.1f} | {'-' if me is None else f'{100 * me:.1f} ± {100 * se:.1f}'} | "
                     f"{rs[0]['n_parameters']} | "
                     f"{np.mean([r['train_seconds'] for r in rs]):.0f} |")
    lines += ["", *claims_markdown(claims)]
    write_text(OUT.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
