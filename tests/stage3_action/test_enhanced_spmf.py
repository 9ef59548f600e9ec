import cv2
import numpy as np
import pytest

import stage3_action.enhanced_spmf  # noqa: F401  (registers the encoder)
from common.errors import InputError
from common.registry import build


def _enc(**opts):
    return build("encoder", {"type": "enhanced_spmf", **opts})


def _jet(level):
    """RGB colour OpenCV's JET gives to a uint8 level (computed independently of the module)."""
    return cv2.applyColorMap(np.array([[level]], np.uint8), cv2.COLORMAP_JET)[0, 0, ::-1]


def _clip(T=16, J=17, D=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, J, D)) * (0.4 if D == 3 else 80.0) + (0.0 if D == 3 else 500.0)
    x += np.cumsum(rng.normal(size=(T, 1, D)) * 0.05 * (1 if D == 3 else 100), axis=0)
    return x, np.ones((T, J))


def _lightness_std(rgb):
    return float(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)[..., 0].std())


@pytest.mark.parametrize("D,T", [(3, 16), (2, 16), (3, 1), (2, 1), (3, 2)])
def test_shape_dtype_finite(D, T):
    enc = _enc(size=24)
    assert enc.channels(D) == 3
    x, s = _clip(T=T, D=D)
    img = enc.encode(x, s)
    assert img.shape == (3, 24, 24) and img.dtype == np.float32
    assert np.isfinite(img).all() and img.min() >= -1.0 and img.max() <= 1.0
    assert enc.raw_image(x, s).shape == (2 * 17 * 16 // 2, 2 * T - 1, 3)


@pytest.mark.parametrize("D", [3, 2])
def test_translation_and_scale_invariance(D):
    enc = _enc()
    x, s = _clip(D=D)
    shift = np.array([0.3, -1.2, 5.0][:D]) * (1 if D == 3 else 100)
    ref = enc.encode(x, s)
    for y in (x + shift, 1.7 * x, 0.45 * x + shift):
        img = enc.encode(y, s)
        assert np.abs(img - ref).mean() < 2e-3 and np.abs(img - ref).max() < 0.1
    # and a non-rigid change does alter the image (so the check above is not vacuous)
    y = x.copy()
    y[:, :, 0] *= 1.5
    assert np.abs(enc.encode(y, s) - ref).mean() > 0.02


def test_toy_layout():
    # 3 joints, 2 frames; pairs (0,1), (0,2), (1,2); rows 0-2 JJD, rows 3-5 JJO; columns PF1, MF1->2, PF2
    x = np.array([[[0, 0, 0], [1, 0, 0], [0, 2, 0]],
                  [[1, 0, 0], [0, 0, 1], [0, 2, 0]]], float)
    raw = _enc().raw_image(x, np.ones((2, 3)))
    assert raw.shape == (6, 3, 3) and raw.dtype == np.uint8
    # JJO of PF1: (0,1) points along +x, (0,2) along +y -> (u + 1) / 2 * 255 in R, G, B
    assert raw[3, 0].tolist() == [255, 128, 128]
    assert raw[4, 0].tolist() == [128, 255, 128]
    # JJD scale = max pose JJD over the clip = |p2 - p1| at t=1 = sqrt(5)
    scale = np.sqrt(5.0)
    assert raw[0, 0].tolist() == _jet(round(255 / scale)).tolist()      # |p1 - p0| = 1 at t=1
    assert raw[1, 0].tolist() == _jet(round(255 * 2 / scale)).tolist()  # |p2 - p0| = 2 at t=1
    assert raw[2, 2].tolist() == _jet(255).tolist()                     # the longest pair
    # JET in RGB: short distance is blue-dominant, long distance red-dominant
    short, long_ = raw[0, 0].astype(int), raw[2, 2].astype(int)
    assert short[2] > short[0] and long_[0] > long_[2]
    # MF1->2 of pair (0,1) uses p1(t+1) - p0(t) = (0,0,1): +z -> blue, and distance 1
    # (p1(t) - p0(t) = +x, p1(t+1) - p0(t+1) = (-1,0,1), p1(t) - p0(t+1) = 0 would all differ)
    assert raw[3, 1].tolist() == [128, 128, 255]
    assert raw[0, 1].tolist() == _jet(round(255 / scale)).tolist()
    # MF of pair (0,2): p2(t+1) - p0(t) = (0, 2, 0) (p2(t+1) - p0(t+1) would be (-1, 2, 0))
    assert raw[4, 1].tolist() == [128, 255, 128]
    # PF2 of pair (0,1): p1 - p0 = (-1, 0, 1) at t=2
    u = np.array([-1, 0, 1]) / np.sqrt(2)
    assert raw[3, 2].tolist() == np.rint((u + 1) * 127.5).astype(int).tolist()
    # a fixed JJD scale replaces the per-clip maximum
    raw4 = _enc(jjd_max=4.0).raw_image(x, np.ones((2, 3)))
    assert raw4[1, 0].tolist() == _jet(round(255 * 2 / 4)).tolist()
    # T = 1: a single PF column
    assert _enc().raw_image(x[:1], np.ones((1, 3))).shape == (6, 1, 3)


def test_2d_blue_channel_and_zero_length_pair():
    x = np.array([[[0, 0], [3, 4], [3, 4]]], float)  # joints 1 and 2 coincide
    raw = _enc().raw_image(x, np.ones((1, 3)))
    assert np.isfinite(raw).all()
    assert raw[3, 0].tolist() == np.rint([(0.6 + 1) * 127.5, (0.8 + 1) * 127.5, 127.5]).astype(int).tolist()
    assert raw[5, 0].tolist() == [128, 128, 128]  # zero-length direction -> neutral grey, no NaN
    assert raw[2, 0].tolist() == _jet(0).tolist()


def test_low_score_joint_is_black():
    enc = _enc()
    x, s = _clip(T=5)
    s[2, 5] = 0.0
    x[2, 5] = x[2, 3]          # zero-length pair with a joint that is not seen
    raw = enc.raw_image(x, s)
    P = 17 * 16 // 2
    j, k = np.triu_indices(17, k=1)
    black = np.zeros((P, 9), bool)
    black[(j == 5) | (k == 5), 4] = True    # PF at t=2
    black[k == 5, 3] = True                 # MF 1->2: k taken at t=2
    black[j == 5, 5] = True                 # MF 2->3: j taken at t=2
    black = np.concatenate([black, black])  # JJD and JJO rows
    assert (raw[black] == 0).all()
    assert (raw[~black].max(-1) > 0).all()
    # a score just under the threshold counts as unseen, the threshold itself as seen
    s2 = np.ones_like(s)
    s2[0, 0] = 0.49
    assert (enc.raw_image(x, s2)[0, 0] == 0).all()
    s2[0, 0] = 0.5
    assert (enc.raw_image(x, s2)[0, 0] > 0).any()
    # an unseen joint's (garbage) position does not change the rest of the image (e.g. via the JJD scale)
    y = x.copy()
    y[2, 5] = 1e6
    assert np.array_equal(enc.raw_image(y, s), raw)
    assert np.isfinite(enc.encode(y, s)).all()


def test_clahe():
    x, s = _clip()
    on, off = _enc(), _enc(clahe=False)
    assert not np.allclose(on.encode(x, s), off.encode(x, s), atol=1e-2)
    # CLAHE runs at native resolution, before resizing
    raw = on.raw_image(x, s)
    before = cv2.resize(on.enhance(raw), (32, 32), interpolation=cv2.INTER_AREA)
    assert np.allclose(on.encode(x, s), before.transpose(2, 0, 1) / 127.5 - 1, atol=1e-6)
    after = on.enhance(cv2.resize(raw, (32, 32), interpolation=cv2.INTER_AREA))
    assert not np.allclose(before, after, atol=2)
    # off: encode is just the resized raw image
    plain = cv2.resize(raw, (32, 32), interpolation=cv2.INTER_AREA)
    assert np.allclose(off.encode(x, s), plain.transpose(2, 0, 1) / 127.5 - 1, atol=1e-6)
    # enhancement raises the contrast of a low-contrast image (lightness std), in both colour spaces
    rng = np.random.default_rng(1)
    low = (120 + 20 * rng.random((272, 63, 1)) * np.array([1.0, 0.8, 0.6])).astype(np.uint8)
    for space in ("lab", "hsv"):
        assert _lightness_std(_enc(clahe_space=space).enhance(low)) > 1.5 * _lightness_std(low)
    assert np.array_equal(off.enhance(low), low)


def test_bad_input():
    with pytest.raises(InputError):
        _enc(bogus=1)
    with pytest.raises(InputError):
        _enc(clahe_space="xyz")
    enc = _enc()
    x, s = _clip(T=4)
    x[1, 2, 0] = np.nan
    with pytest.raises(InputError):
        enc.encode(x, s)
    x, s = _clip(T=4)
    s[0, 0] = np.inf
    with pytest.raises(InputError):
        enc.encode(x, s)
    with pytest.raises(InputError):
        enc.encode(x[:, :1], s[:, :1])  # J < 2
    with pytest.raises(InputError):
        enc.encode(x, s[:, :3])         # scores shape
