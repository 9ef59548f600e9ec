"""ONNX export and the onnxruntime runner of ``common/onnx_backend.py``, int8 weights included."""
import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from common.onnx_backend import ExportSpec, OnnxNetwork, quantize_int8  # noqa: E402


def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(32, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                               torch.nn.ReLU(), torch.nn.Linear(256, 48)).eval()


def test_export_runs_any_batch_and_matches_torch(tmp_path):
    net = _mlp()
    spec = ExportSpec(net, {"x": torch.randn(4, 32)}, ("y",), {"x": {0: "batch"}, "y": {0: "batch"}})
    path = spec.export(tmp_path / "mlp.onnx")
    x = torch.randn(9, 32)
    got = OnnxNetwork(path, threads=1)(x)
    with torch.no_grad():
        np.testing.assert_allclose(got.numpy(), net(x).numpy(), atol=1e-5)


def test_int8_weights_shrink_the_file_and_stay_close(tmp_path):
    """Dynamic int8 quantization stores the Linear weights in one byte (about a quarter of the file) and its
    outputs stay within a few per cent of the float network's, but are not identical (the weights did change)."""
    net = _mlp()
    spec = ExportSpec(net, {"x": torch.randn(4, 32)}, ("y",), {"x": {0: "batch"}, "y": {0: "batch"}})
    fp32 = spec.export(tmp_path / "fp32.onnx")
    int8 = spec.export(tmp_path / "int8.onnx")
    quantize_int8(int8)
    assert int8.stat().st_size < 0.4 * fp32.stat().st_size
    x = torch.randn(64, 32)
    with torch.no_grad():
        want = net(x).numpy()
    got = OnnxNetwork(int8, threads=1)(x).numpy()
    scale = np.abs(want).max()
    assert np.abs(got - want).max() < 0.05 * scale
    assert np.abs(got - want).max() > 1e-6


def test_write_networks_quantizes_when_asked(tmp_path):
    """``export.py --quantize`` reaches ``write_networks``: the manifest entry says int8 and the file is the small
    one; without it the float network is written."""
    from pipelines.exported import write_networks

    spec = ExportSpec(_mlp(), {"x": torch.randn(4, 32)}, ("y",), {"x": {0: "batch"}, "y": {0: "batch"}})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fp32 = write_networks("stage2_lift", {"lifter": spec}, tmp_path / "a")["lifter"]
    int8 = write_networks("stage2_lift", {"lifter": spec}, tmp_path / "b", quantize=True)["lifter"]
    assert fp32["int8"] is False and int8["int8"] is True
    assert fp32["max_abs_diff"] < 1e-5 < int8["max_abs_diff"]
    size = {k: (tmp_path / k / "stage2_lift.lifter.onnx").stat().st_size for k in "ab"}
    assert size["b"] < 0.4 * size["a"]
