"""Temporal smoothing of key-point tracks: the One-Euro filter.

Reference: G. Casiez, N. Roussel and D. Vogel, "1 € Filter: A Simple Speed-based Low-pass Filter for Noisy
Input in Interactive Systems", Proc. CHI 2012, pp. 2527-2530, doi:10.1145/2207676.2208639.

The filter is a first-order (exponential) low pass whose cutoff frequency rises with the signal's speed: a slow
or still joint is smoothed hard (little jitter), a fast one lightly (little lag). With sampling period
``T_e = 1 / fps``, for each sample ``X_i``:

* the exponential smoothing step is ``X̂_i = α X_i + (1 - α) X̂_{i-1}``, with the smoothing factor
  ``α = 1 / (1 + τ / T_e)`` of a cutoff frequency ``f_c`` through its time constant ``τ = 1 / (2 π f_c)``;
* the speed is estimated by the difference of consecutive raw samples ``dX_i = (X_i - X_{i-1}) / T_e``,
  itself smoothed by the same step with a fixed cutoff ``d_cutoff`` into ``dX̂_i``;
* the cutoff of the signal's step is adaptive: ``f_c = f_c_min + β |dX̂_i|`` (``min_cutoff`` and ``beta``).

The first sample initialises both filters (``X̂_0 = X_0``, ``dX̂_0 = 0``) and is returned unchanged.
With ``β = 0`` this is a plain first-order low pass at ``min_cutoff`` Hz: a step reaches ``1 - 1/e`` (~63 %)
of its height after about ``τ`` seconds.
"""
from __future__ import annotations

import math

import numpy as np

from common.errors import InputError


def _alpha(cutoff, fps: float):
    """Smoothing factor ``α = 1 / (1 + τ / T_e)`` with ``τ = 1 / (2 π f_c)`` and ``T_e = 1 / fps``."""
    return 1.0 / (1.0 + fps / (2.0 * math.pi * cutoff))


def _positive(name: str, value, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"one_euro: {name} must be a number, got {value!r}") from None
    ok = math.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        raise InputError(f"one_euro: {name} must be finite and {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return v


def _valid_mask(valid, x: np.ndarray) -> np.ndarray:
    """``valid`` (the leading dims of ``x``) broadcast to ``x``'s shape, as booleans."""
    if valid is None:
        return np.ones(x.shape, bool)
    v = np.asarray(valid)
    if v.dtype.kind not in "biu":
        raise InputError(f"one_euro: valid must be a boolean mask, got dtype {v.dtype}")
    if not (1 <= v.ndim <= x.ndim and v.shape == x.shape[:v.ndim]):
        raise InputError(f"one_euro: valid of shape {v.shape} does not match the leading dims of x {x.shape}")
    v = v.astype(bool).reshape(v.shape + (1,) * (x.ndim - v.ndim))
    return np.broadcast_to(v, x.shape)


def one_euro(x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0,
             valid: np.ndarray | None = None, scale: np.ndarray | None = None) -> np.ndarray:
    """One-Euro filter (Casiez, Roussel and Vogel, CHI 2012; see the module docstring) of ``x`` along its
    first axis, time; every entry of the trailing dims (joints, coordinates) is filtered independently.

    ``x``: ``(T, ...)`` samples, e.g. ``(T, J, 2)`` pixel key-points of one person's track. ``fps``: sampling
    rate in Hz (``T_e = 1 / fps``). ``min_cutoff`` (Hz, ``f_c_min``): the cutoff when still; lower smooths
    more. ``beta``: how fast the cutoff rises with speed, ``f_c = min_cutoff + beta * speed``; higher lags
    less on fast motion. ``d_cutoff`` (Hz): the fixed cutoff of the speed estimate.

    ``valid``: optional boolean mask over the leading dims of ``x``, ``(T,)``, ``(T, J)`` or ``x.shape``. An
    invalid entry (a joint not seen in that frame) is returned as it is in ``x``, and its filter restarts at
    the entry's next valid sample (returned unchanged, speed 0): a gap resets the filter, so a person who
    reappears is not dragged from where they were seen last. Non-finite samples of ``x`` count as invalid.

    ``scale``: optional ``(T,)`` per-frame size of the subject, e.g. the person's box height in pixels. When
    given, the speed in the cutoff is ``|dX̂_i| / scale_i`` (sizes per second rather than units per second),
    so one ``beta`` suits a person near the camera and one far away: scaling ``x`` and ``scale`` by the same
    factor scales the output by it. It must be finite and > 0 on every frame with a valid entry (other frames
    are not read). Without it ``beta`` acts on the raw units of ``x`` per second.

    Returns the filtered array, shape of ``x``: the dtype of ``x`` when it is floating point (computed in
    float64), float64 for integer or boolean input. Raises :class:`~common.errors.InputError` for
    ``fps``, ``min_cutoff`` or ``d_cutoff`` <= 0, ``beta`` < 0, non-finite parameters, or a ``valid`` /
    ``scale`` of the wrong shape."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise InputError(f"one_euro: x must be a real numeric array, got dtype {x.dtype}")
    if x.ndim < 1:
        raise InputError("one_euro: x must have a time axis, shape (T, ...), got a scalar")
    fps = _positive("fps", fps)
    min_cutoff = _positive("min_cutoff", min_cutoff)
    d_cutoff = _positive("d_cutoff", d_cutoff)
    beta = _positive("beta", beta, allow_zero=True)
    out_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    xf = x.astype(np.float64)
    T = xf.shape[0]
    ok = _valid_mask(valid, xf) & np.isfinite(xf)

    if scale is not None:
        s = np.asarray(scale, dtype=np.float64) if np.asarray(scale).dtype.kind in "biuf" else None
        if s is None or s.shape != (T,):
            raise InputError(f"one_euro: scale must be a (T,) = ({T},) numeric array, got shape "
                             f"{np.shape(scale)}")
        used = ok.reshape(T, -1).any(axis=1)
        bad = used & ~(np.isfinite(s) & (s > 0))
        if bad.any():
            raise InputError(f"one_euro: scale must be finite and > 0 on frames with valid samples, "
                             f"got {s[bad][0]!r} at frame {int(np.flatnonzero(bad)[0])}")
    else:
        s = None

    out = xf.copy()                          # invalid entries stay as the input
    if T == 0:
        return out.astype(out_dtype)
    a_d = _alpha(d_cutoff, fps)
    x_hat = np.zeros(xf.shape[1:])           # filtered value
    dx_hat = np.zeros(xf.shape[1:])          # filtered speed
    x_prev = np.zeros(xf.shape[1:])          # previous raw sample
    alive = np.zeros(xf.shape[1:], bool)     # the entry's previous sample was valid: the filter runs on
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for t in range(T):
            xt, v = xf[t], ok[t]
            run = v & alive
            dx = np.where(run, (xt - x_prev) * fps, 0.0)         # dX_i; 0 on a (re)start
            dx_new = np.where(run, dx_hat + a_d * (dx - dx_hat), 0.0)
            speed = np.abs(dx_new) if s is None else np.abs(dx_new) / s[t]
            a = _alpha(min_cutoff + beta * speed, fps)
            x_new = np.where(run, x_hat + a * (xt - x_hat), xt)  # a (re)start returns the sample
            x_hat = np.where(v, x_new, x_hat)
            dx_hat = np.where(v, dx_new, dx_hat)
            x_prev = np.where(v, xt, x_prev)
            alive = v
            out[t] = np.where(v, x_new, xt)
    return out.astype(out_dtype, copy=False)
