"""Rendering the synthetic world: a textured room, and a person drawn from shaded capsules, far to near.

The person is 17 primitives (torso hull, hip band, neck, head, hair, upper arms, forearms, hands, thighs,
shins, feet). Each is drawn with OpenCV in painter's order (farthest first, by mean camera depth) as a dark
outline, a Lambert-shaded fill and a lighter strip on the side facing the light. The same painter's order,
drawn into an id buffer, decides joint visibility: a joint is visible when it is inside the image and the
primitive drawn last at its pixel is one of its own parts (or none).

The background is ray-cast once per sequence: a floor at ``z = 0`` (tiles, planks, carpet or concrete) inside
a round room whose wall (plain, stripes, bricks or plaster, with posters) stands a few metres behind the
camera's reach, lit by the same light as the person, with a soft shadow under the person.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

from ..camera import Camera
from .body import N_JOINTS, Body, J

SHIFT = 4                      # sub-pixel bits for OpenCV drawing
_S = float(1 << SHIFT)

#: (name, kind, (joint a, joint b), colour slot, own joints); kinds: cap (capsule), ball, hull (torso)
PARTS = [
    ("torso", "hull", None, "top", ("pelvis", "spine", "thorax", "r_hip", "l_hip", "r_shoulder", "l_shoulder")),
    ("hips", "cap", ("r_hip", "l_hip"), "bottom", ("pelvis", "r_hip", "l_hip")),
    ("neck", "cap", ("thorax", "neck"), "skin", ("thorax", "neck")),
    ("head", "ball", None, "skin", ("neck", "head")),
    ("hair", "ball", None, "hair", ("neck", "head")),
    ("r_eye", "ball", None, "eyes", ("neck", "head")),
    ("l_eye", "ball", None, "eyes", ("neck", "head")),
]
for _s in "rl":
    PARTS += [
        (f"{_s}_upper_arm", "cap", (f"{_s}_shoulder", f"{_s}_elbow"), "top", (f"{_s}_shoulder", f"{_s}_elbow")),
        (f"{_s}_forearm", "cap", (f"{_s}_elbow", f"{_s}_wrist"), "sleeve", (f"{_s}_elbow", f"{_s}_wrist")),
        (f"{_s}_hand", "ball", None, "skin", (f"{_s}_wrist",)),
        (f"{_s}_thigh", "cap", (f"{_s}_hip", f"{_s}_knee"), "bottom", (f"{_s}_hip", f"{_s}_knee", "pelvis")),
        (f"{_s}_shin", "cap", (f"{_s}_knee", f"{_s}_ankle"), "leg", (f"{_s}_knee", f"{_s}_ankle")),
        (f"{_s}_foot", "cap", None, "shoes", (f"{_s}_ankle",)),
    ]
N_PARTS = len(PARTS)
#: OWN[k + 1, j]: primitive k belongs to joint j; row 0 (no primitive) counts as visible
OWN = np.zeros((N_PARTS + 1, N_JOINTS), dtype=bool)
OWN[0] = True
for _k, _p in enumerate(PARTS):
    for _n in _p[4]:
        OWN[_k + 1, J[_n]] = True
#: depth bias (metres) added before sorting, so limbs beside the torso are drawn over it
_BIAS = np.array([0.06 if p[0] == "torso" else 0.03 if p[0] == "hips" else 0.0 for p in PARTS])


# ------------------------------------------------------------------------------------------ appearance
@dataclass(frozen=True)
class Appearance:
    """Clothing and skin colours (RGB 0-255) of a subject; ``sleeve``/``leg`` are the forearm and shin colours
    (the top/bottom colour for long sleeves/trousers, else the skin)."""

    top: tuple
    bottom: tuple
    skin: tuple
    hair: tuple
    shoes: tuple
    sleeve: tuple
    leg: tuple
    hair_size: float
    eyes: tuple = (35.0, 28.0, 25.0)


def _hsv(h, s, v):
    return tuple(255.0 * c for c in colorsys.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1))))


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Random clothes: any top colour; trousers mostly denim, dark, grey or khaki; skin tones from light to
    dark; black, brown, blond, red or grey hair; short or long sleeves and trousers."""
    top = _hsv(rng.uniform(), rng.uniform(0.15, 0.9), rng.uniform(0.25, 0.95))
    kind = rng.integers(5)
    bottom = [_hsv(0.6, rng.uniform(0.4, 0.7), rng.uniform(0.3, 0.6)), _hsv(0, 0, rng.uniform(0.1, 0.25)),
              _hsv(0, 0, rng.uniform(0.4, 0.7)), _hsv(0.1, rng.uniform(0.3, 0.5), rng.uniform(0.5, 0.75)),
              _hsv(rng.uniform(), rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8))][kind]
    tone = rng.uniform()
    skin = _hsv(0.05 + 0.03 * rng.uniform(), 0.25 + 0.35 * tone, 0.95 - 0.6 * tone)
    hair = [_hsv(0, 0, 0.08), _hsv(0.07, 0.6, 0.3), _hsv(0.12, 0.5, 0.8), _hsv(0.03, 0.7, 0.5),
            _hsv(0, 0, 0.7)][int(rng.choice(5, p=[0.35, 0.3, 0.15, 0.08, 0.12]))]
    shoes = _hsv(rng.uniform(), rng.uniform(0, 0.4), [0.1, 0.9, rng.uniform(0.2, 0.6)][int(rng.integers(3))])
    sleeve = top if rng.uniform() < 0.5 else skin
    leg = bottom if rng.uniform() < 0.75 else skin
    return Appearance(top, bottom, skin, hair, shoes, sleeve, leg, float(rng.uniform(0.9, 1.05)))


