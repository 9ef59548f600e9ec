"""The One-Euro filter of key-point tracks, against values computed by hand."""
import math

import numpy as np
import pytest

from common.errors import InputError
from common.smoothing import one_euro


def _alpha(cutoff, fps):
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau * fps)                                # 1 / (1 + tau / T_e)


def _walk(T=40, J=3, seed=0):
    return 100.0 + np.cumsum(np.random.default_rng(seed).normal(0, 4.0, size=(T, J, 2)), axis=0)


def test_constant_and_first_sample_and_dtype():
    c = np.full((25, 4, 2), 3.25)
    for beta in (0.0, 0.7):
        assert np.array_equal(one_euro(c, 30, beta=beta), c)
    x = _walk()
    for beta in (0.0, 2.0):
        out = one_euro(x, 25, min_cutoff=0.5, beta=beta)
        assert out.shape == x.shape and out.dtype == np.float64
        assert np.array_equal(out[0], x[0])
        assert not np.allclose(out[1:], x[1:])                      # it does filter
    assert one_euro(x.astype(np.float32), 25).dtype == np.float32
    assert one_euro(np.arange(10), 25).dtype == np.float64
    assert one_euro(np.zeros((0, 3, 2)), 25).shape == (0, 3, 2)


def test_two_samples_closed_form():
    fps, mc = 30.0, 1.2
    x = np.array([2.0, 5.0])
    a = 1.0 / (1.0 + fps / (2 * math.pi * mc))
    assert one_euro(x, fps, min_cutoff=mc)[1] == pytest.approx(2.0 + a * 3.0, rel=1e-12)
    # with beta > 0, a d_cutoff and a scale: speed (5 - 2) * fps, filtered from 0 with alpha(d_cutoff)
    beta, dc, s1 = 0.3, 0.8, 4.0
    a_d = 1.0 / (1.0 + fps / (2 * math.pi * dc))
    fc = mc + beta * abs(a_d * 3.0 * fps) / s1
    a = 1.0 / (1.0 + fps / (2 * math.pi * fc))
    out = one_euro(x, fps, min_cutoff=mc, beta=beta, d_cutoff=dc, scale=np.array([7.0, s1]))
    assert out[0] == 2.0 and out[1] == pytest.approx(2.0 + a * 3.0, rel=1e-12)
    fc = mc + beta * abs(a_d * 3.0 * fps)                            # no scale: raw units per second
    a = 1.0 / (1.0 + fps / (2 * math.pi * fc))
    assert one_euro(x, fps, min_cutoff=mc, beta=beta, d_cutoff=dc)[1] == pytest.approx(2.0 + a * 3.0, rel=1e-12)
    # a third sample: the speed is the difference of raw samples (5 -> 4), not from the filtered value
    y1 = 2.0 + a * 3.0
    dx2 = a_d * (-1.0 * fps) + (1 - a_d) * (a_d * 3.0 * fps)
    a2 = 1.0 / (1.0 + fps / (2 * math.pi * (mc + beta * abs(dx2))))
    out = one_euro(np.array([2.0, 5.0, 4.0]), fps, min_cutoff=mc, beta=beta, d_cutoff=dc)
    assert out[2] == pytest.approx(y1 + a2 * (4.0 - y1), rel=1e-12)


def test_beta_zero_is_a_first_order_low_pass():
    fps, mc = 100.0, 2.0
    t = np.arange(500) / fps
    clean = np.stack([np.sin(2 * np.pi * 0.2 * t + p) for p in (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)], -1).reshape(-1, 3, 2)
    noisy = clean + np.random.default_rng(0).normal(0, 0.2, size=clean.shape)
    out = one_euro(noisy, fps, min_cutoff=mc)
    rms = lambda e: np.sqrt(np.mean(e ** 2))                        # noqa: E731
    assert rms(out - clean) < 0.6 * rms(noisy - clean)
    # the exponential recursion y_i = y_{i-1} + a (x_i - y_{i-1}), written out
    a, y = _alpha(mc, fps), noisy[0].copy()
    for i in range(1, len(noisy)):
        y = y + a * (noisy[i] - y)
        assert np.allclose(out[i], y, rtol=0, atol=1e-12)

    # a unit step reaches 1 - (1 - a)^n after n samples: ~63 % (1 - 1/e) at n = tau * fps
    fps, mc = 1000.0, 1.0
    step = np.ones(400)
    step[0] = 0.0
    out = one_euro(step, fps, min_cutoff=mc)
    a = _alpha(mc, fps)
    n = np.arange(400)
    assert np.allclose(out, 1 - (1 - a) ** n, rtol=0, atol=1e-12)
    k = int(round(fps / (2 * math.pi * mc)))                        # tau seconds, in samples
    assert out[k] == pytest.approx(1 - (1 - a) ** k, abs=1e-12)
    assert abs(out[k] - (1 - math.exp(-1))) < 0.01


