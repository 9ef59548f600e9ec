"""Parametric actions of the synthetic world: joint angles as functions of time, then world joints.

Every action is a function of time ``t`` (seconds) and of per-sequence parameters drawn from the sequence's own
generator (:func:`sample_params`): ``speed`` (x0.8-1.25 on the action's tempo), ``amp`` (x0.75-1.25 on its
angles), ``phase`` (where in its cycle the clip starts), ``heading`` (where the body faces, all around),
``side`` (which arm or leg leads), plus a random static posture (arm carry, stance, slouch) and small smooth
joint noise (about 2 degrees). Angles follow the ``(abduct, flex, twist)`` convention of :mod:`.body`.

:func:`animate` turns them into world joints: forward kinematics, the lowest ankle kept at ankle height above the
floor (plus a jump's lift), planted feet held in place for in-place actions, and a modest forward travel for
``walk`` and ``run`` (slower than real gait, so that a camera keeps the person in frame).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

import numpy as np

from .body import N_JOINTS, Body, J, forward_kinematics

ACTIONS = ("walk", "run", "jump", "squat", "wave", "clap", "punch", "kick", "bow", "sit_down", "raise_arms",
           "turn")
_ANKLES = [J["r_ankle"], J["l_ankle"]]


@dataclass
class Motion:
    """What an action function fills in; all arrays have one row per frame.

    ``angles`` (T, 17, 3) degrees, added to the base posture; ``yaw`` (T,) radians on top of the heading;
    ``travel`` (T,) metres along the heading; ``lift`` (T,) metres above ground contact; ``plant`` weights of
    the (right, left) ankle that stay fixed on the floor, or None for no planting.
    """

    angles: np.ndarray
    yaw: np.ndarray
    travel: np.ndarray
    lift: np.ndarray
    plant: tuple = None

    def add(self, joint: str, abduct=0.0, flex=0.0, twist=0.0) -> None:
        self.angles[:, J[joint], 0] += abduct
        self.angles[:, J[joint], 1] += flex
        self.angles[:, J[joint], 2] += twist

    def both(self, joint: str, abduct=0.0, flex=0.0, twist=0.0) -> None:
        """The same angles on the left and right ``joint`` (e.g. ``"hip"``); mirroring is done by the body."""
        for s in "rl":
            self.add(f"{s}_{joint}", abduct, flex, twist)


def sample_params(rng: np.random.Generator) -> dict:
    return {
        "speed": rng.uniform(0.8, 1.25), "amp": rng.uniform(0.75, 1.25), "phase": rng.uniform(0.0, 1.0),
        "heading": rng.uniform(-np.pi, np.pi), "side": "rl"[int(rng.integers(2))], "noise": rng.uniform(1.0, 3.0),
        "style": rng.uniform(0.0, 1.0),
    }


# ----------------------------------------------------------------------------------------- time helpers
def _bump(ph, centre, width):
    """Gaussian bump on a cycle: ``ph`` and ``centre`` in cycles, wrapped."""
    d = (np.asarray(ph) - centre + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d / width) ** 2)


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _cos(ph):
    return np.cos(2 * np.pi * ph)


# ----------------------------------------------------------------------------------------------- actions
def walk(t, p, m: Motion) -> None:
    """Gait at 0.7-1.1 strides/s: hips swing +-22 deg, knees flex up to 60 deg in swing, arms swing against
    the legs, pelvis and chest counter-rotate; travels forward 0.6-1.0 m/s."""
    f, a = 0.9 * p["speed"], p["amp"]
    for s, ph in (("r", p["phase"] + f * t), ("l", p["phase"] + f * t + 0.5)):
        m.add(f"{s}_hip", flex=a * (22 * _cos(ph) + 4))
        m.add(f"{s}_knee", flex=a * (58 * _bump(ph, 0.72, 0.11) + 12 * _bump(ph, 0.12, 0.07)))
        m.add(f"{s}_shoulder", flex=-a * 18 * _cos(ph))
        m.add(f"{s}_elbow", flex=a * 10 * (1 + _cos(ph + 0.5)))
    ph = p["phase"] + f * t
    m.add("pelvis", twist=-5 * a * np.sin(2 * np.pi * ph))
    m.add("spine", twist=6 * a * np.sin(2 * np.pi * ph))
    m.travel[:] = 0.75 * p["speed"] * t


def run(t, p, m: Motion) -> None:
    """Running at 1.1-1.75 strides/s: larger hip (+-35 deg) and knee (up to 110 deg) swings, elbows bent about
    90 deg pumping, forward lean, short flight phases; travels forward 1.1-1.7 m/s."""
    f, a = 1.4 * p["speed"], p["amp"]
    for s, ph in (("r", p["phase"] + f * t), ("l", p["phase"] + f * t + 0.5)):
        m.add(f"{s}_hip", flex=a * (35 * _cos(ph) + 12))
        m.add(f"{s}_knee", flex=15 + a * (95 * _bump(ph, 0.7, 0.13) + 25 * _bump(ph, 0.15, 0.08)))
        m.add(f"{s}_shoulder", flex=-a * 32 * _cos(ph), abduct=4)
        m.add(f"{s}_elbow", flex=85 + 15 * _cos(ph))
    ph = p["phase"] + f * t
    m.add("spine", flex=8 * a, twist=8 * a * np.sin(2 * np.pi * ph))
    m.lift[:] = 0.05 * a * np.clip(np.sin(2 * np.pi * (2 * ph - 0.15)), 0, None)
    m.travel[:] = 1.35 * p["speed"] * t


def jump(t, p, m: Motion) -> None:
    """Vertical jumps at 0.7-1.1 per second: crouch (hips 70, knees 100 deg) with arms swung back, take-off
    with arms swung up, 0.2-0.4 m of flight, landing crouch."""
    a = p["amp"]
    ph = (p["phase"] + 0.9 * p["speed"] * t) % 1.0
    crouch = _bump(ph, 0.2, 0.07) + _bump(ph, 0.8, 0.07)
    flight = np.where((ph > 0.32) & (ph < 0.68), np.sin(np.pi * np.clip((ph - 0.32) / 0.36, 0, 1)), 0.0)
    m.both("hip", flex=a * (70 * crouch + 12 * flight))
    m.both("knee", flex=a * (100 * crouch + 25 * flight))
    m.add("spine", flex=28 * a * crouch)
    m.both("shoulder", flex=-45 * _bump(ph, 0.2, 0.08) + a * 150 * _bump(ph, 0.45, 0.1), abduct=8 * flight)
    m.both("elbow", flex=20 * crouch)
    m.lift[:] = (0.2 + 0.2 * p["style"]) * a * flight
    m.plant = (0.5, 0.5)


def squat(t, p, m: Motion) -> None:
    """Deep knee bends at 0.45-0.7 per second: hips flex to 95 deg and knees to 120 deg with a forward lean;
    arms reach forward (or stay at the sides for about a third of the sequences); feet stay planted."""
    a = min(p["amp"], 1.1)
    s = 0.5 * (1 - _cos(p["phase"] + 0.55 * p["speed"] * t))
    m.both("hip", flex=95 * a * s)
    m.both("knee", flex=120 * a * s)
    m.add("spine", flex=18 * a * s)
    arms = 85.0 if p["style"] > 0.33 else 15.0
    m.both("shoulder", flex=arms * s)
    m.plant = (0.5, 0.5)


def wave(t, p, m: Motion) -> None:
    """One arm (``side``) raised sideways to 110-130 deg with the forearm up, waving +-30 deg at 1.6-2.5 Hz;
    the arm may rise during the first frames."""
    a, s = p["amp"], p["side"]
    up = _smoothstep((t - (p["phase"] - 0.6)) / 0.35)
    m.add(f"{s}_shoulder", abduct=up * (100 + 25 * a), flex=up * 15)
    osc = np.sin(2 * np.pi * (p["phase"] + 2.0 * p["speed"] * t))
    m.add(f"{s}_elbow", abduct=up * (65 + 30 * a * osc))
    m.add("neck", abduct=5 * up)


def clap(t, p, m: Motion) -> None:
    """Hand clapping at 1.4-2.3 claps/s in front of the chest: shoulders flexed 45-55 deg, the arms open by
    15-25 deg and close horizontally until the hands meet, elbows bent 45-60 deg."""
    c = 0.5 * (1 + _cos(p["phase"] + 1.8 * p["speed"] * t))   # 1 = hands together
    m.both("shoulder", flex=45 + 10 * p["style"], abduct=8, twist=-22 + 20 * p["amp"] * (1 - c))
    m.both("elbow", flex=45 + 15 * c)


def punch(t, p, m: Motion) -> None:
    """Boxing: guard (fists at the chin) and alternating straight punches, 1.0-1.6 per second; the punching
    shoulder flexes to 85 deg and the elbow extends, the chest twists into the punch; knees slightly bent."""
    ph = p["phase"] + 0.65 * p["speed"] * t
    for s, c in (("l", 0.25), ("r", 0.75)):
        e = _bump(ph, c, 0.08) * p["amp"]
        m.add(f"{s}_shoulder", flex=45 + 40 * e, abduct=20 - 15 * e, twist=-15)
        m.add(f"{s}_elbow", flex=120 - 115 * e)
    m.add("thorax", twist=18 * (_bump(ph, 0.75, 0.08) - _bump(ph, 0.25, 0.08)))
    m.both("hip", abduct=6, flex=8)
    m.both("knee", flex=14)


def kick(t, p, m: Motion) -> None:
    """Front kicks with one leg (``side``) at 0.65-1.0 per second: chamber (knee up, 90 deg bent), extension
    (hip flexed to 70-95 deg, knee straight), return; the arms balance out to the sides, the torso leans back."""
    a, s = p["amp"], p["side"]
    o = "l" if s == "r" else "r"
    ph = p["phase"] + 0.8 * p["speed"] * t
    m.add(f"{s}_hip", flex=a * 80 * _bump(ph, 0.5, 0.13))
    m.add(f"{s}_knee", flex=90 * (_bump(ph, 0.36, 0.07) + _bump(ph, 0.64, 0.07)) + 5)
    m.add(f"{o}_knee", flex=10)
    m.add("spine", flex=-12 * a * _bump(ph, 0.5, 0.13))
    m.both("shoulder", abduct=25 + 10 * _bump(ph, 0.5, 0.15))
    m.both("elbow", flex=50)
    m.plant = (1.0, 0.0) if o == "r" else (0.0, 1.0)


def bow(t, p, m: Motion) -> None:
    """A bow hinged at the hips: the upper body bends 35-75 deg forward over about half a second, holds, and
    comes back up; the legs stay straight, the arms hang."""
    T = t[-1] + (t[1] - t[0] if len(t) > 1 else 0.0)
    t0 = (p["phase"] * 0.5 - 0.25) * T
    d = 0.45 / p["speed"]
    hold = 0.1 + 0.3 * p["style"]
    b = _smoothstep((t - t0) / d) * (1 - _smoothstep((t - t0 - d - hold) / d))
    depth = (35 + 40 * (p["amp"] - 0.75) / 0.5) * b
    m.add("pelvis", flex=0.55 * depth)
    m.both("hip", flex=0.55 * depth)       # keeps the legs upright under the tilted pelvis
    m.add("spine", flex=0.3 * depth)
    m.add("thorax", flex=0.15 * depth)
    m.both("shoulder", flex=0.6 * depth)
    m.plant = (0.5, 0.5)


def sit_down(t, p, m: Motion) -> None:
    """Sitting down onto an (unseen) chair: hips and knees go from straight to 85-95 deg over half to all of the
    clip, the upper body leans forward mid-way and back, hands come to the thighs; feet stay planted."""
    T = t[-1] + (t[1] - t[0] if len(t) > 1 else 0.0)
    t0 = 0.25 * p["phase"] * T
    s = _smoothstep((t - t0) / ((0.6 + 0.4 * p["style"]) * T / p["speed"]))
    lean = 30 * p["amp"] * np.sin(np.pi * s)
    m.add("pelvis", flex=lean)
    m.both("hip", flex=(85 + 10 * p["style"]) * s + lean)
    m.both("knee", flex=90 * s)
    m.both("shoulder", flex=35 * s)
    m.both("elbow", flex=40 * s)
    m.plant = (0.5, 0.5)


def raise_arms(t, p, m: Motion) -> None:
    """Both arms raised overhead (to 150-180 deg) and lowered, 0.5-0.75 cycles per second; sideways for about
    half the sequences, forwards for the others."""
    r = 0.5 * (1 - _cos(p["phase"] + 0.6 * p["speed"] * t))
    ang = r * (145 + 28 * (p["amp"] - 0.75) / 0.5)
    if p["style"] > 0.5:
        m.both("shoulder", abduct=ang)
    else:
        m.both("shoulder", flex=ang, abduct=5 * r)
    m.both("elbow", flex=-5 * r)
    m.add("neck", flex=-10 * r)


def turn(t, p, m: Motion) -> None:
    """Turning on the spot by 90-180 deg (either way) with small stepping; the turn spans 0.6-1.0 of the
    clip."""
    T = t[-1] + (t[1] - t[0] if len(t) > 1 else 0.0)
    t0 = 0.2 * p["phase"] * T
    dur = (0.6 + 0.4 * p["style"]) * T
    s = _smoothstep((t - t0) / dur)
    sign = 1.0 if p["side"] == "l" else -1.0
    m.yaw[:] = sign * np.deg2rad(90 + 90 * (p["amp"] - 0.75) / 0.5) * s
    active = np.sin(np.pi * s)
    ph = p["phase"] + 1.6 * p["speed"] * t
    for side, off in (("r", 0.0), ("l", 0.5)):
        step = np.clip(np.sin(2 * np.pi * (ph + off)), 0, None) * active
        m.add(f"{side}_hip", flex=18 * step)
        m.add(f"{side}_knee", flex=35 * step)
        m.add(f"{side}_shoulder", flex=8 * step, abduct=6 * active)
    m.add("neck", twist=15 * sign * active)
    m.plant = (0.5, 0.5)


ACTION_FNS: Dict[str, Callable] = {name: globals()[name] for name in ACTIONS}


# --------------------------------------------------------------------------------------------- animate
def _base_posture(rng: np.random.Generator) -> np.ndarray:
    """A person's static stance: arms slightly out and bent, soft knees, a little slouch, random offsets."""
    a = np.zeros((N_JOINTS, 3))
    for s in "rl":
        a[J[f"{s}_shoulder"]] += (rng.uniform(5, 12), rng.uniform(-4, 6), 0)
        a[J[f"{s}_elbow"]] += (0, rng.uniform(8, 20), 0)
        a[J[f"{s}_hip"]] += (rng.uniform(-2.5, 1.5), 0, rng.uniform(-3, 6))
        a[J[f"{s}_knee"]] += (0, rng.uniform(1, 6), 0)
    a[J["spine"], 1] += rng.uniform(-3, 6)
    a[J["neck"], 1] += rng.uniform(-5, 10)
    a += rng.normal(0, 2.0, size=a.shape)
    return a