@dataclass(frozen=True)
class Lighting:
    """``direction``: unit world vector towards the light; ``tint``: RGB gain of the whole scene."""

    ambient: float
    diffuse: float
    direction: np.ndarray
    tint: np.ndarray


def sample_lighting(rng: np.random.Generator) -> Lighting:
    az, el = rng.uniform(-np.pi, np.pi), np.deg2rad(rng.uniform(25, 75))
    d = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    tint = rng.uniform(0.85, 1.15, size=3)
    return Lighting(float(rng.uniform(0.35, 0.6)), float(rng.uniform(0.4, 0.75)), d, tint / tint.mean())


# ------------------------------------------------------------------------------------------ primitives
@dataclass
class Primitives:
    """Per frame and part, in pixels: endpoints ``a``, ``b`` (T, P, 2) (equal for balls), radius ``r`` (T, P),
    sort depth (T, P), fill / highlight / outline colours (T, P, 3), highlight offset (T, P, 2), and the torso
    outline points ``hull`` (T, K, 2)."""

    a: np.ndarray
    b: np.ndarray
    r: np.ndarray
    depth: np.ndarray
    fill: np.ndarray
    hi: np.ndarray
    line: np.ndarray
    hi_off: np.ndarray
    hull: np.ndarray
    size: tuple


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def body_primitives(body: Body, app: Appearance, X: np.ndarray, G: np.ndarray, camera: Camera,
                    light: Lighting) -> Primitives:
    """Project the body parts of world joints ``X`` (T, 17, 3) with frames ``G`` (T, 17, 3, 3)."""
    T = X.shape[0]
    R, rad = body.radii, np.zeros(N_PARTS)
    A = np.zeros((T, N_PARTS, 3))
    B = np.zeros((T, N_PARTS, 3))
    up = np.array([0.0, 0.0, 1.0])
    fwd_head = G[:, J["neck"], :, 0]
    head_axis = _unit(X[:, J["head"]] - X[:, J["neck"]])
    head_c = 0.55 * X[:, J["neck"]] + 0.45 * X[:, J["head"]] - 0.015 * fwd_head
    for k, (name, kind, ends, _, _) in enumerate(PARTS):
        if ends is not None:
            A[:, k], B[:, k] = X[:, J[ends[0]]], X[:, J[ends[1]]]
        side = name[:2]
        if name == "hips":
            rad[k] = R["hip"]
        elif name == "neck":
            B[:, k] = 0.5 * (X[:, J["thorax"]] + X[:, J["neck"]]) + 0.02 * head_axis
            rad[k] = R["neck"]
        elif name == "head":
            A[:, k] = B[:, k] = head_c
            rad[k] = R["head"]
        elif name == "hair":
            A[:, k] = B[:, k] = head_c + R["head"] * (0.14 * head_axis - 0.22 * fwd_head)
            rad[k] = R["head"] * app.hair_size
        elif name.endswith("eye"):
            lat = G[:, J["neck"], :, 1] * (1.0 if side == "l_" else -1.0)
            A[:, k] = B[:, k] = head_c + R["head"] * (0.8 * fwd_head + 0.12 * head_axis + 0.36 * lat)
            rad[k] = 0.08 * R["head"]
        elif name.endswith("hand"):
            w, e = X[:, J[side + "wrist"]], X[:, J[side + "elbow"]]
            A[:, k] = B[:, k] = w + 0.05 * (body.height / 1.7) * _unit(w - e)
            rad[k] = R["hand"]
        elif name.endswith("foot"):
            ank = X[:, J[side + "ankle"]]
            f = G[:, J[side + "hip"], :, 0] * np.array([1.0, 1.0, 0.0])
            A[:, k] = ank
            B[:, k] = ank + body.foot_length * _unit(f) - (body.ankle_height - R["foot"]) * up
            rad[k] = R["foot"]
        elif kind == "cap":
            rad[k] = R[name[2:]]
    A, B = camera.world_to_camera(A), camera.world_to_camera(B)
    L = camera.R @ light.direction
    f = 0.5 * (camera.fx + camera.fy)
    mid = 0.5 * (A + B)
    z = np.maximum(mid[..., 2], 0.05)
    r_px = f * rad / z
    is_eye = np.array([p[0].endswith("eye") for p in PARTS])
    facing = -np.sum(fwd_head @ camera.R.T * _unit(mid[:, is_eye].mean(1)), -1)   # > 0: the face looks at us
    r_px[:, is_eye] *= (facing > 0.25)[:, None]                                    # eyes only on the face

    # the torso: convex outline of points around the shoulders, waist and hips
    G_ch, G_pe = G[:, J["thorax"]], G[:, 0]
    pts = []
    cd, hd = R["chest_depth"], R["hip_depth"]
    for s, sgn in (("r", -1.0), ("l", 1.0)):
        sh, hp = X[:, J[s + "_shoulder"]], X[:, J[s + "_hip"]]
        for fb in (-1.0, 1.0):
            pts.append(sh + fb * 0.8 * cd * G_ch[..., 0] + 0.3 * R["upper_arm"] * sgn * G_ch[..., 1]
                       + 0.02 * G_ch[..., 2])
            pts.append(hp + fb * hd * G_pe[..., 0] + 0.45 * R["hip"] * sgn * G_pe[..., 1])
            waist = 0.5 * (sh + hp) + 0.1 * (hp - sh)
            pts.append(waist + fb * cd * G_ch[..., 0] + 0.25 * R["upper_arm"] * sgn * G_ch[..., 1])
    hull3 = camera.world_to_camera(np.stack(pts, axis=1))
    hull = camera.project(hull3)
    A[:, 0] = camera.world_to_camera(X[:, J["pelvis"]])      # the torso's axis, for shading (part 0)
    B[:, 0] = camera.world_to_camera(X[:, J["thorax"]])
    z[:, 0] = hull3[..., 2].mean(axis=1)
    r_px[:, 0] = f * np.linalg.norm(X[:, J["l_shoulder"]] - X[:, J["r_shoulder"]], axis=-1) / 2 / z[:, 0]

    # Lambert shading of cylinders (caps, torso) and spheres (balls)
    view = _unit(-0.5 * (A + B))
    axis = B - A
    is_ball = np.array([p[1] == "ball" for p in PARTS])
    axis[:, is_ball] = view[:, is_ball]                       # a sphere's visible normal faces the camera
    axis = _unit(axis)
    n_view = _unit(view - np.sum(view * axis, -1, keepdims=True) * axis)
    n_view[:, is_ball] = view[:, is_ball]
    l_perp = L - np.sum(L * axis, -1, keepdims=True) * axis
    l_perp[:, is_ball] = L
    b_fill = light.ambient + 0.55 * light.diffuse * np.clip(np.sum(n_view * L, -1), 0, 1)
    b_hi = light.ambient + light.diffuse * np.linalg.norm(l_perp, axis=-1)
    lit_visible = np.sum(_unit(l_perp) * view, -1) > -0.2
    b_hi = np.where(lit_visible, np.maximum(b_hi, b_fill), b_fill)
    off = _unit(l_perp)[..., :2] * np.sqrt(np.clip(1 - np.sum(_unit(l_perp) * view, -1) ** 2, 0, 1))[..., None]
    hi_off = off * 0.4 * r_px[..., None]

    base = np.array([getattr(app, p[3]) for p in PARTS])      # (P, 3)
    tint = light.tint
    fill = np.clip(base * b_fill[..., None] * tint, 0, 255)
    hi = np.clip(base * np.minimum(b_hi, 1.1)[..., None] * tint + 10, 0, 255)
    line = np.broadcast_to(np.clip(base * 0.25, 0, 255), fill.shape)

    a2, b2 = camera.project(A), camera.project(B)
    return Primitives(a2, b2, r_px, z + _BIAS, fill, hi, line, hi_off, hull, (camera.width, camera.height))


