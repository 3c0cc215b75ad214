"""Pictures shown twice, judged once. Frame-rate conversion by duplication shows a film frame
in two video frames, and telecine's 3:2 pulldown in two neighbouring fields of one parity.
Dust sits on the film frame, so it is in both: to the detector, which takes as damage what
differs from both neighbour frames, it looks as if it stayed, as picture does, and goes
unfound. So a clip goes to the detector with its repeats left out, and each repeat takes the
mask of the picture it repeats. No I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

from gincli.core.imagemath import full_scale
from gincli.core.lazy import cv2

# shown up to this many times in a row, a picture is a repeat (2 in telecine's fields and in
# 24-to-30 frame duplication, 3 in 24-to-60); more, a still shot, whose frames the detector
# judges one by one (a scratch or a scene line over a still needs its frames to be told)
LONGEST_REPEAT = 3


class Repeats:
    """Splits a clip into its distinct pictures (:meth:`distinct`) and gives each of their masks
    back once for every time the picture was shown (:meth:`shown`). A picture is a repeat of the
    one before where no pixel differs from it by ``contrast`` (of the full range) or more:
    nothing there that the detector could find (x264 at CRF 18 and 30 and MPEG-4 ASP kept a
    repeated frame of the real clips of ``benchmarks/scratches.py`` that close, but for 5-6
    pixels at CRF 30, against at least 2 in a distinct frame of carphone; identical frames, as
    in still animation, are repeats too, with the same mask)."""

    def __init__(self, contrast: float) -> None:
        self.contrast = contrast
        self._times: deque[int] = deque()  # for each distinct picture not yet given back: times shown
        self._done = False  # the clip has been read to its end

    def distinct(self, images: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """The clip's pictures, each repeat left out. A picture shown more than
        ``LONGEST_REPEAT`` times in a row is a still shot, not a repeat: each of its frames is
        given on its own, as the detector judges stills (the repeats held back till then too)."""
        previous: np.ndarray | None = None
        run, held = 0, []  # times the latest picture was shown in a row; its repeats not given out
        for image in images:
            if previous is not None and not self._changed(previous, image):
                run += 1
                if run <= LONGEST_REPEAT:
                    self._times[-1] += 1
                    held.append(image)
                    continue
                if held:  # a still: the frames held back are frames of their own
                    self._times[-1] = 1
                    self._times.extend([1] * len(held))
                    yield from held
                    held = []
            else:
                previous, run, held = image, 1, []
            self._times.append(1)
            yield image
        self._done = True

    def shown(self, mask: np.ndarray) -> Iterator[np.ndarray]:
        """The next distinct picture's ``mask``, once for each time it was shown (copies for its
        repeats: a caller may edit one). Its count is final once the picture after it was read:
        the detector reads ahead of the masks it gives."""
        if len(self._times) < 2 and not self._done:
            raise RuntimeError("a mask was asked for before the picture after it was read")
        yield mask
        for _ in range(self._times.popleft() - 1):
            yield mask.copy()

    def _changed(self, previous: np.ndarray, image: np.ndarray) -> bool:
        if image.shape != previous.shape or image.dtype != previous.dtype:
            return True
        # the largest difference, not a map of where each is over: 0.7 against 5.8 ms a 720p frame
        return bool(cv2.absdiff(image, previous).max() >= self.contrast * full_scale(image.dtype))
