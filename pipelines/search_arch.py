#!/usr/bin/env python
"""ENAS architecture search for the stage 3 classifier, run only when asked:

    python pipelines/search_arch.py pipelines/penn_action_single.yaml --space micro \
        --out configs/arch/penn_action_micro.json

The pipeline file gives the data and the classifier's encoder, clip and augmentation options
(``stages.stage3_action``); the search trains shared weights and an LSTM controller alternately
(``stage3_action/enas_search.py``) on the training split, rewarding accuracy on validation minibatches, and
writes the best derived architecture as JSON (``stage3_action/nas_space.py``). It then retrains, from scratch
and with the same budget (``searched_cnn`` through the pipeline, so checkpoints are cached), the searched
architecture and a random architecture of the same space for each of ``--retrain-seeds`` seeds, and reports
both on the pipeline's test split (``search_report.json`` / ``.md`` in the work dir) - the random baseline is
always reported beside the searched one. The search uses the dataset's ground-truth input of the classifier's
dimension (2D for Penn Action).

Under ``torchrun --nproc_per_node=N`` the search and the retraining are data-parallel over the N processes
(``common/distributed.py``: the same shared-weight batches and controller samples everywhere, each process its
rows of a batch, gradients averaged); rank 0 alone logs and writes.
"""
from __future__ import annotations

import argparse
import copy
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common.errors import InputError
from common.logs import get_logger

