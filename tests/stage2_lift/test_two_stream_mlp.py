import numpy as np
import pytest
import torch
from lifter_checks import (
    check_checkpoint_round_trip,
    check_converges_and_beats_mean_pose,
    check_flip_symmetric,
    check_rejects_wrong_layout,
)

import stage2_lift  # noqa: F401
from common.camera import normalize_screen
from common.errors import InputError
from common.registry import build
from pipelines.chain import gt_pose2d
from stage2_lift.two_stream_mlp import TwoStreamLifter, TwoStreamMLP

SMALL = {"type": "two_stream_mlp", "width": 96, "epochs": 10, "batch_size": 128}



@pytest.fixture(scope="module")
def trained(tiny_poses):
    lifter = build("lifter", SMALL, seed=0)
    summary = lifter.fit(tiny_poses)
    return lifter, summary


def _with_mode(lifter, mode):
    """A view of the trained lifter with another ``inference`` option (same weights and statistics)."""
    other = build("lifter", {**SMALL, "inference": mode}, seed=0)
    other.load_state(lifter.state())
    return other


def test_registered_with_detector_like_defaults():
    lifter = build("lifter", {"type": "two_stream_mlp"})
    assert isinstance(lifter, TwoStreamLifter)
    c = lifter.cfg
    assert c["inference"] == "both" and c["width"] == 512 and c["blocks"] == 2
    assert c["noise_px"] > 0 and c["drop_rate"] > 0
    with pytest.raises(InputError, match="inference must be one of"):
        build("lifter", {"type": "two_stream_mlp", "inference": "mean"})


def test_module_shapes_and_separate_streams():
    torch.manual_seed(0)
    net = TwoStreamMLP(34, 48, width=32, blocks=1, dropout=0.0).eval()
    a, b = torch.randn(5, 34), torch.randn(5, 34)
    out = net(a, b)
    assert out.shape == (5, 48)
    assert torch.allclose(out, (net.gt_stream(a) + net.det_stream(b)) / 2, atol=1e-6)
    assert torch.allclose(net(a), net(a, a))
    # independent weights: the streams are not the same function
    assert not torch.allclose(net.gt_stream(a), net.det_stream(a))
    assert not set(map(id, net.gt_stream.parameters())) & set(map(id, net.det_stream.parameters()))


def test_training_converges_and_beats_the_mean_pose(trained, tiny_poses):
    check_converges_and_beats_mean_pose(*trained, tiny_poses)


def _stream_inputs(lifter, batch):
    seen = {}
    hooks = [getattr(lifter.model, name).register_forward_pre_hook(
        lambda mod, args, name=name: seen.__setitem__(name, args[0].detach().clone()))
        for name in ("gt_stream", "det_stream")]
    try:
        lifter.model.eval()  # deterministic, so the loss can be recomputed below
        loss = lifter.loss(batch)
    finally:
        for h in hooks:
            h.remove()
    return loss, seen["gt_stream"], seen["det_stream"]


@pytest.mark.parametrize("gt_noise_px, stream_loss", [(0.0, 0.0), (2.0, 1.0)])
def test_streams_receive_clean_and_noisy_views_of_the_same_frame(trained, gt_noise_px, stream_loss):
    """As the paper reads (0, 0): exact 2D to the GT stream, the mean of the streams supervised. The fix (2, 1):
    the GT stream's 2D gets 2 px of noise and each stream is also supervised on its own."""
    lifter, _ = trained
    old = dict(lifter.cfg)
    lifter.cfg.update(gt_noise_px=gt_noise_px, stream_loss=stream_loss)
    tr = lifter._tr
    idx = torch.arange(64)
    batch = lifter.views(tr["j3"][idx], tr["K"][idx], tr["size"][idx], torch.Generator().manual_seed(3), train=True)
    try:
        loss, x_gt, x_det = _stream_inputs(lifter, batch)
    finally:
        lifter.cfg.clear()
        lifter.cfg.update(old)
    assert torch.allclose(x_det, lifter._encode(batch["x"]))
    st = lifter.stats
    gt_px = ((x_gt * st["x_std"] + st["x_mean"]).reshape(len(x_gt), -1, 2) - batch["x_clean"]) * \
        batch["size"][:, None, :1] / 2
    if gt_noise_px == 0:
        assert torch.allclose(x_gt, lifter._encode(batch["x_clean"]))
    else:
        assert 1.8 < gt_px.std() < 2.2, gt_px.std()  # gt_noise_px per coordinate (2176 draws: SE 0.03)
    # different inputs (noise on every coordinate), but the same frames: close in pixels
    assert (x_gt != x_det).float().mean() > 0.9
    px = (batch["x"] - batch["x_clean"]) * batch["size"][:, None, :1] / 2
    kept = px.norm(dim=-1) < 40  # dropped joints moved to the pelvis are far off
    assert kept.float().mean() > 0.8
    assert 2.0 < px[kept].std() < 10.0, px[kept].std()  # about noise_px = 5 per coordinate
    with torch.no_grad():
        target = lifter.target(batch["y"])
        gt, det = lifter.model.gt_stream(x_gt), lifter.model.det_stream(x_det)
        expected = ((gt + det) / 2 - target).pow(2).mean() + \
            stream_loss * ((gt - target).pow(2).mean() + (det - target).pow(2).mean()) / 2
    assert torch.allclose(loss.detach(), expected, atol=1e-6)


def test_inference_both_is_the_mean_of_the_streams(trained, tiny_poses):
    lifter, _ = trained
    modes = {m: _with_mode(lifter, m) for m in ("both", "detected", "gt")}
    s = tiny_poses.test[0]
    w, h = s.image_size
    xy = torch.as_tensor(normalize_screen(gt_pose2d(s).keypoints[0, :40], w, h), dtype=torch.float32)
    x_enc = lifter._encode(xy)
    with torch.no_grad():
        for m in modes.values():
            m.model.eval()
        out = {k: m.forward(x_enc) for k, m in modes.items()}
        assert torch.allclose(out["detected"], lifter.model.det_stream.eval()(x_enc), atol=1e-6)
        assert torch.allclose(out["gt"], lifter.model.gt_stream.eval()(x_enc), atol=1e-6)
    mean = (out["gt"] + out["detected"]) / 2
    # the streams disagree by much more than the tolerance, so a wrong combination would be caught
    assert (out["gt"] - out["detected"]).abs().max() > 1e-2
    assert torch.allclose(out["both"], mean, atol=1e-5)
    assert not torch.allclose(out["both"], out["gt"], atol=1e-3)
    assert not torch.allclose(out["both"], out["detected"], atol=1e-3)
    # decoding and flip test are affine, so the mean relation holds end to end as well
    p = {k: m.predict(gt_pose2d(s)).joints for k, m in modes.items()}
    assert np.allclose(p["both"], (p["gt"] + p["detected"]) / 2, atol=1e-5)
    assert np.allclose(p["both"], lifter.predict(gt_pose2d(s)).joints, atol=1e-6)  # default mode is both


def test_flip_test_is_mirror_symmetric(trained, tiny_poses):
    check_flip_symmetric(trained[0], tiny_poses.test[0])


def test_checkpoint_round_trip(trained, tiny_poses, tmp_path):
    other = check_checkpoint_round_trip(trained[0], SMALL, tiny_poses.test[0], tmp_path)
    assert isinstance(other.model, TwoStreamMLP)


def test_wrong_layout_is_rejected(trained):
    check_rejects_wrong_layout(trained[0])
