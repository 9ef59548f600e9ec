"""The joint mode of ``run.py``: a pipeline file with a ``joint:`` section instead of ``stages:``
(``pipelines/joint_multitask.yaml``) trains the multi-task network of Luvizon et al. 2021 (``joint/``) or loads
it from the cache, evaluates it block by block on the synthetic test split and writes report.json's ``joint`` section.

Under ``torchrun --standalone --nproc_per_node=N pipelines/run.py FILE.yaml`` every process trains its share
(DistributedDataParallel); rank 0 alone generates the data first, saves the checkpoint, evaluates and writes
the outputs.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

from common import cache, plots
from common.errors import InputError
from common.io import write_text
from common.reproducibility import environment
from common.resume import resuming
from common.training import resolve_device, seed_everything

from .data import build_dataset, training_data_cfg
from .report import write_report

#: the layout the joint network predicts (the synthetic world's labels)
LAYOUT = "h36m17"


def checkpoint_key(cfg: dict) -> str:
    from joint import EVAL_ONLY

    trained = {k: v for k, v in cfg["joint"].items() if k not in EVAL_ONLY}
    return cache.config_hash({"joint": trained, "seed": cfg["seed"], "data": training_data_cfg(cfg["data"])})


def run_joint(cfg: dict, work_dir: Path, log: Callable[[str], None] = print) -> dict:
    if cfg["joint"].get("backend", "torch") == "onnx":
        return _run_exported(cfg, Path(work_dir), log)
    net, ds, info, device = prepare_joint(cfg, log)
    if net is None:  # a rank other than 0 of a torchrun launch
        return {}
    return _evaluate_and_write(cfg, net, ds, info, device, Path(work_dir), log)


def _run_exported(cfg: dict, work_dir: Path, log: Callable[[str], None]) -> dict:
    """The evaluation of the network cut that ``pipelines/export.py`` wrote to ``joint.export_dir``, run by
    onnxruntime on the CPU; ``per_block`` has the one block of the cut."""
    from common.distributed import world
    from pipelines.exported import ExportedJoint

    if world()[1] > 1:
        raise InputError("joint.backend: onnx evaluates in one process; torchrun is for training")
    net = ExportedJoint(cfg["joint"]["export_dir"])
    log(f"data: {cfg['data']['dataset']} (generated once, then read from the cache)")
    ds = build_dataset(cfg["data"])
    if list(ds.action_names) != list(net.entry["actions"]):
        raise InputError(f"joint.export_dir: the exported network's actions {net.entry['actions']} are not the "
                         f"data's {list(ds.action_names)}")
    log(f"joint: onnxruntime, cut after block {net.block + 1} of {net.entry['n_blocks']} ({net.folder})")
    info = {"backend": "onnx", "export_dir": str(net.folder), "checkpoint": net.entry.get("checkpoint"),
            "n_parameters": net.entry["n_parameters"], "block": net.block + 1}
    return _evaluate_and_write(cfg, net, ds, info, "cpu", work_dir, log)


def prepare_joint(cfg: dict, log: Callable[[str], None] = print):
    """The trained multi-task network of ``cfg``: loaded from the cache, or trained (over the processes of a
    ``torchrun`` launch) and cached. Returns (network, dataset, training summary, device); the network is None
    on the ranks other than 0."""
    from common.distributed import barrier, finish_distributed, init_distributed, world
    from joint import build_network
    from joint.data import TrainStore
    from joint.trainer import train

    device = resolve_device(cfg["device"])
    jcfg = cfg["joint"]
    init_distributed(device)
    rank, size = world()
    quiet = (lambda _: None) if rank else log
    try:
        if rank:                      # rank 0 generates the data (and its cache) first
            barrier()
        quiet(f"data: {cfg['data']['dataset']} (generated once, then read from the cache)")
        ds = build_dataset(cfg["data"])
        if not rank:
            barrier()
        if not ds.train or ds.train[0].load_frames is None or ds.train[0].joints3d is None:
            raise InputError(f"joint: data.dataset={cfg['data']['dataset']} has no frames with 3D labels; the joint "
                             "mode trains on the synthetic world's renders (data.dataset: synthetic)")
        if ds.train[0].layout != LAYOUT:
            raise InputError(f"joint: expects {LAYOUT} labels, the data has {ds.train[0].layout}")
        seed_everything(cfg["seed"])
        net = build_network(jcfg, 17, len(ds.action_names)).to(device)
        path = cache.checkpoint_path("joint", "multitask", checkpoint_key(cfg))
        if path.is_file():
            state = cache.load_checkpoint(path)
            net.load_state_dict(state["state"])
            info = {"cached": True, "checkpoint": str(path), **state.get("summary", {})}
            quiet(f"joint: loaded from {path}")
        else:
            quiet(f"joint: no checkpoint (key {path.stem.split('-')[-1]}): training on {len(ds.train)} sequences, "
                  f"{size} process(es)")
            store = TrainStore(ds.train, jcfg["input_size"], jcfg["box_padding"], jcfg["depth_range_m"],
                               jcfg["share_2d_only"], jcfg["augment"], cfg["seed"], progress=not rank)
            tcfg = {**jcfg["train"], "supervise": jcfg["supervise"], "decoupled_poses": jcfg["decoupled_poses"]}
            snapshots = path.with_suffix(".resume")  # a killed training continues from its last snapshot
            with resuming(snapshots, keep=True):
                summary = train(net, store, tcfg, device, cfg["seed"], quiet)
            summary["train_seconds"] = sum(p["seconds"] for p in summary["phases"].values())
            summary["n_parameters"] = int(sum(p.numel() for p in net.parameters()))
            del store
            barrier()  # every process has written its last snapshot before rank 0 removes them
            if not rank:
                cache.save_checkpoint(path, {"state": net.state_dict(), "summary": summary, "cfg": jcfg})
                shutil.rmtree(snapshots, ignore_errors=True)
                log(f"joint: trained in {summary['train_seconds']:.0f} s, saved {path}")
            barrier()
            info = {"cached": False, "checkpoint": str(path), **summary}
    finally:  # leaving the group also releases a rank still waiting at a barrier when another one failed
        finish_distributed()
    return (None if rank else net), ds, info, device


def _evaluate_and_write(cfg, net, ds, info, device, work_dir: Path, log) -> dict:
    from joint.evaluate import evaluate, speed_per_cut
    from joint.trainer import CURVE_EVERY

    jcfg = cfg["joint"]
    sec = evaluate(net, ds.test, jcfg, device)
    examples = sec.pop("_examples")
    speeds = speed_per_cut(net, jcfg["input_size"], device, clip_len=int(jcfg["train"]["clip_len"]),
                           repeats=int(jcfg["speed_repeats"]))
    for rec, sp in zip(sec["per_block"], speeds):
        rec.update(sp)
    if "block" in info:  # an exported cut: its one block is the original's block ``info['block']``
        sec["per_block"][0]["block"] = info["block"]
    sec["labels"] = list(ds.action_names)
    sec["n_blocks"] = net.n_blocks
    sec["n_parameters"] = info.get("n_parameters") or int(sum(p.numel() for p in net.parameters()))
    work_dir.mkdir(parents=True, exist_ok=True)
    figs = {"per_block": str(plots.plot_speed_tradeoff(
        sec["per_block"], work_dir / "per_block.png",
        title=f"joint mode cut at each prediction block ({device}, {jcfg['entry_flow']}, "
              f"P={jcfg['pyramids']} L={jcfg['levels']})"))}
    if sec["confusion_matrix"] is not None:
        figs["confusion_joint"] = str(plots.plot_confusion(np.asarray(sec["confusion_matrix"]), sec["labels"],
                                                          work_dir / "confusion_joint.png",
                                                          title=f"joint: top-1 {sec['top1']:.1%}"))
    phases = info.get("phases", {})
    curves = {f"{task} loss ({', '.join(p for p in phases if f'{task}_loss_curve' in phases[p])} phases)":
              sum((phases[p].get(f"{task}_loss_curve", []) for p in phases), []) for task in ("pose", "action")}
    curves = {k: v for k, v in curves.items() if v}
    if curves:  # a checkpoint trained before the curves were kept has none
        figs["train_joint"] = str(plots.plot_curves(curves, work_dir / "train_joint.png", f"x {CURVE_EVERY} steps",
                                                    "loss (action: cross-entropy summed over blocks)",
                                                    title="joint mode: training, phase after phase"))
    if examples:
        figs["skeleton3d"] = str(_skeleton_figure(examples[0], jcfg, work_dir / "skeleton3d.png"))
    report = {"joint": sec, "train": {"joint": info}, "figures": figs,
              "config": {"device": device, "seed": cfg["seed"], "mode": "joint",
                         **{k: jcfg[k] for k in ("entry_flow", "pyramids", "levels", "input_size", "supervise",
                                                 "action_features", "decoupled_poses")}},
              "environment": environment(cfg["seed"], device)}
    write_report(work_dir, report, cfg)
    write_text(work_dir / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))
    top1 = "-" if sec["top1"] is None else f"{sec['top1']:.3f}"
    log(f"joint: pck={sec['pck']:.3f}  mpjpe_mm={sec['mpjpe_mm']:.1f}  top1={top1}  fps={sec['fps']:.1f}")
    log(f"report: {work_dir / 'report.json'}")
    return report


def _skeleton_figure(ex: dict, jcfg: dict, path: Path) -> Path:
    """The first test sequence's middle frame: the last block's 3D pose (crop-normalised x, y and z scaled to
    metres) beside the ground truth, both root-centred."""
    from joint.data import to_camera

    s = ex["sample"]
    t = s.n_frames // 2
    gt = np.asarray(s.joints3d, np.float64)
    _, X = to_camera(ex["poses"][-1][t:t + 1], ex["matrix"], int(jcfg["input_size"]), s.camera, gt[t:t + 1, 0, 2],
                     float(jcfg["depth_range_m"]))
    return plots.plot_skeleton3d([X[0] - X[0, :1], gt[t] - gt[t, :1]], s.layout, path,
                                 title=f"{s.name} frame {t}: joint mode, last block (left) vs ground truth")


__all__ = ["run_joint", "checkpoint_key"]
