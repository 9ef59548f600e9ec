"""What ``run.py`` does once the pipeline is resolved: train or load the chain, then evaluate it on the test
split or run it on a user's video, and write the outputs atomically (a failed run leaves no report)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import yaml

from common import timeline
from common.distributed import barrier, finish_distributed, init_distributed, same_everywhere, world
from common.errors import InputError
from common.handoff import select_person, slice_frames
from common.io import write_json, write_text
from common.logs import get_logger
from common.reproducibility import environment
from common.training import resolve_device

from .chain import Chain
from .data import build_dataset
from .evaluate import evaluate
from .report import write_figures, write_report

_log = get_logger("run").info


def run(cfg: dict, work_dir: Path, video: Optional[str] = None) -> dict:
    if "joint" in cfg:
        if video is not None:
            raise InputError("--input: the joint mode evaluates on the synthetic test split; run a video through "
                             "a 'stages' pipeline")
        from .joint import run_joint
        return run_joint(cfg, work_dir, log=_log)
    device = resolve_device(cfg["device"])
    work_dir = Path(work_dir)
    joined = torch.distributed.is_initialized()  # a caller's group (pipelines/search_arch.py) is left open
    if init_distributed(device):  # torchrun: every process trains, rank 0 alone saves and evaluates
        if video is not None:
            raise InputError("--input: run a video in one process; torchrun is for training")
        try:
            chain, ds = _train_distributed(cfg, device)
            barrier()  # every process leaves the group together, before rank 0 evaluates alone
        finally:
            if not joined:
                finish_distributed()
        return _evaluate(chain, ds, cfg, work_dir, device) if not world()[0] else {}
    chain = Chain(cfg, device, log=_log)
    if video is not None:
        if "stage1_2d" not in chain.parts:
            raise InputError("--input needs a pipeline with a stage1_2d detector")
        for name, part in chain.parts.items():
            if part.needs_ground_truth:
                raise InputError(f"--input: stages.{name}.type={cfg['stages'][name]['type']} needs ground truth "
                                 "and cannot run on a video")
        clip = _read_video_timed(video, cfg["video"])  # bad videos fail before any training
    dataset = {}

    def data():
        if "ds" not in dataset:
            _log(f"data: {cfg['data']['dataset']} (generated once, then read from the cache)")
            dataset["ds"] = build_dataset(cfg["data"])
        return dataset["ds"]

    if video is None and not data().test:  # a bad or missing test split fails before any training
        raise InputError(f"data: no test sequences to evaluate (data.dataset={cfg['data']['dataset']}); give "
                         "data.test_dir" + (" or data.holdout_subjects" if "holdout_subjects" in cfg["data"] else ""))
    chain.prepare(data)
    work_dir.mkdir(parents=True, exist_ok=True)
    if video is not None:
        report = run_video(chain, work_dir, video, clip)
        write_text(work_dir / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))
        return report

    return _evaluate(chain, data(), cfg, work_dir, device)


def _evaluate(chain: Chain, ds, cfg: dict, work_dir: Path, device: str) -> dict:
    """Evaluate a prepared chain on the test split; write the report, figures and resolved config."""
    work_dir.mkdir(parents=True, exist_ok=True)
    report = evaluate(chain, ds.test, ds.action_names)
    examples, sheet = report.pop("_examples"), report.pop("_sheet")
    report["train"] = {k: {kk: vv for kk, vv in v.items()} for k, v in chain.train_info.items()}
    report["figures"] = write_figures(work_dir, report, examples, sheet)
    report["config"] = {"device": device, "seed": cfg["seed"],
                        "stages": {k: v["type"] for k, v in cfg["stages"].items()}}
    report["environment"] = environment(cfg["seed"], device)
    write_report(work_dir, report, cfg)
    write_text(work_dir / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))
    _summary(report, work_dir)
    return report


def run_live(cfg: dict, work_dir: Path, source: str, hop_s: float, preview: bool = False) -> dict:
    """``--stream``: prepare the chain (training what has no checkpoint), then run it on the live ``source``
    (``pipelines/stream.py``)."""
    from .stream import run_stream

    if "joint" in cfg:
        raise InputError("--stream: the joint mode evaluates on the synthetic test split; stream a 'stages' pipeline")
    chain = Chain(cfg, resolve_device(cfg["device"]), log=_log)
    for name, part in chain.parts.items():
        if part.needs_ground_truth:
            raise InputError(f"--stream: stages.{name}.type={cfg['stages'][name]['type']} needs ground truth and "
                             "cannot run on live frames")
    if "stage2_lift" in chain.parts:  # a lifter that looks ahead is refused before anything trains
        chain.parts["stage2_lift"].causal_frames(25.0)
    chain.prepare(lambda: build_dataset(cfg["data"]))
    report = run_stream(chain, source, Path(work_dir), hop_s, preview, max_frames=cfg["video"]["max_frames"])
    write_text(Path(work_dir) / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))
    return report


def _train_distributed(cfg: dict, device: str):
    """(chain, dataset): the chain's parts trained over the ``torchrun`` processes (``common/distributed.py``);
    rank 0 builds the data first (the others then read its cache) and saves the checkpoints."""
    rank, size = world()
    if rank:
        barrier()
    else:
        _log(f"data: {cfg['data']['dataset']}; training on {size} processes (torchrun)")
    ds = build_dataset(cfg["data"])
    if not rank:
        barrier()
    chain = Chain(cfg, device, log=_log if not rank else (lambda _: None))
    chain.prepare(lambda: ds)
    for name, part in chain.parts.items():  # averaged gradients keep the processes' copies identical
        trained = [(n, m) for n, m in vars(part).items() if isinstance(m, torch.nn.Module)]
        if chain.train_info[name].get("cached") is False and trained:
            same = all(same_everywhere(m) for _, m in trained)
            if not rank:
                _log(f"{name}: weights {'identical' if same else 'DIFFERENT'} on the {size} processes")
    return chain, ds


def _summary(report: dict, work_dir: Path) -> None:
    keys = [("stage1_2d", "pck"), ("stage2_lift", "mpjpe_mm"), ("stage2_lift", "p_mpjpe_mm"),
            ("stage3_action", "top1"), ("end_to_end", "top1"), ("end_to_end", "fps")]
    parts = [f"{s}.{k}={report[s][k]:.3f}" for s, k in keys if k in report.get(s, {})]
    _log("  ".join(parts))
    _log(f"report: {work_dir / 'report.json'}")


def _read_video_timed(video: str, opts: dict):
    from common.video import read_frames

    t0 = time.perf_counter()
    frames, fps = read_frames(video, int(opts["stride"]), opts["max_frames"])
    return frames, fps, time.perf_counter() - t0


def action_json(chain: Chain, out: dict) -> dict:
    """``action.json``: the main person's answer over the whole clip (``label``, ``top5``, ...;
    ``ActionResult.to_json``), ``segments`` (the classifier over a sliding window of one action's length,
    ``window_seconds``: the clip span or the median training sequence, half a window apart) and ``tracks``:
    every person of the hand-off (person 0 is the main one) with its ``id``, ``frames`` (first and last frame
    it was seen), ``start_s`` / ``end_s``, and the same fields over its own frames (segment times in seconds
    of the video)."""
    cls = chain.parts["stage3_action"]
    names = list(chain.parts)
    seq = out[names[names.index("stage3_action") - 1]]
    p2 = out.get("stage1_2d") if cls.needs_pose2d else None  # the 2D a 3D + 2D ensemble also reads
    win = cls.window_seconds()
    action = out["stage3_action"].to_json()
    action["segments"] = timeline.segments(timeline.classify_timeline(seq, cls.predict, win, win / 2, p2), seq.fps)
    action["window_s"] = win
    action["tracks"] = []
    for p in range(seq.n_persons):
        seen = np.flatnonzero(seq.scores[p].max(-1) > 0)
        if len(seen) == 0:
            continue
        a, b = int(seen[0]), int(seen[-1]) + 1
        own = slice_frames(select_person(seq, p), a, b)
        own2 = None if p2 is None else slice_frames(select_person(p2, p), a, b)
        segs = timeline.segments(timeline.classify_timeline(own, cls.predict, win, win / 2, own2), seq.fps)
        for sg in segs:
            sg["start_s"], sg["end_s"] = sg["start_s"] + a / seq.fps, sg["end_s"] + a / seq.fps
        action["tracks"].append({"id": p, "frames": [a, b - 1], "start_s": a / seq.fps, "end_s": b / seq.fps,
                                 **cls.predict(own, **({} if own2 is None else {"pose2d": own2})).to_json(),
                                 "segments": segs})
    return action


def _draw_people(frame, p2, t: int, labels):
    """Frame ``t`` with every person of ``p2`` seen there drawn (one person: left/right colours)."""
    from common import plots

    if labels is None:
        return plots.draw_skeleton2d(frame, p2.keypoints[0, t], p2.layout, p2.scores[0, t])
    for p in range(p2.n_persons):
        if np.any(p2.scores[p, t] > 0):
            frame = plots.draw_skeleton2d(frame, p2.keypoints[p, t], p2.layout, p2.scores[p, t],
                                          color=plots.TRACK_RGB[p % len(plots.TRACK_RGB)], label=labels[p][t])
    return frame


def run_video(chain: Chain, work_dir: Path, video: str, clip) -> dict:
    from common import plots

    frames, fps, t_decode = clip
    t0 = time.perf_counter()
    out = chain.run(frames, fps)
    elapsed = t_decode + time.perf_counter() - t0
    p2 = out["stage1_2d"]
    p2.save(work_dir / "pose2d.npz")
    if "stage2_lift" in out:
        p3 = out["stage2_lift"]
        p3.save(work_dir / "pose3d.npz")
        plots.plot_skeleton3d(p3.joints[0, len(frames) // 2], p3.layout, work_dir / "skeleton3d.png",
                              title=f"{Path(video).name}, frame {len(frames) // 2}")
    captions = None
    labels = [[f"{p}"] * len(frames) for p in range(p2.n_persons)] if p2.n_persons > 1 else None
    if "stage3_action" in out:
        t1 = time.perf_counter()
        action = action_json(chain, out)
        elapsed += time.perf_counter() - t1
        write_json(work_dir / "action.json", action)
        top = ", ".join(f"{t['label']} {t['probability']:.2f}" for t in action["top5"][:3])
        _log(f"action: {action['label']} (closest: {top}); {len(action['segments'])} segment(s) over time")
        if len(action["tracks"]) > 1:
            _log(f"{len(action['tracks'])} people: " + ", ".join(f"{tr['id']}: {tr['label']}"
                                                                for tr in action["tracks"]))
        captions = [timeline.caption_at(action["segments"], t / fps) for t in range(len(frames))]
        if labels is not None:
            for tr in action["tracks"]:
                labels[tr["id"]] = [f"{tr['id']} {timeline.caption_at(tr['segments'], t / fps)}"
                                    for t in range(len(frames))]
        idx = np.linspace(0, len(frames) - 1, 4).round().astype(int)
        stills = [(i / fps, plots.caption(_draw_people(frames[i], p2, i, labels), captions[i])) for i in idx]
        plots.plot_timeline(stills, action["segments"], len(frames) / fps, work_dir / "timeline.png",
                            title=f"{Path(video).name}: {action['label']}")
    plots.write_overlay_video(frames, p2.keypoints, p2.layout, work_dir / "overlay.mp4", fps, p2.scores, captions,
                              labels)
    report = {"fps": len(frames) / elapsed, "n_frames": len(frames), "input": str(video),
              "frame_stride": int(chain.cfg["video"]["stride"]), "seconds": out["seconds"],
              "environment": environment(chain.cfg["seed"], chain.device)}
    info = chain.parts["stage1_2d"].last_info
    if info:  # which person was followed, where several were seen
        report["stage1_2d"] = info
        person = info.get("person") or {}
        if person.get("max_people", 0) > 1 and person.get("policy") != "all":
            _log(f"several people seen ({person['max_people']} at most, in {person['frames_with_several']} "
                 f"frames): followed the largest and most central one")
    write_json(work_dir / "report.json", report)
    _log(f"{len(frames)} frames at {report['fps']:.1f} fps -> {work_dir}")
    return report
