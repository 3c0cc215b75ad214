"""Pictures shown twice (telecine's fields, frame-rate conversion by duplication) are judged once:
dust on a film frame is in both showings, and would look as if it stayed."""

from __future__ import annotations

import cv2
import numpy as np

from gincli.masks.repeats import Repeats
from gincli.masks.scratches import damage_masks
from gincli.testing.film_damage import pan_clip
from tests.conftest import smooth_image


def test_repeats_are_left_out_and_take_the_mask_of_what_they_repeat() -> None:
    """A B B C C C D D D D E: B and C are repeats (shown two and three times), D is a still
    (four times: each frame its own), and every mask comes back once per frame, in order."""
    pictures = {
        name: np.full((4, 4, 3), value, np.uint8) for name, value in zip("ABCDE", (0, 60, 120, 180, 240), strict=True)
    }
    shown = "ABBCCCDDDDE"
    repeats = Repeats(0.12)
    distinct = list(repeats.distinct(pictures[name] for name in shown))
    assert [int(picture[0, 0, 0]) for picture in distinct] == [0, 60, 120, 180, 180, 180, 180, 240]
    masks = [mask for picture in distinct for mask in repeats.shown(picture[..., 0])]
    assert [int(mask[0, 0]) for mask in masks] == [int(pictures[name][0, 0, 0]) for name in shown]
    assert masks[1] is not masks[2]  # a repeat's mask is a copy of its own


def test_a_repeat_differing_by_less_than_dust_is_still_a_repeat() -> None:
    picture = np.full((8, 8, 3), 100, np.uint8)
    noisy = picture.copy()
    noisy[2, 3] = 100 + 30  # a codec's noise: under the 0.12 of 255 that dust must differ by
    specked = picture.copy()
    specked[2, 3] = 100 + 31
    assert len(list(Repeats(0.12).distinct([picture, noisy]))) == 1
    assert len(list(Repeats(0.12).distinct([picture, specked]))) == 2


def test_dust_on_a_frame_shown_twice_is_found_in_both_showings() -> None:
    """A pan with grain, every fourth frame shown twice (24 to 30 frames a second by
    duplication); a dark speck on one duplicated frame is in both of its showings, another on a
    frame shown once. Both are found, the first in both showings."""
    rng = np.random.default_rng(7)
    film = list(pan_clip(smooth_image(rng, 300, 400), 12, 192, 144, rng))
    for index, centre in ((4, (60, 70)), (6, (130, 90))):
        cv2.circle(film[index], centre, 3, (20, 20, 20), -1)
    video, shown_from = [], []
    for index, frame in enumerate(film):
        video += [frame] * (2 if index % 4 == 0 else 1)
        shown_from += [index] * (2 if index % 4 == 0 else 1)
    found = list(damage_masks(video))
    twice = [i for i, source in enumerate(shown_from) if source == 4]
    once = shown_from.index(6)
    assert len(twice) == 2 and all(found[i][70, 60] for i in twice), [found[i][70, 60] for i in twice]
    assert found[once][90, 130]
    assert not any(mask[70, 60] for i, mask in enumerate(found) if i not in twice)
