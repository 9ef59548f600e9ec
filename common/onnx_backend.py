"""ONNX export of a part's tensor networks and an onnxruntime stand-in that runs them.

A trained part splits in two (``common.stage.Stage``): its *networks* (torch modules from tensors to tensors, the
only thing that is exported) and its *codec state* (everything else its ``state()`` holds: normalisation
statistics, labels, temperature, options), the pre- and post-processing parameters written beside each ONNX file.
:class:`OnnxNetwork` takes a network's place: called with torch tensors, it returns torch tensors, so the part's
own encode and decode code runs unchanged around it (``backend: onnx``, ``docs/interfaces.md``).

The exporter is torch's TorchScript-based one (``dynamo=False``): the new exporter needs ``onnxscript``, which
this environment does not carry. Opset 17.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Sequence, Tuple, Union

import numpy as np
import torch

from .errors import InputError
from .io import atomic_path

OPSET = 17


@dataclass
class ExportSpec:
    """One network of a part as it is exported: the module, named example inputs (their values do not matter,
    their shapes and dtypes do), the output names, and the axes that may change size (``{name: {axis: label}}``)."""
    module: torch.nn.Module
    inputs: Dict[str, torch.Tensor]
    outputs: Tuple[str, ...]
    dynamic: Dict[str, Dict[int, str]]

    def export(self, path) -> Path:
        return export_network(self.module, self.inputs, self.outputs, path, self.dynamic)


def export_network(module: torch.nn.Module, inputs: Dict[str, torch.Tensor], outputs: Sequence[str], path,
                   dynamic: Dict[str, Dict[int, str]]) -> Path:
    """Write ``module`` (evaluation mode) traced on the named example ``inputs`` to ``path`` as ONNX; ``dynamic``
    names the axes of inputs and outputs that may change size (the batch, a sequence's length)."""
    module = module.eval()
    with atomic_path(path, suffix=".onnx") as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")     # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(module, tuple(inputs.values()), str(tmp), input_names=list(inputs),
                          output_names=list(outputs), dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)
    return Path(path)


def quantize_int8(path) -> Path:
    """Rewrite the ONNX file ``path`` with its MatMul and Gemm weights in int8 (onnxruntime's dynamic
    quantization: activations are quantized per batch at run time). Smaller and faster on the CPU, at some
    accuracy (``docs/deployment.md`` measures both)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = Path(path)
    logging.disable(logging.WARNING)  # its advice to run shape pre-processing first, on the root logger
    try:
        with atomic_path(path, suffix=".onnx") as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(str(path), str(tmp), weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul", "Gemm"])
    finally:
        logging.disable(logging.NOTSET)
    return path


class OnnxNetwork:
    """An exported network run by onnxruntime on the CPU, called like the torch module it replaces.

    ``threads`` caps onnxruntime's intra-op threads (0: its default, all cores)."""

    def __init__(self, path, threads: int = 0):
        try:
            import onnxruntime as ort
        except ImportError:
            raise InputError("backend: onnx needs the onnxruntime package (make setup installs it)") from None
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: exported network not found (write it with pipelines/export.py)")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
        # no busy-waiting between runs: the stage's own pre- and post-processing shares the cores
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = path
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, *tensors: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        if len(tensors) != len(self.input_names):
            raise InputError(f"{self.path.name}: expects {len(self.input_names)} input(s) "
                             f"({', '.join(self.input_names)}), got {len(tensors)}")
        feed = {n: np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32)
                for n, t in zip(self.input_names, tensors)}
        out = [torch.from_numpy(o) for o in self.session.run(None, feed)]
        return out[0] if len(out) == 1 else tuple(out)

    # the torch module calls the parts make around inference
    def eval(self) -> "OnnxNetwork":
        return self

    def to(self, *_args, **_kwargs) -> "OnnxNetwork":
        return self