# ------------------------------------------------------------------------------------------- drawing
def _ipt(p):
    return int(round(p[0] * _S)), int(round(p[1] * _S))


def draw_frame(pr: Primitives, t: int, img: np.ndarray | None = None, ids: np.ndarray | None = None) -> None:
    """Draw frame ``t`` far to near into the RGB ``img`` and/or the primitive-id buffer ``ids`` (uint8)."""
    order = np.argsort(-pr.depth[t], kind="stable")
    a, b, r = pr.a[t].tolist(), pr.b[t].tolist(), pr.r[t].tolist()
    fill, hi, line, off = pr.fill[t].tolist(), pr.hi[t].tolist(), pr.line[t].tolist(), pr.hi_off[t].tolist()
    aa = cv2.LINE_AA
    for k in order.tolist():
        kind = PARTS[k][1]
        if r[k] <= 0:
            continue
        rk = max(r[k], 0.5)
        if kind == "hull":
            h = cv2.convexHull(pr.hull[t].astype(np.float32))[:, 0]
            poly = np.round(h * _S).astype(np.int32)
            if img is not None:
                cv2.polylines(img, [poly], True, line[k], 2, aa, SHIFT)
                cv2.fillConvexPoly(img, poly, fill[k], aa, SHIFT)
                c = h.mean(axis=0)
                hp = np.round((c + 0.6 * (h - c) + 0.6 * np.array(off[k])) * _S).astype(np.int32)
                cv2.fillConvexPoly(img, hp, hi[k], aa, SHIFT)
            if ids is not None:
                cv2.fillConvexPoly(ids, poly, k + 1, cv2.LINE_8, SHIFT)
            continue
        pa, pb = _ipt(a[k]), _ipt(b[k])
        if kind == "ball":
            rr = int(round(rk * _S))
            if img is not None:
                cv2.circle(img, pa, rr + int(_S), line[k], -1, aa, SHIFT)
                cv2.circle(img, pa, rr, fill[k], -1, aa, SHIFT)
                if rk > 2.5:
                    ph = _ipt((a[k][0] + 0.8 * off[k][0], a[k][1] + 0.8 * off[k][1]))
                    cv2.circle(img, ph, int(rr * 0.55), hi[k], -1, aa, SHIFT)
            if ids is not None:
                cv2.circle(ids, pa, rr, k + 1, -1, cv2.LINE_8, SHIFT)
        else:
            th = max(int(round(2 * rk)), 1)
            if img is not None:
                cv2.line(img, pa, pb, line[k], th + 2, aa, SHIFT)
                cv2.line(img, pa, pb, fill[k], th, aa, SHIFT)
                if rk > 1.5:
                    d = (int(round(off[k][0] * _S)), int(round(off[k][1] * _S)))
                    cv2.line(img, (pa[0] + d[0], pa[1] + d[1]), (pb[0] + d[0], pb[1] + d[1]), hi[k],
                             max(int(round(0.9 * rk)), 1), aa, SHIFT)
            if ids is not None:
                cv2.line(ids, pa, pb, k + 1, th, cv2.LINE_8, SHIFT)


