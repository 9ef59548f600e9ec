"""``enhanced_spmf`` encoder: the Enhanced Skeleton Posture-Motion Feature image of Pham et al., "Spatio-Temporal
Image Representation of 3D Skeletal Movements for View-Invariant Action Recognition with Deep Convolutional
Neural Networks" (Sensors 19(8):1932, 2019), the action input of Pham et al., "A Unified Deep Framework for
Joint 3D Pose Estimation and Action Recognition from a Single RGB Camera" (Sensors 20(7):1825, 2020).

A clip of T poses becomes one RGB image. Each frame gives a pose feature (PF) and each pair of consecutive
frames a motion feature (MF). Both are built from joint-joint distances (JJD, colour-coded with a colour map)
and joint-joint orientations (JJO, a direction whose components are used as R, G, B). Each feature vector is
one image column, and the columns are placed in time order PF1, MF1->2, PF2, ..., MF(T-1)->T, PF_T. An
adaptive histogram equalisation step then enhances local contrast ("Enhanced"-SPMF), and the result is
resized to the classifier's input size.

We could not read the paper body, so the following choices are ours. Each one is listed here; the options
named in brackets are the keys of :attr:`EnhancedSPMF.defaults`.

* Pair set: every unordered joint pair j < k, in the dataset's own joint order (``np.triu_indices``), so
  there are P = J(J-1)/2 pairs (136 for h36m17). Joints are not reordered by body part.
* JJO: the unit direction u = (p_k - p_j) / ||p_k - p_j||, mapped to a colour by (u + 1) / 2 * 255 with
  x, y, z -> R, G, B. The mapping does not depend on the dataset. A zero-length pair (two joints at the same
  place) gives u = 0, i.e. mid grey (128, 128, 128), never NaN.
* 2D input (pixels): treated as 3D with z = 0. JJD is then the pixel distance, and JJO is the 2D unit
  direction in R, G (image y points down) with B fixed at 128.
* JJD normalisation [``jjd_max``]: distances are divided by a scale and clipped to [0, 1]. By default
  (``None``) the scale is the largest pose (PF) JJD in the clip over pairs that pass the confidence test, so
  the image does not change when the subject is larger, smaller, nearer or farther away. A motion distance
  can exceed this scale and is then clipped. Setting a number (in the coordinate unit, e.g. a training-set
  maximum) gives a fixed scale instead, which keeps absolute size.
* Colour map: OpenCV ``COLORMAP_JET`` on round(255 * JJD / scale). OpenCV's BGR output is converted to RGB,
  so short distances are dark blue and long ones dark red. The 256-entry table is built once from
  ``cv2.applyColorMap`` and then indexed.
* Motion pairing: the motion feature from t to t+1 uses the SAME pairs j < k, with joint j taken at t and
  joint k at t+1. So MF JJD = ||p_k(t+1) - p_j(t)|| and MF JJO = (p_k(t+1) - p_j(t)) / JJD. PF and MF
  columns therefore have the same height. Pure per-joint displacement (j = k) is not included.
* Column layout: a column is [JJD colours of the P pairs ; JJO colours of the P pairs] stacked vertically,
  giving height 2P. Columns are interleaved PF1, MF1->2, PF2, ..., PF_T, giving width 2T-1. T = 1 gives a
  single PF column.
* Confidence [``min_score``]: a pair is drawn black (0, 0, 0) in both its JJD and JJO rows when the lower
  score of its two joints is below ``min_score`` (0.5), or is 0. For an MF pair these are the scores of j at
  t and k at t+1. JET never produces black, and a unit JJO can never map to (0, 0, 0), so black means "not
  seen" and nothing else. Pairs that fail the test are also left out of the JJD scale.
* Channel order: RGB in both ``raw_image`` (H, W, 3) and ``encode`` (3, size, size).
* Enhancement [``clahe``, ``clahe_space``, ``clahe_clip``, ``clahe_tiles``]: OpenCV CLAHE with clip limit
  2.0 and an 8 x 8 tile grid, applied to the lightness channel only. By default this is L of CIE Lab
  (``"lab"``), because JET's lightness varies along the map while HSV's V is nearly constant across it;
  ``"hsv"`` (V of HSV) is the alternative. The number of tiles in each direction is capped at that image
  dimension. CLAHE runs at native resolution (2P x (2T-1)), before resizing. ``clahe: false`` turns
  enhancement off for ablations.
* Resize [``size``]: ``cv2.resize`` to ``size`` x ``size`` (32, as in the authors' DenseNet code) with
  ``INTER_AREA``.
* Output scaling: the uint8 image is divided by 127.5 and then 1 is subtracted, giving float32 in [-1, 1].
* Input checks: non-finite coordinates or scores, wrong shapes, J < 2, T < 1 or D not in {2, 3} raise
  :class:`common.errors.InputError`. Scores are clipped to [0, 1].

The computation is fully vectorised: numpy over all frames and pairs at once, with no Python loop over
either. Encoding a 32-frame, 17-joint clip takes about 1.5 ms on one CPU core (CLAHE and colour
conversions are about a third of that).
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from common.errors import InputError
from common.registry import register, with_defaults


@lru_cache(maxsize=None)
def _jet_rgb() -> np.ndarray:
    """(256, 3) uint8 RGB table of OpenCV's JET colour map."""
    bgr = cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(256, 1), cv2.COLORMAP_JET)
    return np.ascontiguousarray(bgr.reshape(256, 3)[:, ::-1])


