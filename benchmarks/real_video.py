"""Real videos through ``pipelines/rgb_to_action_real.yaml``: the answer, its probability, the segments and the
speed end to end, in one command:

    python benchmarks/real_video.py [--videos V1 V2 ...] [--size 640x480]

Every video (default: the shared ``video/test.avi``, a person applying eye make-up, and the NTU clip
``S001C001P001R001A001_rgb.avi``, "drink water": both actions outside the UTD-MHAD vocabulary) is first resized to
``--size`` (``cv2.INTER_LINEAR``, written as mp4v to a temporary file; ``--size none`` keeps it), then run with
``--input`` in its own process; frames per second are the pipeline's own (decoding to result, 2 CPU cores).
Writes ``benchmarks/results/real_video.{json,md}`` and the first video's ``timeline.png`` as
``benchmarks/results/figures/real_video_timeline.png``.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import shutil
import subprocess
import tempfile

import cv2

from common.io import write_json, write_text
from common.paths import shared

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "real_video"
WORK = REPO / "work_dirs" / "real_video"
DEFAULT_VIDEOS = [shared("video", "test.avi"), shared("ntu", "S001C001P001R001A001_rgb.avi")]


def resized(src: Path, size, tmp: Path) -> Path:
    if size is None:
        return src
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    dst = tmp / f"{src.stem}_{size[0]}x{size[1]}.mp4"
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, tuple(size))
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(cv2.resize(frame, tuple(size), interpolation=cv2.INTER_LINEAR))
    writer.release()
    cap.release()
    return dst


def run_video(video: Path, work: Path, sets) -> dict:
    cmd = [sys.executable, "pipelines/run.py", "pipelines/rgb_to_action_real.yaml", "--input", str(video),
           "--work-dir", str(work), *(["--set", *sets] if sets else [])]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{video} failed:\n{r.stderr[-2000:]}")
    action = json.loads((work / "action.json").read_text())
    rep = json.loads((work / "report.json").read_text())
    return {"video": video.name, "frames": rep["n_frames"], "fps": rep["fps"], "label": action["label"],
            "probability": action["probability"], "top5": action["top5"],
            "segments": [{k: s[k] for k in ("start_s", "end_s", "label", "probability")} for s in action["segments"]],
            "unknown_threshold": action["unknown_threshold"], "seconds": rep["seconds"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--videos", nargs="+", type=Path, default=DEFAULT_VIDEOS)
    p.add_argument("--size", default="640x480", help="WxH, or none")
    p.add_argument("--set", nargs="*", default=[], dest="sets", help="--set options for every run")
    a = p.parse_args(argv)
    size = None if a.size == "none" else tuple(int(v) for v in a.size.split("x"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for v in a.videos:
            work = WORK / v.stem
            rows.append(run_video(resized(v, size, Path(tmp)), work, a.sets))
            if len(rows) == 1:
                fig = OUT.parent / "figures" / "real_video_timeline.png"
                fig.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(work / "timeline.png", fig)
            print(f"{v.name}: {rows[-1]['label']} ({rows[-1]['probability']:.2f}), {rows[-1]['fps']:.1f} fps",
                  file=sys.stderr, flush=True)
    write_json(OUT.with_suffix(".json"), {"rows": rows, "size": a.size, "sets": a.sets})
    lines = [f"# Real videos through rgb_to_action_real.yaml ({a.size}, 2 CPU cores)", "",
             "| video | frames | answer | top probability | closest classes | segments | frames/s |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        top = ", ".join(f"{t['label']} {t['probability']:.2f}" for t in r["top5"][:3])
        segs = "; ".join(f"{s['start_s']:.1f}-{s['end_s']:.1f} s {s['label']}" for s in r["segments"])
        lines.append(f"| {r['video']} | {r['frames']} | {r['label']} | {r['probability']:.2f} | {top} | {segs} | "
                     f"{r['fps']:.1f} |")
    lines += ["", f"unknown_threshold: {rows[0]['unknown_threshold']:.3f}" if rows else ""]
    write_text(OUT.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