def visibility_from_ids(ids: np.ndarray, joints2d: np.ndarray) -> np.ndarray:
    """(17,) visibility of one frame's joints from its id buffer."""
    h, w = ids.shape
    uv = np.floor(joints2d).astype(np.int64)
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
    u, v = np.clip(uv[:, 0], 0, w - 1), np.clip(uv[:, 1], 0, h - 1)
    return inside & OWN[ids[v, u], np.arange(N_JOINTS)]


def draw_shadow(img: np.ndarray, floor_pts: np.ndarray, strength: float) -> None:
    """Darken a soft blob inside the projected floor polygon ``floor_pts`` (K, 2) pixels."""
    h, w = img.shape[:2]
    x0, y0 = np.floor(floor_pts.min(0)).astype(int) - 3
    x1, y1 = np.ceil(floor_pts.max(0)).astype(int) + 3
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, np.round((floor_pts - (x0, y0)) * _S).astype(np.int32), 255, cv2.LINE_AA, SHIFT)
    mask = cv2.blur(mask, (5, 5))
    roi = img[y0:y1, x0:x1]
    roi[:] = (roi * (1.0 - strength / 255.0 * mask[..., None])).astype(np.uint8)


def render_frames(pr: Primitives, background: np.ndarray, shadows: np.ndarray | None = None,
                  shadow_strength: float = 0.4):
    """RGB frames (T, H, W, 3) uint8: the background, the person's shadow (``shadows`` (T, K, 2) floor
    polygons in pixels), the person."""
    T = pr.depth.shape[0]
    out = np.empty((T,) + background.shape, np.uint8)
    for t in range(T):
        img = out[t]
        img[:] = background
        if shadows is not None:
            draw_shadow(img, shadows[t], shadow_strength)
        draw_frame(pr, t, img)
    return out