@lru_cache(maxsize=None)
def _pairs(n_joints: int):
    j, k = np.triu_indices(n_joints, k=1)
    return j, k


@register("encoder", "enhanced_spmf")
class EnhancedSPMF:
    defaults = {
        "size": 32,            # output image is size x size
        "clahe": True,         # apply the enhancement (False: plain SPMF, for ablations)
        "clahe_space": "lab",  # "lab" (L of Lab) or "hsv" (V of HSV)
        "clahe_clip": 2.0,     # CLAHE clip limit
        "clahe_tiles": 8,      # CLAHE tile grid (tiles x tiles, capped at the image size)
        "min_score": 0.5,      # pairs whose lower joint score is below this are drawn black
        "jjd_max": None,       # None: per-clip max pose JJD; a number: fixed JJD scale (coordinate units)
    }

    def __init__(self, cfg=None):
        cfg = with_defaults("enhanced_spmf encoder", cfg, self.defaults)
        try:
            self.size = int(cfg["size"])
            self.clahe = bool(cfg["clahe"])
            self.clahe_space = str(cfg["clahe_space"]).lower()
            self.clahe_clip = float(cfg["clahe_clip"])
            self.clahe_tiles = int(cfg["clahe_tiles"])
            self.min_score = float(cfg["min_score"])
            self.jjd_max = None if cfg["jjd_max"] is None else float(cfg["jjd_max"])
        except (TypeError, ValueError) as e:
            raise InputError(f"enhanced_spmf encoder: bad option value ({e})") from None
        if self.size < 1:
            raise InputError(f"enhanced_spmf encoder: size must be >= 1, got {self.size}")
        if self.clahe_space not in ("lab", "hsv"):
            raise InputError(f"enhanced_spmf encoder: clahe_space must be 'lab' or 'hsv', got {self.clahe_space!r}")
        if not self.clahe_clip > 0 or self.clahe_tiles < 1:
            raise InputError("enhanced_spmf encoder: clahe_clip must be > 0 and clahe_tiles >= 1")
        if self.jjd_max is not None and not (np.isfinite(self.jjd_max) and self.jjd_max > 0):
            raise InputError(f"enhanced_spmf encoder: jjd_max must be a positive number or null, got {self.jjd_max}")
        self._clahe_cache = {}

    @staticmethod
    def channels(coord_dim: int) -> int:
        return 3

    # ------------------------------------------------------------------ building blocks
    @staticmethod
    def _check(coords, scores):
        try:
            coords = np.asarray(coords, dtype=np.float64)
            scores = np.asarray(scores, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InputError(f"enhanced_spmf encoder: coordinates/scores are not numeric ({e})") from None
        if coords.ndim != 3 or coords.shape[-1] not in (2, 3) or coords.shape[0] < 1 or coords.shape[1] < 2:
            raise InputError(f"enhanced_spmf encoder: coordinates must be (T>=1, J>=2, 2|3), got {coords.shape}")
        if scores.shape != coords.shape[:2]:
            raise InputError(f"enhanced_spmf encoder: scores must be {coords.shape[:2]}, got {scores.shape}")
        if not np.isfinite(coords).all():
            raise InputError("enhanced_spmf encoder: coordinates contain NaN or infinite values")
        if not np.isfinite(scores).all():
            raise InputError("enhanced_spmf encoder: scores contain NaN or infinite values")
        if coords.shape[-1] == 2:  # 2D: z = 0 (JJO blue channel fixed at mid grey)
            coords = np.concatenate([coords, np.zeros(coords.shape[:2] + (1,))], axis=-1)
        return coords, np.clip(scores, 0.0, 1.0)

    def raw_image(self, coords, scores) -> np.ndarray:
        """The un-enhanced, un-resized uint8 (2P, 2T-1, 3) RGB SPMF (columns PF1, MF1->2, PF2, ..., PF_T)."""
        x, s = self._check(coords, scores)
        T, J, _ = x.shape
        j, k = _pairs(J)
        P, n_col = len(j), 2 * T - 1
        xt = np.ascontiguousarray(x.transpose(1, 0, 2))  # (J, T, 3): pair gathers copy whole rows
        st = np.ascontiguousarray(s.T)                    # (J, T)
        # vectors p_k - p_j per (pair, column): even columns PF(t), odd columns MF(t->t+1) = p_k(t+1) - p_j(t)
        vec = np.empty((P, n_col, 3))
        vec[:, 0::2] = xt[k] - xt[j]
        vec[:, 1::2] = xt[k, 1:] - xt[j, :-1]
        conf = np.empty((P, n_col))
        conf[:, 0::2] = np.minimum(st[j], st[k])
        conf[:, 1::2] = np.minimum(st[j, :-1], st[k, 1:])
        valid = (conf >= self.min_score) & (conf > 0)

        dist = np.sqrt(np.einsum("pcd,pcd->pc", vec, vec))
        if self.jjd_max is not None:
            scale = self.jjd_max
        else:
            scale = float(np.max(dist[:, 0::2], where=valid[:, 0::2], initial=0.0))
        level = np.rint(np.clip(dist * (255.0 / scale), 0.0, 255.0)) if scale > 0 else np.zeros_like(dist)

        img = np.empty((2 * P, n_col, 3), np.uint8)
        img[:P] = _jet_rgb()[level.astype(np.intp)]                   # JJD rows: JET colour, RGB
        unit = vec * (127.5 / np.maximum(dist, 1e-12))[..., None]      # zero length -> 0 -> mid grey
        unit += 127.5
        img[P:] = np.rint(np.clip(unit, 0.0, 255.0))                   # JJO rows: (u + 1) / 2 * 255
        invalid = ~valid
        img[:P][invalid] = 0                                           # unseen pairs -> black
        img[P:][invalid] = 0
        return img

    def enhance(self, rgb: np.ndarray) -> np.ndarray:
        """CLAHE on the lightness channel of a uint8 (H, W, 3) RGB image (no-op when ``clahe`` is off)."""
        if not self.clahe:
            return rgb
        h, w = rgb.shape[:2]
        tiles = (min(self.clahe_tiles, w), min(self.clahe_tiles, h))  # OpenCV: (columns, rows)
        op = self._clahe_cache.get(tiles)
        if op is None:
            op = self._clahe_cache[tiles] = cv2.createCLAHE(clipLimit=self.clahe_clip, tileGridSize=tiles)
        if self.clahe_space == "lab":
            to, back, ch = cv2.COLOR_RGB2LAB, cv2.COLOR_LAB2RGB, 0
        else:
            to, back, ch = cv2.COLOR_RGB2HSV, cv2.COLOR_HSV2RGB, 2
        conv = cv2.cvtColor(np.ascontiguousarray(rgb), to)
        conv[..., ch] = op.apply(np.ascontiguousarray(conv[..., ch]))
        return cv2.cvtColor(conv, back)

    def encode(self, coords: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """(T, J, D) coordinates (D = 2 pixels or 3 metres) and (T, J) scores -> (3, size, size) float32 in [-1, 1]."""
        img = self.enhance(self.raw_image(coords, scores))
        img = cv2.resize(img, (self.size, self.size), interpolation=cv2.INTER_AREA)
        out = img.astype(np.float32) / 127.5 - 1.0
        return np.ascontiguousarray(out.transpose(2, 0, 1))