#: search sizes (the shared network) and retraining sizes (written into the JSON) of the default CPU search
SEARCH_DEFAULTS = {"micro": {"filters": 16, "n_cells": 1, "n": 5, "retrain_filters": 20, "retrain_cells": 2},
                   "macro": {"filters": 24, "n_cells": 1, "n": 6, "retrain_filters": 24, "retrain_cells": 1}}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="pipelines/search_arch.py", description=__doc__.split("\n\n")[0])
    p.add_argument("pipeline")
    p.add_argument("--space", choices=("micro", "macro"), default="micro")
    p.add_argument("--out", required=True, help="architecture JSON to write (e.g. configs/arch/NAME.json)")
    p.add_argument("--epochs", type=int, default=60, help="search epochs (shared-weight + controller phases)")
    p.add_argument("--filters", type=int, default=None, help="filters of the shared network while searching")
    p.add_argument("--n", "--size", type=int, default=None, dest="n",
                   help="nodes per cell (micro) or layers (macro); under torchrun write --size (torchrun reads "
                        "--n as an abbreviation of its own options)")
    p.add_argument("--ctrl-steps", type=int, default=5,
                   help="controller updates per epoch (ENAS scripts: 30 micro, 50 macro)")
    p.add_argument("--ctrl-samples", type=int, default=4, help="arcs averaged per controller update (scripts: 10, 20)")
    p.add_argument("--retrain-seeds", type=int, default=1, help="seeds of the searched-vs-random retraining (0: none)")
    p.add_argument("--set", nargs="+", action="extend", default=[], dest="sets", metavar="KEY=VALUE")
    p.add_argument("--work-dir", default=None)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def search(cfg: dict, space: str, epochs: int, filters: int, n: int, seed: int, work_dir: Path,
           enas_cfg: dict, log=None) -> dict:
    """Run the ENAS search on the pipeline's data; returns the architecture document (not yet written)."""
    import torch

    from common import cache
    from common.distributed import barrier, is_main, same_everywhere, world
    from common.paths import CACHE_DIR
    from common.resume import resuming
    from common.training import resolve_device, seed_everything
    from pipelines.data import build_dataset
    from stage3_action.classifier import CLASSIFIER_DEFAULTS, EncodedClassifier
    from stage3_action.enas_controller import Controller
    from stage3_action.enas_search import enas_search, reward_figure
    from stage3_action.nas_build import build_shared

    log = log or get_logger("search").info
    device = resolve_device(cfg["device"])
    rank, size = world()
    scfg = cfg["stages"]["stage3_action"]
    clf = EncodedClassifier({k: v for k, v in scfg.items() if k in CLASSIFIER_DEFAULTS and k != "train_on"},
                            device=device, seed=seed)
    clf.registered_name = "search"
    if rank:
        barrier()  # rank 0 generates the data first; the others read its cache
    data = build_dataset(cfg["data"])
    if not rank:
        barrier()
    if not data.val:
        raise InputError(f"data.dataset={cfg['data']['dataset']}: the search needs a validation split")
    items = clf.training_items(data)
    val_x, val_y = clf.eval_images(data.val)
    c, h, w = clf.image_shape()
    log(f"search: {space} space, {len(items)} training and {len(val_y)} validation clips, images {c}x{h}x{w}")
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    d = SEARCH_DEFAULTS[space]
    net = build_shared(space, c, len(clf.labels), filters, n, n_cells=d["n_cells"]).to(device)
    ctrl = Controller(space, n).to(device)
    bs = scfg["batch_size"]

    def train_batches():
        perm = rng.permutation(len(items))
        for i in range(0, len(perm), bs):
            yield clf.train_batch([items[j] for j in perm[i:i + bs]], rng)

    def val_batch():
        idx = torch.as_tensor(rng.choice(len(val_y), size=min(bs, len(val_y)), replace=False))
        return val_x[idx], val_y[idx]

    def val_batches():
        for i in range(0, len(val_y), 256):
            yield val_x[i:i + 256], val_y[i:i + 256]

    t0 = time.perf_counter()
    # a killed search continues from its last epoch when the same search starts again (common/resume.py)
    key = cache.config_hash({"space": space, "epochs": epochs, "filters": filters, "n": n, "seed": seed,
                             "enas": enas_cfg, "data": cfg["data"], "stage": scfg})
    with resuming(CACHE_DIR / "search" / f"{space}-{key}.resume"):
        res = enas_search(net, ctrl, train_batches, val_batch, val_batches, epochs, enas_cfg, seed=seed, log=log,
                          device=device, state={"rng": rng})
    seconds = time.perf_counter() - t0
    if size > 1:
        log(f"shared weights {'identical' if same_everywhere(net) else 'DIFFERENT'} on the {size} processes")
    if is_main():
        work_dir.mkdir(parents=True, exist_ok=True)
        reward_figure(res["history"], work_dir / "search_reward.png")
    size_key = "n_nodes" if space == "micro" else "n_layers"
    doc = {"space": space, "arc": res["arc"], "filters": d["retrain_filters"], size_key: n}
    if space == "micro":
        doc["n_cells"] = d["retrain_cells"]
    doc["meta"] = {"pipeline_data": {k: v for k, v in cfg["data"].items() if v is not None},
                   "encoder": scfg["encoder"], "encoder_options": scfg.get("encoder_options") or {},
                   "input": clf.cfg["input"], "clip_len": scfg["clip_len"],
                   "search_epochs": epochs, "search_filters": filters, "seed": seed, "enas": enas_cfg,
                   "search_seconds": round(seconds, 1), "val_acc_shared": res["val_acc_shared"],
                   "device": device, "history": res["history"]}
    return doc


def retrain(pipeline: str, sets: list, arch_path: Path, seed: int, work_dir: Path) -> dict:
    """Train ``searched_cnn`` with ``arch_path`` through the pipeline (cached) and return its report section."""
    from pipelines.run import parse_args as run_args
    from pipelines.run import resolve_pipeline
    from pipelines.runner import run

    args = run_args([pipeline, "--set", *sets, "stages.stage3_action.type=searched_cnn",
                     f"stages.stage3_action.arch={arch_path}", f"seed={seed}"])
    rep = run(resolve_pipeline(args), work_dir)
    if not rep:  # torchrun: a process other than rank 0 trained its share and evaluated nothing
        return {}
    sec = rep["stage3_action"]
    return {"top1": sec["top1"], "top1_single_clip": sec["top1_single_clip"],
            "best_val_top1": rep["train"]["stage3_action"].get("best_val_top1"),
            "n_parameters": rep["train"]["stage3_action"].get("n_parameters")}