def _smooth_noise(rng: np.random.Generator, t: np.ndarray, shape, sigma: float) -> np.ndarray:
    """Two random low-frequency sinusoids per entry, total standard deviation ``sigma``."""
    f = rng.uniform(0.2, 1.5, size=(2,) + tuple(shape))
    ph = rng.uniform(0, 2 * np.pi, size=(2,) + tuple(shape))
    return sigma * np.sin(2 * np.pi * f[None] * t[:, None, None, None] + ph[None]).sum(1)


def animate(action: str, body: Body, n_frames: int, fps: float, rng: np.random.Generator):
    """World joints ``(T, 17, 3)``, global joint frames ``(T, 17, 3, 3)`` and the drawn parameters."""
    p = sample_params(rng)
    t = np.arange(n_frames) / float(fps)
    m = Motion(np.zeros((n_frames, N_JOINTS, 3)), np.zeros(n_frames), np.zeros(n_frames), np.zeros(n_frames))
    ACTION_FNS[action](t, p, m)
    angles = _base_posture(rng)[None] + m.angles + _smooth_noise(rng, t, (N_JOINTS, 3), p["noise"])
    heading = p["heading"]
    start = rng.uniform(-0.3, 0.3, size=2)
    root = np.zeros((n_frames, 3))
    root[:, :2] = start + m.travel[:, None] * np.array([np.cos(heading), np.sin(heading)])
    X, G = forward_kinematics(body, angles, heading + m.yaw, root)
    # the lowest ankle on the floor (plus any lift); planted feet stay where they were in the first frame
    dz = body.ankle_height - X[:, _ANKLES, 2].min(axis=1) + m.lift
    X[..., 2] += dz[:, None]
    if m.plant is not None:
        w = np.asarray(m.plant, dtype=np.float64)
        anchor = np.einsum("a,tad->td", w / w.sum(), X[:, _ANKLES, :2])
        X[..., :2] += (anchor[0] - anchor)[:, None]
    p["action"] = action
    return X, G, p
