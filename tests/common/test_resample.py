"""Resampling pose sequences in time."""
import numpy as np
import pytest

from common.resample import n_resampled, resample_time, sample_frames


@pytest.mark.parametrize("src, dst", [(30, 25), (25, 120), (10, 25), (120, 25), (25, 50), (24, 25)])
def test_resample_time_reproduces_a_linear_ramp(src, dst):
    T = 37
    t = np.arange(T) / src
    ramp = np.stack([0.5 + 2.0 * t, -1.5 * t, 3.0 + 0.1 * t], -1)[:, None] * np.arange(1, 5)[None, :, None]
    out = resample_time(ramp.astype(np.float32), src, dst)                     # (T, J, 3), joints carried along
    n = n_resampled(T, src, dst)
    assert n == max(1, int(np.floor((T - 1) * dst / src + 0.5)) + 1) and out.shape == (n, 4, 3)
    assert out.dtype == np.float32
    tk = np.minimum(np.arange(n) / dst, (T - 1) / src)                       # times within the duration
    want = np.stack([0.5 + 2.0 * tk, -1.5 * tk, 3.0 + 0.1 * tk], -1)[:, None] * np.arange(1, 5)[None, :, None]
    assert np.abs(out - want).max() < 1e-5
    # sample-and-hold takes the frame at or before each time: the value of the ramp at that frame's time
    hold = resample_time(ramp, src, dst, mode="hold")
    th = np.floor(tk * src + 1e-9) / src
    assert np.all(th <= tk + 1e-12)
    assert np.allclose(hold[:, 0], np.stack([0.5 + 2.0 * th, -1.5 * th, 3.0 + 0.1 * th], -1))
    # any axis: persons first, frames second
    two = np.stack([ramp, -ramp])
    assert np.allclose(resample_time(two, src, dst, axis=1), np.stack([resample_time(ramp, src, dst),
                                                                      resample_time(-ramp, src, dst)]))


def test_resample_time_same_rate_and_one_frame():
    x = np.random.default_rng(0).normal(size=(20, 17, 3)).astype(np.float32)
    for mode in ("linear", "hold"):
        assert np.array_equal(resample_time(x, 25, 25, mode), x)
        assert resample_time(x[:1], 25, 120, mode).shape == (1, 17, 3)
        assert resample_time(x[:1], 120, 10, mode).shape == (1, 17, 3)
    assert np.array_equal(sample_frames(x, np.arange(20.0)), x)             # whole positions: the frames
    assert n_resampled(1, 10, 25) == 1 and n_resampled(2, 120, 25) == 1 and n_resampled(24, 10, 25) == 59
    with pytest.raises(ValueError):
        resample_time(x, 0, 25)
    with pytest.raises(ValueError):
        sample_frames(x, [0.5], mode="cubic")


def test_resample_time_round_trip_keeps_a_smooth_signal():
    for src, dst in ((25, 120), (120, 25), (25, 30), (30, 25), (10, 25)):
        T = int(3 * src) + 1                                                    # 3 s of a 0.5 Hz motion
        t = np.arange(T) / src
        x = np.stack([np.sin(np.pi * t), np.cos(np.pi * t + 0.3)], -1)[:, None].repeat(17, 1)
        back = resample_time(resample_time(x, src, dst), dst, src)
        assert back.shape[1:] == x.shape[1:] and abs(len(back) - T) <= 1
        n = min(len(back), T)
        # each linear resampling errs by at most h^2 max|x''| / 8 with h the coarser frame period
        assert np.abs(back[:n] - x[:n]).max() < 2 * (np.pi / min(src, dst)) ** 2 / 8, (src, dst)
