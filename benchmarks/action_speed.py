"""Speed of the stage-3 action classifiers on the CPU: clips per second of the encoder, of the CNN and of both.

    python benchmarks/action_speed.py [--threads 2] [--dims 2d 3d] [--batches 1 64] [--arch FILE ...]
                                      [--out benchmarks/results/action_speed.md]

One row per input (``2d``: Penn Action style pixel keypoints; ``3d``: root-relative metres) x encoder
(``pose_image``, ``enhanced_spmf``, each with its defaults) x classifier: ``pose_cnn`` with its defaults and
``searched_cnn`` once for every architecture JSON (``configs/arch/*.json``, or the files given with ``--arch``;
the document's own ``filters`` / ``n_cells``). Every classifier is untrained (random weights, 15 classes): speed
does not depend on the weights. The number of parameters depends on the image (channels, height, width), so it
is given per row.

Input: clips of 32 frames of 17 joints (h36m17) from the synthetic world (poses only, no frames; one sequence
per clip, actions cycling through the classes, so the poses are realistic): for ``2d`` the projected pixel
keypoints with detector-like scores (0.7-1 for a visible joint, 0.2-0.6 for a hidden one; ``enhanced_spmf``
draws pairs under 0.5 black), for ``3d`` the camera-frame joints made root-relative with scores 1 (what
``EncodedClassifier.sequence`` feeds the encoder).

Three figures per batch size B, all in clips/s:

- ``encode``: ``EncodedClassifier.image`` (the registered encoder) on each of B clips, then the stacking into a
  (B, C, H, W) tensor; measured once per input and encoder (the classifiers share it);
- ``model``: the bare ``nn.Module`` forward on that batch, eval mode, ``torch.no_grad()``;
- ``total``: B / (encode time + model time) of the batch, i.e. a clip's way from poses to class scores.

Timing: warm-up, then ``--repeats`` timings of enough calls to last ``--min-time`` seconds each; the median per
call is reported (the spread is in the JSON). All rows are measured in this one process, one after the other.
The machine is shared: the load average before and after is in the header; compare rows of one run only.

A second table, "search wall time", lists for each architecture JSON whose ``meta`` records ``search_seconds``
how long its ENAS search took (``pipelines/search_arch.py``), on which device and for how many epochs.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import datetime
import json
import os
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

import stage3_action
import stage3_action.searched_cnn  # noqa: F401  (registers searched_cnn)
from benchmarks.lifter_speed import log, time_per_call
from common.errors import InputError
from common.paths import repo_path
from common.registry import build
from common.reproducibility import cpu_model
from stage3_action.nas_space import load_arch

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = "benchmarks/results/action_speed.md"
ARCH_GLOB = "configs/arch/*.json"
STREAMS3 = ["joints", "bones", "motion"]
#: encoder label -> (registered encoder, its options)
ENCODERS = {"pose_image": ("pose_image", {}), "pose_image streams": ("pose_image", {"streams": STREAMS3}),
            "enhanced_spmf": ("enhanced_spmf", {})}
#: score-level ensembles measured whole (stage3_action/ensemble.py): label -> members' (encoder, options); every
#: member is a pose_cnn, and the ensemble's cost is every member's encoding and network on the batch
ENSEMBLES = {"ensemble: one pose_cnn per stream (joints, bones, motion)":
             [("pose_image", {"streams": [s]}) for s in STREAMS3]}
DIMS = ("2d", "3d")
CLIP_LEN = 32
N_CLASSES = 15


# ---------------------------------------------------------------------------------------------- rows
def architectures(paths: Optional[Sequence[str]] = None) -> List[Tuple[Path, dict]]:
    """(path, checked document) of every ``--arch`` file, or of every ``configs/arch/*.json`` when none is
    given; a missing or invalid file is a clean :class:`SystemExit` naming it."""
    if paths:
        files, where = [_user_path(p) for p in paths], "--arch"
    else:
        files, where = sorted(REPO.glob(ARCH_GLOB)), ARCH_GLOB
    out = []
    for f in files:
        try:
            out.append((f, load_arch(f)))
        except InputError as e:
            raise SystemExit(f"{where}: {e}") from None
    return out


def _user_path(p) -> Path:
    """A command-line path: as given (absolute, or relative to the working directory), else relative to the
    repository root."""
    p = Path(p).expanduser()
    return p.resolve() if p.is_absolute() or p.exists() else repo_path(p)


def _arch_label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return path.name


def classifier_rows(archs: Sequence[Tuple[Path, dict]]) -> List[dict]:
    """``{"name", "options", "label", "arch"}`` per classifier: ``pose_cnn`` and one ``searched_cnn`` per arch."""
    rows = [{"name": "pose_cnn", "options": {}, "label": "pose_cnn", "arch": None}]
    for path, doc in archs:
        rows.append({"name": "searched_cnn", "options": {"arch": str(path)},
                     "label": f"searched_cnn ({path.stem}, {doc['space']})", "arch": _arch_label(path)})
    return rows


def search_times(archs: Sequence[Tuple[Path, dict]]) -> List[dict]:
    """The search wall time of every architecture whose ``meta`` records ``search_seconds``."""
    out = []
    for path, doc in archs:
        meta = doc.get("meta") or {}
        if isinstance(meta, dict) and meta.get("search_seconds") is not None:
            out.append({"arch": _arch_label(path), "space": doc["space"],
                        "search_seconds": float(meta["search_seconds"]), "device": meta.get("device"),
                        "search_epochs": meta.get("search_epochs")})
    return out


# ---------------------------------------------------------------------------------------------- input
def make_clips(n: int, seed: int = 0, clip_len: int = CLIP_LEN) -> Dict[str, List[Tuple[np.ndarray, np.ndarray]]]:
    """``{"2d": [(x (T, 17, 2) pixels, scores (T, 17)), ...], "3d": [(x (T, 17, 3) root-relative metres,
    ones), ...]}``: ``n`` clips of ``clip_len`` frames, one synthetic sequence each (poses only)."""
    from common.synth.motion import ACTIONS
    from common.synth.world import make_sequence, resolve_cfg

    cfg = resolve_cfg({"seed": seed, "frames": clip_len, "render": False})
    rng = np.random.default_rng(seed)
    clips = {"2d": [], "3d": []}
    for i in range(n):
        s = make_sequence(cfg, {"split_index": 2, "action": i % len(ACTIONS), "index": i, "subject": i})
        vis = np.asarray(s["visible"], bool)
        sc = np.where(vis, rng.uniform(0.7, 1.0, vis.shape), rng.uniform(0.2, 0.6, vis.shape)).astype(np.float32)
        clips["2d"].append((np.asarray(s["joints2d"], np.float32), sc))
        j3 = np.asarray(s["joints3d"], np.float32)
        clips["3d"].append((j3 - j3[:, :1], np.ones(j3.shape[:2], np.float32)))
    return clips


def build_untrained(row: dict, encoder: str, dim: str, seed: int = 0, encoder_options: Optional[dict] = None):
    """The classifier of ``row`` with ``encoder`` (a label of :data:`ENCODERS`, or a registered encoder with
    ``encoder_options``) on ``dim`` input and a fresh (random) network of :data:`N_CLASSES` outputs in eval mode."""
    if encoder_options is None:
        encoder, encoder_options = ENCODERS[encoder]
    clf = build("action", {"type": row["name"], **row["options"], "encoder": encoder,
                           "encoder_options": encoder_options, "input": dim, "clip_len": CLIP_LEN}, seed=seed)
    torch.manual_seed(seed)
    clf.labels = [f"class_{i}" for i in range(N_CLASSES)]
    shape = clf.image_shape()
    clf.model = clf.build_model(shape[0], tuple(shape[1:]), N_CLASSES).to("cpu").eval()
    return clf


def encode_batch(clf, clips: Sequence[Tuple[np.ndarray, np.ndarray]]) -> torch.Tensor:
    """(B, C, H, W) images of ``clips`` through the classifier's encoder."""
    idx = np.arange(CLIP_LEN)
    return torch.as_tensor(np.stack([clf.image(x, sc, idx) for x, sc in clips]))


# ---------------------------------------------------------------------------------------------- measuring
def _rate(t: dict, b: int) -> dict:
    return {**t, "clips_per_s": b / t["median_s"]}


def measure_encode(clf, clips, batches, repeats: int, min_time: float) -> Dict[str, dict]:
    out = {}
    for b in batches:
        batch = clips[:b]
        out[str(b)] = _rate(time_per_call(lambda batch=batch: encode_batch(clf, batch), repeats, min_time), b)
    return out


def measure_model(model: torch.nn.Module, images: Dict[int, torch.Tensor], repeats: int, min_time: float):
    model.eval()
    out = {}
    for b, x in images.items():
        def f(x=x):
            with torch.no_grad():
                model(x)
        out[str(b)] = _rate(time_per_call(f, repeats, min_time), b)
    return out


def run_all(rows: Sequence[dict], dims: Sequence[str], batches: Sequence[int], repeats: int = 5,
            min_time: float = 0.2, seed: int = 0) -> List[dict]:
    """One result per input x encoder x classifier (see the module docstring)."""
    batches = sorted({int(b) for b in batches})
    log(f"  poses: {max(batches)} synthetic clips of {CLIP_LEN} frames")
    clips = make_clips(max(batches), seed)
    results = []
    n_rows, i = len(dims) * len(ENCODERS) * len(rows), 0
    for dim in dims:
        for enc in ENCODERS:
            log(f"{dim} {enc}: encoding")
            enc_res, images, enc_err = None, None, None
            try:
                ref = build_untrained(rows[0], enc, dim, seed)
                images = {b: encode_batch(ref, clips[dim][:b]) for b in batches}
                enc_res = measure_encode(ref, clips[dim], batches, repeats, min_time)
                log("  " + ", ".join(f"B={b}: {enc_res[str(b)]['clips_per_s']:,.0f} clips/s" for b in batches))
            except Exception as e:
                enc_err = f"encode: {type(e).__name__}: {e}"
                log(f"  FAILED: {enc_err}")
            for row in rows:
                i += 1
                res = {"dim": dim, "encoder": enc, "classifier": row["name"], "label": row["label"],
                       "options": row["options"], "arch": row["arch"]}
                t0 = time.perf_counter()
                try:
                    if enc_err:
                        raise RuntimeError(enc_err)
                    clf = build_untrained(row, enc, dim, seed)
                    model = clf.model
                    res["params"] = int(sum(p.numel() for p in model.parameters()))
                    res["image_shape"] = list(images[batches[0]].shape[1:])
                    res["encode"] = enc_res
                    res["model"] = measure_model(model, images, repeats, min_time)
                    res["total"] = {}
                    for b in batches:
                        s = enc_res[str(b)]["median_s"] + res["model"][str(b)]["median_s"]
                        res["total"][str(b)] = {"s_per_batch": s, "clips_per_s": b / s}
                    log(f"[{i}/{n_rows}] {dim} {enc} {row['label']}: "
                        + ", ".join(f"B={b} model {res['model'][str(b)]['clips_per_s']:,.0f} / total "
                                    f"{res['total'][str(b)]['clips_per_s']:,.0f} clips/s" for b in batches)
                        + f" ({time.perf_counter() - t0:.1f} s)")
                except Exception as e:
                    res["error"] = f"{type(e).__name__}: {e}"
                    log(f"[{i}/{n_rows}] {dim} {enc} {row['label']}: FAILED: {res['error']}")
                results.append(res)
        for label, members in ENSEMBLES.items():
            results.append(measure_ensemble(label, members, dim, clips[dim], batches, repeats, min_time, seed))
    return results


def measure_ensemble(label: str, members, dim: str, clips, batches, repeats: int, min_time: float,
                     seed: int = 0) -> dict:
    """One row for an ensemble of pose_cnn members: encode = every member's encoder, model = every member's
    network, both on the same B clips."""
    res = {"dim": dim, "encoder": "+".join("/".join(o.get("streams", [e])) for e, o in members),
           "classifier": "ensemble", "label": label, "options": {}, "arch": None}
    try:
        clfs = [build_untrained({"name": "pose_cnn", "options": {}}, e, dim, seed, o) for e, o in members]
        res["params"] = int(sum(p.numel() for c in clfs for p in c.model.parameters()))
        images = {b: [encode_batch(c, clips[:b]) for c in clfs] for b in batches}
        res["image_shape"] = [len(clfs), *images[batches[0]][0].shape[1:]]
        res["encode"] = {str(b): _rate(time_per_call(lambda b=b: [encode_batch(c, clips[:b]) for c in clfs],
                                                     repeats, min_time), b) for b in batches}

        def forward(b):
            with torch.no_grad():
                for c, x in zip(clfs, images[b]):
                    c.model(x)
        res["model"] = {str(b): _rate(time_per_call(lambda b=b: forward(b), repeats, min_time), b) for b in batches}
        res["total"] = {}
        for b in batches:
            sec = res["encode"][str(b)]["median_s"] + res["model"][str(b)]["median_s"]
            res["total"][str(b)] = {"s_per_batch": sec, "clips_per_s": b / sec}
        log(f"{dim} {label}: " + ", ".join(f"B={b} total {res['total'][str(b)]['clips_per_s']:,.0f} clips/s"
                                           for b in batches))
    except Exception as e:
        res["error"] = f"{type(e).__name__}: {e}"
        log(f"{dim} {label}: FAILED: {res['error']}")
    return res


# ---------------------------------------------------------------------------------------------- report
def _fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"


def markdown(results: List[dict], searches: List[dict], header: dict) -> str:
    b = header["batches"]
    lines = [f"# Action classifier speed on the CPU ({header['date']})", "",
             f"- machine: {header['machine']}, {header['cpu_count']} CPUs; torch {header['torch']} with "
             f"{header['threads']} thread(s); load average {header['load_before']} before, "
             f"{header['load_after']} after",
             f"- command: `{header['command']}`",
             f"- untrained classifiers (random weights, {N_CLASSES} classes); clips of {CLIP_LEN} frames x 17 joints "
             "from the synthetic world: 2D = pixel keypoints with detector-like scores (Penn Action input), "
             "3D = root-relative metres",
             f"- clips/s, median of {header['repeats']} timings of >= {header['min_time']} s; encode: the encoder "
             "on B clips + stacking (shared by the classifiers of an encoder); model: the bare network (eval, "
             "no_grad) on the (B, C, H, W) batch; total: B / (encode + model time)", ""]
    if not header.get("archs"):
        lines += [f"- no architecture JSON ({ARCH_GLOB} empty, no --arch): searched_cnn not measured", ""]
    cols = (["input", "encoder", "classifier", "params (M)", "image"]
            + [f"{k} B={x}" for x in b for k in ("encode", "model", "total")])
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        head = [r["dim"], r["encoder"], r["label"]]
        if "error" in r:
            lines.append("| " + " | ".join(head) + f" | failed: {r['error']} |" + " |" * (len(cols) - 4))
            continue
        shape = r["image_shape"]
        image = "x".join(map(str, shape)) if len(shape) == 3 else f"{shape[0]} x " + "x".join(map(str, shape[1:]))
        cells = head + [f"{r['params'] / 1e6:.3f}", image]
        for x in b:
            cells += [_fmt(r[k][str(x)]["clips_per_s"]) for k in ("encode", "model", "total")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Search wall time", ""]
    if searches:
        lines += ["| architecture | space | search time | device | search epochs |", "|---|---|---|---|---|"]
        for s in searches:
            sec = s["search_seconds"]
            lines.append(f"| {s['arch']} | {s['space']} | {sec:,.0f} s ({sec / 60:.1f} min) | "
                         f"{s['device'] if s['device'] is not None else '-'} | "
                         f"{s['search_epochs'] if s['search_epochs'] is not None else '-'} |")
    else:
        lines.append("No measured architecture records `meta.search_seconds`.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="torch (and OpenCV) threads")
    ap.add_argument("--dims", nargs="+", choices=DIMS, default=list(DIMS), help="inputs to measure")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    ap.add_argument("--arch", nargs="+", metavar="FILE",
                    help=f"architecture JSON(s) for searched_cnn (default: every {ARCH_GLOB})")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per timing")
    ap.add_argument("--out", default=DEFAULT_OUT, help="markdown report; the JSON goes beside it (.json)")
    args = ap.parse_args(argv)
    if any(b < 1 for b in args.batches):
        raise SystemExit(f"--batches: expected positive batch sizes, got {args.batches}")

    archs = architectures(args.arch)
    rows = classifier_rows(archs)
    dims = list(dict.fromkeys(args.dims))
    batches = sorted(set(args.batches))
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    load_before = [round(x, 2) for x in os.getloadavg()]
    log(f"action speed: {len(dims)} input(s) x {len(ENCODERS)} encoders x {len(rows)} classifier(s), "
        f"batches {batches}, {args.threads} thread(s), {os.cpu_count()} CPUs, load average {load_before[0]}")
    if load_before[0] + args.threads > (os.cpu_count() or 1) + 0.5:
        log(f"  warning: load average {load_before[0]} + {args.threads} thread(s) > {os.cpu_count()} CPUs: threads "
            "will wait for each other (a small batch can be many times slower); compare rows of one run only")
    if not archs:
        log(f"  no architecture JSON ({ARCH_GLOB} empty, no --arch): searched_cnn not measured")
    t0 = time.perf_counter()
    results = run_all(rows, dims, batches, args.repeats, args.min_time)
    header = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
              "machine": cpu_model(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
              "threads": args.threads, "dims": dims, "batches": batches, "repeats": args.repeats,
              "min_time": args.min_time, "clip_len": CLIP_LEN, "n_classes": N_CLASSES,
              "archs": [_arch_label(p) for p, _ in archs], "load_before": load_before,
              "load_after": [round(x, 2) for x in os.getloadavg()],
              "wall_seconds": round(time.perf_counter() - t0, 1),
              "command": "python benchmarks/action_speed.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    searches = search_times(archs)
    md = markdown(results, searches, header)
    print(md)
    out = Path(args.out)
    out = out if out.is_absolute() else REPO / out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(md)
    out.with_suffix(".json").write_text(json.dumps({"header": header, "results": results, "search": searches},
                                                   indent=2))
    log(f"wrote {out} and {out.with_suffix('.json')} ({header['wall_seconds']:.0f} s)")
    return results


if __name__ == "__main__":
    main()
