"""stage1_2d/tracks.py: identities across frames, re-identification, duplicates and the track arrays, on
hand-made people whose expected identities are known."""
import numpy as np
import pytest

from stage1_2d.tracks import MultiTracker, bhattacharyya, merge_duplicates, oks, track_arrays

#: a 4-joint "person": shoulders and hips (the torso used for appearance), a box of w x h at (x, y)
TORSO = [0, 1, 2, 3]
W, H = 640, 480


def person(x, y, w=40.0, h=100.0, score=0.9):
    kps = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], float)
    return kps, np.full(4, score)


def frame_with(colours):
    """A grey frame with each (x, y, w, h, rgb) box painted: the people's clothes."""
    f = np.full((H, W, 3), 128, np.uint8)
    for x, y, w, h, rgb in colours:
        f[int(y):int(y + h), int(x):int(x + w)] = rgb
    return f


def test_two_people_crossing_keep_their_ids():
    """Two people walk towards each other and pass: matching by predicted box (velocity) keeps both ids."""
    tr = MultiTracker((W, H), 25.0, TORSO)
    ids = []
    for t in range(30):
        a, b = 100 + 10 * t, 400 - 10 * t           # they meet at t = 15
        ids.append(tr.update(t, [person(a, 200), person(b, 210)]))
    assert ids[0] == [0, 1]
    assert all(i == [0, 1] for i in ids)
    assert len(tr.final()) == 2


def test_order_of_detections_does_not_matter():
    tr = MultiTracker((W, H), 25.0, TORSO)
    tr.update(0, [person(100, 200), person(400, 200)])
    assert tr.update(1, [person(402, 200), person(101, 200)]) == [1, 0]


def test_reidentification_after_occlusion_by_appearance():
    """A red-shirted person vanishes for 10 frames (0.4 s) and reappears 60 px away: it gets its id back
    (same torso colours, within reach); a blue-shirted newcomer at the same place instead gets a new id."""
    red, blue, green = (200, 30, 30), (30, 30, 200), (30, 200, 30)
    tr = MultiTracker((W, H), 25.0, TORSO)
    for t in range(10):
        tr.update(t, [person(100, 200), person(400, 200)],
                  frame_with([(100, 200, 40, 100, red), (400, 200, 40, 100, green)]))
    for t in range(10, 20):
        tr.update(t, [person(400, 200)], frame_with([(400, 200, 40, 100, green)]))
    ids = tr.update(20, [person(160, 200), person(400, 200)],
                    frame_with([(160, 200, 40, 100, red), (400, 200, 40, 100, green)]))
    assert ids == [0, 1]
    assert tr.tracks[0].reidentified == 1

    tr2 = MultiTracker((W, H), 25.0, TORSO)
    for t in range(10):
        tr2.update(t, [person(100, 200)], frame_with([(100, 200, 40, 100, red)]))
    ids = tr2.update(20, [person(160, 200)], frame_with([(160, 200, 40, 100, blue)]))
    assert ids == [1]


def test_no_reidentification_out_of_reach_or_too_late():
    red = (200, 30, 30)
    tr = MultiTracker((W, H), 25.0, TORSO, reid_seconds=1.0)
    for t in range(5):
        tr.update(t, [person(50, 200)], frame_with([(50, 200, 40, 100, red)]))
    # 4 frames later but 500 px away: a person cannot walk that far (reach: 1 height + 1.5 heights/s)
    assert tr.update(9, [person(550, 200)], frame_with([(550, 200, 40, 100, red)])) == [1]
    tr = MultiTracker((W, H), 25.0, TORSO, reid_seconds=1.0)
    for t in range(5):
        tr.update(t, [person(50, 200)], frame_with([(50, 200, 40, 100, red)]))
    # at the same place but 2 s later, beyond reid_seconds
    assert tr.update(55, [person(50, 200)], frame_with([(50, 200, 40, 100, red)])) == [1]