def visibility(pr: Primitives, joints2d: np.ndarray) -> np.ndarray:
    """(T, 17) joint visibility from painter's-order id buffers (see the module docstring)."""
    w, h = pr.size
    T = joints2d.shape[0]
    vis = np.zeros((T, N_JOINTS), bool)
    ids = np.zeros((h, w), np.uint8)
    for t in range(T):
        ids[:] = 0
        draw_frame(pr, t, ids=ids)
        vis[t] = visibility_from_ids(ids, joints2d[t])
    return vis


def shadow_polygons(X: np.ndarray, body: Body, camera: Camera, n: int = 12) -> np.ndarray:
    """(T, n, 2) pixels: an ellipse on the floor under the body (between the feet and below the pelvis)."""
    c = 0.5 * X[:, 0, :2] + 0.25 * (X[:, J["r_ankle"], :2] + X[:, J["l_ankle"], :2])
    spread = np.linalg.norm(X[:, J["r_ankle"], :2] - X[:, J["l_ankle"], :2], axis=-1)
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rx = 0.22 * body.height / 1.7 + 0.5 * spread
    ry = 0.16 * body.height / 1.7
    d = _unit(X[:, J["l_ankle"], :2] - X[:, J["r_ankle"], :2] + np.array([1e-6, 0.0]))
    e = np.stack([-d[:, 1], d[:, 0]], -1)
    P = c[:, None] + rx[:, None, None] * np.cos(ang)[None, :, None] * d[:, None] \
        + ry * np.sin(ang)[None, :, None] * e[:, None]
    P3 = np.concatenate([P, np.zeros(P.shape[:2] + (1,))], -1)
    return camera.project_world(P3)


