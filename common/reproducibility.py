"""What a run needs to be repeated: the library versions, thread counts and seed it ran with (``report.json``'s
``environment``), and ``--deterministic``, which asks torch for deterministic kernels only
(``torch.use_deterministic_algorithms``; on a GPU also cuDNN's deterministic mode and the cuBLAS workspace that
it needs). With the same versions, thread counts, processor, seed and ``--deterministic``, two runs give the same
``report.json`` values (``tests/pipelines/test_deterministic.py``); timings differ."""
from __future__ import annotations

import importlib.metadata
import os
import platform
import sys

import torch

#: distributions whose versions a report records (absent ones are left out)
PACKAGES = ("torch", "numpy", "mmcv", "mmengine", "mmpose", "mmdet", "mediapipe", "opencv-python", "scikit-learn",
            "optuna", "onnx", "onnxruntime", "scipy")


def set_deterministic(on: bool = True) -> None:
    """Deterministic kernels only (an operation without one raises); cuDNN's autotuner off."""
    if on:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(on)
    torch.backends.cudnn.deterministic = on
    torch.backends.cudnn.benchmark = not on and torch.backends.cudnn.benchmark


def versions() -> dict:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def cpu_model() -> str:
    """The processor's name (``/proc/cpuinfo``'s model name on Linux, else the platform's)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(seed: int, device: str) -> dict:
    """The versions, threads, processor, seed, device and determinism of this process (``report.json``'s
    ``environment``). The processor matters as much as the versions: MKL and oneDNN pick their kernels per
    processor (vendor and instruction set, ``cpu_capability`` being torch's own), so the same command with the
    same versions and threads can end a training elsewhere on another CPU."""
    return {"seed": int(seed), "device": device, "deterministic": torch.are_deterministic_algorithms_enabled(),
            "torch_threads": torch.get_num_threads(), "torch_interop_threads": torch.get_num_interop_threads(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "cpu_count": os.cpu_count(),
            "cpu": cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "platform": platform.platform(), "executable": sys.executable, "versions": versions()}