def test_main_person_first_and_flickers_dropped():
    """The large central person is person 0 although it appears after a small one; a detection seen in two
    frames only (min_frames 3) is dropped."""
    tr = MultiTracker((W, H), 25.0, TORSO)
    for t in range(10):
        people = [person(20, 20, 20, 40)]                      # small, in a corner, from frame 0
        if t >= 2:
            people.append(person(300, 150, 60, 180))           # large and central, from frame 2
        if t in (4, 5):
            people.append(person(560, 400, 20, 40))            # a flicker
        tr.update(t, people)
    final = tr.final()
    assert [min(t.seen) for t in final] == [2, 0]
    info = tr.info(final)
    assert info["tracks_found"] == 3 and [t["frames_seen"] for t in info["tracks"]] == [8, 10]


def test_track_arrays_interpolate_gaps_with_zero_scores():
    tr = MultiTracker((W, H), 25.0, TORSO, max_gap=5)
    frames = []
    for t in range(6):
        people = [] if t in (2, 3) else [person(100 + 10 * t, 200)]
        tr.update(t, people)
        frames.append(people)
    tracks = tr.final()
    kps, sc = track_arrays(tracks, frames, 6)
    assert kps.shape == (1, 6, 4, 2) and sc.shape == (1, 6, 4)
    assert np.all(sc[0, [2, 3]] == 0) and np.all(sc[0, [0, 1, 4, 5]] == 0.9)
    assert kps[0, 2, 0, 0] == pytest.approx(120.0) and kps[0, 3, 0, 0] == pytest.approx(130.0)
    # a conversion is applied to the seen frames, before the gaps are filled
    kps2, sc2 = track_arrays(tracks, frames, 6, lambda k, s: (k[:, :2] * 2, s[:, :2] / 3))
    assert kps2.shape == (1, 6, 2, 2) and kps2[0, 2, 0, 0] == pytest.approx(240.0)
    assert np.allclose(sc2[0, [0, 1, 4, 5]], 0.3) and np.all(sc2[0, [2, 3]] == 0)


def test_duplicates_merged_and_oks():
    whole = person(100, 100)
    cut = (whole[0][:3].copy(), np.array([0.9, 0.9, 0.9]))     # the same person, cut by a window's edge
    cut = (np.vstack([cut[0], [[0, 0]]]), np.append(cut[1], 0.0))
    other = person(400, 100)
    assert len(merge_duplicates([whole, cut, other])) == 2
    assert merge_duplicates([cut, whole, other])[0][1].sum() == pytest.approx(3.6)  # the whole one is kept
    # OKS: 1 for the same pose, falling with distance, 0 with fewer than 3 shared joints
    k, s = person(0, 0)
    assert oks(k, s, k, s, 4000.0) == pytest.approx(1.0)
    assert oks(k, s, k + 20, s, 4000.0) == pytest.approx(np.exp(-800 / (2 * 4000 * 0.04)))
    assert oks(k, s, k, np.array([0.9, 0.9, 0, 0]), 4000.0) == 0.0


def test_bhattacharyya():
    p = np.array([0.5, 0.5, 0.0])
    assert bhattacharyya(p, p) == pytest.approx(1.0)
    assert bhattacharyya(p, np.array([0.0, 0.0, 1.0])) == 0.0


def test_followed_identities_are_kept():
    """Two people swap places from one frame to the next: overlap alone would swap their ids; the detector
    followed each in its own view, and that wins."""
    tr = MultiTracker((W, H), 25.0, TORSO)
    assert tr.update(0, [person(100, 200), person(300, 200)]) == [0, 1]
    assert tr.update(1, [person(300, 200), person(100, 200)]) == [1, 0]        # by overlap
    assert tr.update(2, [person(300, 200), person(100, 200)], followed=[0, 1]) == [0, 1]


def test_the_only_person_keeps_its_id_through_a_jump():
    """One person whose pose jumps a box height in a frame (no overlap, no shared joints): the one track just
    lost and the one person found are the same; two people jumping are not guessed; out of reach (1.2
    heights, reach 1 height + 1.5 heights/s) is someone else."""
    tr = MultiTracker((W, H), 25.0, TORSO)
    tr.update(0, [person(100, 100)])
    assert tr.update(1, [person(100, 200)]) == [0]
    assert tr.update(2, [person(250, 200)]) == [1]
    tr = MultiTracker((W, H), 25.0, TORSO)
    tr.update(0, [person(100, 100), person(400, 100)])
    assert tr.update(1, [person(100, 200), person(400, 200)]) == [2, 3]