# ------------------------------------------------------------------------------------------ background
def _noise(rng, n=64):
    """A random wrap-around texture in [0, 1] (n x n, float32) for :func:`_sample`."""
    g = rng.uniform(0, 1, size=(n // 8, n // 8)).astype(np.float32)
    g = cv2.resize(np.tile(g, (3, 3)), (3 * n, 3 * n), interpolation=cv2.INTER_CUBIC)[n:2 * n, n:2 * n]
    fine = rng.uniform(0, 1, size=(n, n)).astype(np.float32)
    return np.clip(0.75 * g + 0.25 * cv2.GaussianBlur(fine, (3, 3), 0.8), 0, 1)


_GRAIN = {}


def _grain(rng, h, w):
    """Unit Gaussian sensor noise (h, w, 3): a random window of a fixed, wrap-around noise tile (cheap)."""
    n = 2 * max(h, w, 256)
    if n not in _GRAIN:
        _GRAIN[n] = np.random.default_rng(12345).standard_normal((n, n, 3), dtype=np.float32)
    y0, x0 = (int(i) for i in rng.integers(0, n // 2, size=2))
    return _GRAIN[n][y0:y0 + h, x0:x0 + w]


def _sample(tex, u, v):
    """Bilinear, wrap-around lookup of ``tex`` at texel coordinates ``u``, ``v`` (float arrays of one shape)."""
    n = tex.shape[0]
    return cv2.remap(tex, np.mod(u, n, dtype=np.float32), np.mod(v, n, dtype=np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_WRAP)


def _rgb(*hsv):
    return np.array(_hsv(*hsv), np.float32)


def _floor_tex(rng, x, y):
    kind = int(rng.integers(4))
    c1 = _rgb(rng.uniform(0.0, 0.15) if rng.uniform() < 0.6 else rng.uniform(),
                       rng.uniform(0.05, 0.5), rng.uniform(0.3, 0.85))
    nz = _noise(rng)
    n1 = _sample(nz, x * 40, y * 40)
    ang = rng.uniform(0, np.pi)
    u, v = x * np.cos(ang) + y * np.sin(ang), -x * np.sin(ang) + y * np.cos(ang)
    if kind == 0:                                             # tiles with grout
        s = rng.uniform(0.3, 1.0)
        c2 = c1 * np.float32(rng.uniform(0.6, 0.9))
        chk = ((np.floor(u / s) + np.floor(v / s)) % 2)[..., None]
        col = c1 * (1 - chk) + c2 * chk
        gu, gv = np.abs((u / s) % 1 - 0.5), np.abs((v / s) % 1 - 0.5)
        grout = (np.maximum(gu, gv) > 0.48)[..., None]
        col = np.where(grout, c1 * np.float32(0.45), col) * (0.92 + 0.16 * n1[..., None])
    elif kind == 1:                                           # wooden planks
        w = rng.uniform(0.1, 0.25)
        idx = np.floor(v / w)
        shade = 0.8 + 0.35 * ((np.sin(idx * 12.9898 + rng.uniform(0, 6)) * 43758.5453) % 1)
        grain = _sample(nz, u * 8, v * 90)
        col = c1 * shade[..., None] * (0.85 + 0.3 * grain[..., None])
        col = np.where((np.abs((v / w) % 1 - 0.5) > 0.47)[..., None], col * 0.5, col)
    elif kind == 2:                                           # carpet
        coarse = _sample(nz, x * 6, y * 6)
        col = c1 * (0.7 + 0.35 * coarse[..., None] + 0.15 * n1[..., None])
    else:                                                     # concrete
        coarse = _sample(nz, x * 3 + 17, y * 3 + 5)
        col = np.full(x.shape + (3,), c1.mean(), np.float32) * (0.75 + 0.3 * coarse[..., None] + 0.12 * n1[..., None])
    return col


def _wall_tex(rng, s, z, height):
    kind = int(rng.integers(4))
    c1 = _rgb(rng.uniform(), rng.uniform(0.0, 0.45), rng.uniform(0.45, 0.95))
    nz = _noise(rng)
    n1 = _sample(nz, s * 30, z * 30)
    if kind == 0:                                             # plain paint, vertical gradient
        col = c1 * (1.0 - 0.15 * z / height)[..., None] * (0.95 + 0.08 * n1[..., None])
    elif kind == 1:                                           # striped wallpaper
        w = rng.uniform(0.05, 0.4)
        c2 = _rgb(rng.uniform(), rng.uniform(0.1, 0.6), rng.uniform(0.3, 0.9))
        st = (((s / w) % 1) < rng.uniform(0.3, 0.7))[..., None]
        col = np.where(st, c1, c2) * (0.93 + 0.1 * n1[..., None])
    elif kind == 2:                                           # bricks
        bw, bh = rng.uniform(0.2, 0.3), rng.uniform(0.07, 0.1)
        row = np.floor(z / bh)
        u = s / bw + 0.5 * (row % 2)
        mortar = ((u % 1) < 0.06) | (((z / bh) % 1) < 0.12)
        shade = 0.85 + 0.3 * ((np.sin(np.floor(u) * 7.1 + row * 3.7) * 43758.5) % 1)
        col = np.where(mortar[..., None], np.full(3, c1.mean() * 200 / 255, np.float32), c1 * shade[..., None])
    else:                                                     # plaster
        col = c1 * (0.8 + 0.3 * _sample(nz, s * 4, z * 4)[..., None])
    for _ in range(int(rng.integers(0, 4))):                  # posters / windows / doors
        s0, z0 = rng.uniform(0, 2 * np.pi * 6), rng.uniform(0.6, 1.8)
        ws, hs = rng.uniform(0.3, 1.2), rng.uniform(0.3, 1.0)
        box = (np.abs((s - s0 + 20) % 40 - 20) < ws / 2) & (np.abs(z - z0) < hs / 2)
        col = np.where(box[..., None], _rgb(rng.uniform(), rng.uniform(0, 0.9), rng.uniform(0.1, 1)), col)
    col = np.where((z < 0.1)[..., None], col * np.float32(0.55), col)     # skirting board
    return col


def _undistort(camera: Camera, xd, yd, iters: int = 6):
    """Normalised image coordinates without the camera's distortion (fixed-point inversion of
    :meth:`Camera.project`'s model), so that the ray-cast room lines up with the distorted joints."""
    if not (np.any(camera.k) or np.any(camera.p)):
        return xd, yd
    (k1, k2, k3), (p1, p2) = (np.float32(v) for v in camera.k), (np.float32(v) for v in camera.p)
    x, y = xd, yd
    for _ in range(iters):
        r2 = x * x + y * y
        g = 1 + r2 * (k1 + r2 * (k2 + r2 * k3)) + p1 * y + p2 * x
        x, y = (xd - p2 * r2) / g, (yd - p1 * r2) / g
    return x, y


def render_background(camera: Camera, centre: np.ndarray, light: Lighting, rng: np.random.Generator,
                      room_radius: float) -> np.ndarray:
    """A ray-cast room seen by ``camera``: floor (z = 0), a round wall of ``room_radius`` around ``centre``
    (world xy), a ceiling above it; (H, W, 3) uint8 RGB."""
    w, h = camera.width, camera.height
    f32 = np.float32
    u, v = np.meshgrid(np.arange(w, dtype=f32) + 0.5, np.arange(h, dtype=f32) + 0.5)
    xn, yn = _undistort(camera, (u - f32(camera.cx)) / f32(camera.fx), (v - f32(camera.cy)) / f32(camera.fy))
    Rm = camera.R.astype(f32)
    dx, dy, dz = (xn * Rm[0, i] + yn * Rm[1, i] + Rm[2, i] for i in range(3))   # world ray directions
    C = camera.center.astype(f32)
    ox, oy = C[0] - f32(centre[0]), C[1] - f32(centre[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        s_floor = np.where(dz < -1e-9, -C[2] / dz, f32(np.inf))
    qa = np.maximum(dx * dx + dy * dy, f32(1e-12))
    qb = 2 * (dx * ox + dy * oy)
    qc = f32(ox * ox + oy * oy - room_radius ** 2)
    s_wall = (-qb + np.sqrt(np.maximum(qb * qb - 4 * qa * qc, 0))) / (2 * qa)
    floor = s_floor < s_wall
    s = np.where(floor, s_floor, s_wall)
    px, py, pz = C[0] + s * dx, C[1] + s * dy, C[2] + s * dz
    height = rng.uniform(2.6, 4.0)

    fcol = _floor_tex(rng, px, py)
    rx, ry = px - f32(centre[0]), py - f32(centre[1])
    arc = np.arctan2(ry, rx) * f32(room_radius)
    wcol = _wall_tex(rng, arc, pz, height)
    ceil = _rgb(0, 0, rng.uniform(0.6, 0.95))
    L = light.direction.astype(f32)
    lam_f = f32(light.ambient + light.diffuse * max(L[2], 0.0))
    dist = np.maximum(np.sqrt(rx * rx + ry * ry), f32(1e-6))
    lam_w = f32(light.ambient + 0.1) + f32(0.8 * light.diffuse) * np.clip(-(rx * L[0] + ry * L[1]) / dist, 0, 1)
    col = np.where(floor[..., None], fcol * lam_f, wcol * lam_w[..., None])
    col = np.where((~floor & (pz > height))[..., None], ceil * f32(light.ambient + 0.2), col)
    # light fall-off with distance from the person, a vignette, the scene tint and sensor noise
    fall = 1.05 - 0.25 * np.clip(dist / f32(2 * room_radius), 0, 1)
    r2 = ((u - w / 2) ** 2 + (v - h / 2) ** 2) / f32(0.5 * (w * w + h * h))
    col = col * (fall * (1 - f32(rng.uniform(0.1, 0.35)) * r2))[..., None] * light.tint.astype(f32)
    col = col + f32(rng.uniform(1, 4)) * _grain(rng, h, w)
    img = np.clip(col, 0, 255).astype(np.uint8)
    sigma = rng.uniform(0.3, 1.0)
    return cv2.GaussianBlur(img, (0, 0), sigma)