def test_larger_beta_lags_less_on_a_fast_ramp():
    fps, v = 100.0, 500.0                                           # 500 px/s for 2 s
    x = v * np.arange(200) / fps
    lags = [x[-1] - one_euro(x, fps, min_cutoff=1.0, beta=b)[-1] for b in (0.0, 0.001, 0.01, 0.1)]
    assert lags[0] == pytest.approx(v / (2 * math.pi * 1.0), rel=1e-3)  # steady lag of a low pass: v tau
    assert all(l1 < l0 for l0, l1 in zip(lags, lags[1:])), lags
    assert lags[-1] < 0.05 * lags[0]


def test_valid_mask_passes_through_and_a_gap_restarts():
    fps, mc = 30.0, 1.0
    x = _walk(T=30)
    x[15:, 0] += 300.0                                              # joint 0 reappears far away
    valid = np.ones((30, 3), bool)
    valid[10:15, 0] = False
    out = one_euro(x, fps, min_cutoff=mc, valid=valid)
    ref = one_euro(x, fps, min_cutoff=mc)
    assert np.array_equal(out[10:15, 0], x[10:15, 0])               # invalid: the input
    assert np.array_equal(out[15, 0], x[15, 0])                     # first valid after the gap: the input
    a = 1.0 / (1.0 + fps / (2 * math.pi * mc))
    assert np.allclose(out[16, 0], x[15, 0] + a * (x[16, 0] - x[15, 0]), rtol=0, atol=1e-12)
    assert np.allclose(out[15:, 0], one_euro(x[15:, 0], fps, min_cutoff=mc), rtol=0, atol=1e-12)
    assert np.array_equal(out[:10], ref[:10]) and np.array_equal(out[:, 1:], ref[:, 1:])
    assert np.abs(ref[16, 0] - x[16, 0]).max() > 100                # without the gap it is dragged
    # a (T,) mask drops whole frames; a full-shape mask single coordinates; NaN samples count as invalid
    fv = np.ones(30, bool)
    fv[5] = False
    out = one_euro(x, fps, valid=fv)
    assert np.array_equal(out[5], x[5]) and np.array_equal(out[6], x[6])
    cv = np.ones(x.shape, bool)
    cv[5, 1, 0] = False
    out = one_euro(x, fps, valid=cv)
    assert out[5, 1, 0] == x[5, 1, 0] and out[6, 1, 0] == x[6, 1, 0] and out[6, 1, 1] == ref[6, 1, 1]
    xn = x.copy()
    xn[20, 2, 1] = np.nan
    out = one_euro(xn, fps)
    assert np.isnan(out[20, 2, 1]) and out[21, 2, 1] == x[21, 2, 1] and np.isfinite(out).sum() == out.size - 1


def test_scale_makes_beta_size_invariant():
    fps, k = 25.0, 3.7
    x = _walk(T=40) * 5
    s = 80.0 + 20.0 * np.sin(np.arange(40) / 6.0)
    kw = dict(min_cutoff=0.8, beta=0.05, d_cutoff=1.5)
    out = one_euro(x, fps, scale=s, **kw)
    assert np.allclose(one_euro(k * x, fps, scale=k * s, **kw), k * out, rtol=1e-12, atol=1e-9)
    assert not np.allclose(one_euro(k * x, fps, **kw), k * one_euro(x, fps, **kw), rtol=1e-6)  # raw units
    assert np.allclose(one_euro(x, fps, scale=np.ones(40), **kw), one_euro(x, fps, **kw), rtol=0, atol=1e-12)
    assert not np.allclose(out, one_euro(x, fps, **kw), rtol=1e-6)
    # a frame nobody is seen in may have no size
    s2, v = s.copy(), np.ones((40, 3), bool)
    s2[7], v[7] = np.nan, False
    assert np.isfinite(one_euro(x, fps, valid=v, scale=s2, **kw)).all()


@pytest.mark.parametrize("kwargs", [
    dict(fps=0), dict(fps=-25), dict(fps=float("nan")), dict(fps=float("inf")),
    dict(min_cutoff=0), dict(min_cutoff=-1), dict(d_cutoff=0), dict(beta=-0.1), dict(beta=float("nan")),
    dict(valid=np.ones((10, 4), bool)), dict(valid=np.ones((9,), bool)), dict(valid=np.ones((10, 3, 2, 1), bool)),
    dict(valid=np.ones((10, 3), float)),
    dict(scale=np.ones(9)), dict(scale=np.ones((10, 1))), dict(scale=np.zeros(10)), dict(scale=-np.ones(10)),
])
def test_bad_arguments_raise(kwargs):
    args = dict(fps=25.0) | kwargs
    with pytest.raises(InputError):
        one_euro(np.zeros((10, 3, 2)), **args)


def test_bad_x_raises():
    with pytest.raises(InputError):
        one_euro(np.float64(1.0), 25)
    with pytest.raises(InputError):
        one_euro(np.array(["a", "b"]), 25)