def main(argv=None) -> int:
    from common.distributed import finish_distributed

    try:
        return _main(argv)
    finally:
        finish_distributed()


def _main(argv=None) -> int:
    args = parse_args(argv)
    log = get_logger("search")
    try:
        from common.distributed import barrier, init_distributed, is_main, world
        from common.io import write_json, write_text
        from common.training import resolve_device
        from pipelines.run import parse_args as run_args
        from pipelines.run import resolve_pipeline
        from stage3_action.nas_space import random_arc, save_arch

        cfg = resolve_pipeline(run_args([args.pipeline, "--set", *args.sets] if args.sets else [args.pipeline]))
        if "stage3_action" not in cfg.get("stages", {}):
            raise InputError(f"{args.pipeline}: the search needs a pipeline with a stage3_action classifier")
        if cfg["stages"]["stage3_action"]["type"] == "ensemble":
            raise InputError(f"{args.pipeline}: the search needs one encoded classifier, not an ensemble "
                             "(e.g. pipelines/penn_action_single.yaml)")
        d = SEARCH_DEFAULTS[args.space]
        filters, n = args.filters or d["filters"], args.n or d["n"]
        work = Path(args.work_dir) if args.work_dir else ROOT / "work_dirs" / f"search_{Path(args.out).stem}"
        out = Path(args.out)
        if init_distributed(resolve_device(cfg["device"])) and not is_main():
            log.setLevel("WARNING")  # rank 0 alone reports
        if world()[1] > 1:
            log.info(f"searching on {world()[1]} processes (torchrun)")
        doc = search(cfg, args.space, args.epochs, filters, n, args.seed, work,
                     {"ctrl_steps": args.ctrl_steps, "ctrl_samples": args.ctrl_samples}, log=log.info)
        doc["meta"]["command"] = ("python pipelines/search_arch.py "
                                  + shlex.join(argv if argv is not None else sys.argv[1:]))
        doc["meta"]["processes"] = world()[1]
        if is_main():
            save_arch(out, doc)
        barrier()
        log.info(f"architecture -> {out} ({doc['meta']['search_seconds']:.0f} s, "
                 f"shared-weight val top-1 {doc['meta']['val_acc_shared']:.3f})")
        rows = []
        for s in range(args.retrain_seeds):
            rnd = copy.deepcopy(doc)
            rnd["arc"] = random_arc(args.space, np.random.default_rng(1000 + s), n)
            rnd["meta"] = {"random_baseline_of": str(out), "seed": 1000 + s}
            rnd_path = work / f"random_arch_{s}.json"
            if is_main():
                save_arch(rnd_path, rnd)
            barrier()
            for arm, path in (("searched", out), ("random", rnd_path)):
                r = retrain(args.pipeline, args.sets, path.resolve(), s, work / f"{arm}_seed{s}")
                if is_main():
                    rows.append({"arm": arm, "seed": s, **r})
                    log.info(f"retrained {arm} (seed {s}): top-1 {r['top1']:.3f}")
        if not is_main():
            return 0
        report = {"architecture": str(out), "space": args.space, "search_seconds": doc["meta"]["search_seconds"],
                  "val_acc_shared": doc["meta"]["val_acc_shared"], "retrain": rows}
        for arm in ("searched", "random"):
            v = [r["top1"] for r in rows if r["arm"] == arm]
            if v:
                report[arm] = {"top1_mean": float(np.mean(v)), "top1_std": float(np.std(v)), "n_seeds": len(v)}
        write_json(work / "search_report.json", report)
        md = ["| arm | seed | top-1 (multi-clip) | top-1 (single clip) | parameters |", "|---|---|---|---|---|"]
        md += [f"| {r['arm']} | {r['seed']} | {r['top1']:.1%} | {r['top1_single_clip']:.1%} | {r['n_parameters']} |"
               for r in rows]
        write_text(work / "search_report.md", "\n".join(md) + "\n")
        log.info(f"report: {work / 'search_report.json'}")
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from common.distributed import exit_process

    exit_process(main())
