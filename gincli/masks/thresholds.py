"""The film-damage detector's settings (:class:`DamageThresholds`) and its sensitivity levels."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class DamageThresholds:
    """Detector settings; intensities are fractions of full scale (0-1)."""

    line_contrast: float = 0.07  # how much brighter or darker than its sides a scratch must be
    line_width: int = 7  # widest scratch (px); wider vertical features are picture, not damage
    line_min_length: float = 0.2  # shortest scratch, as a fraction of the frame height, or:
    # px: a line this long is long enough however tall the frame (0.2 is 144 px at 720p, 432 at
    # 2160p, and a scratch fading over picture as bright as itself breaks into shorter pieces)
    line_min_rows: int = 100
    # columns a scratch's straight course may move sideways per row (about 3.5 degrees): more is
    # picture (a frame tube, a rim); planted scratches lean at most 0.03, real ones run along the film
    line_max_slant: float = 0.06
    # px a scratch's course may bend from straight over its length (the sagitta of a parabola
    # through it): more is picture (a wheel's rim); a scratch runs straight along the film.
    # Whole clips, 4 seeds: bikes' clean flags 0.0123 -> 0.0071 %, recall 0.786 -> 0.784 (Big
    # Buck Bunny 0.831 -> 0.826); 2.5 px left bikes at 0.0098 %; 1.5 took its recall to 0.771
    line_max_bend: float = 2.0
    # how steep a scratch's edges are: the largest step between two adjacent pixels of each of
    # its rows, as a share of its strength, on average; or as a share of the most it stands out
    # in each row, on average over its usual rows (0: no test; see gincli.masks.lines)
    line_sharpness: float = 0.85
    # frames a scratch that a frame's own tests found is followed before and after it, at its
    # place on the film, where those frames' own tests miss it (0: every frame judged alone; see
    # gincli.masks.tracks)
    line_follow: int = 12
    dust_contrast: float = 0.12  # how far a speck differs from both neighbour frames
    # ... where the picture there has at least this headroom (its light for a dark speck, its dark
    # for a bright one); less in proportion below it, as dirt takes away a share of the light (0:
    # dust_contrast everywhere; see gincli.masks.dust). Planted damage, 120 frames, 4 seeds,
    # precision / recall, dust recall: carphone 0.910 / 0.888, 0.537 -> 0.911 / 0.897, 0.620;
    # movie.avi 0.928 / 0.873, 0.563 -> 0.928 / 0.882, 0.642; bikes 0.954 / 0.946 -> 0.955 / 0.955;
    # Big Buck Bunny 0.950 / 0.940 -> 0.950 / 0.945. Whole clean clips: bikes 0.0066 -> 0.0070 %
    # (frames with a flag 12 -> 13 %), Big Buck Bunny 0.0000 -> 0.0000 % (1 -> 2 %). Dark specks
    # judged so at 0.6 / 0.4: 0.896 / 0.881 and 0.896 / 0.880 on the two small clips. (With the
    # share of the darkest picture's light within a pixel; of the brightest's, as now, the same
    # recall, and the photos' pans flagged no more than without the share)
    dust_full_headroom: float = 0.5
    # ... and a dark line scratch too: the contrast asked of a dark line falls, in proportion, where
    # the picture's light is under this (at least half of it is asked; 0: line_contrast everywhere;
    # see gincli.masks.line_candidates.contrast_shares, and "Dark scratches over dark picture" in docs/measurements.md)
    line_full_headroom: float = 0.2
    # px: smallest speck; a lone pixel that differs from both neighbours is noise (a hot pixel, a
    # codec's sparkle) or the edge of a moving thing, not dust (most clean false alarms on
    # carphone_pristine.mp4 and of warping misses; recall with planted dust unchanged)
    dust_min_area: int = 2
    dust_max_area: float = 0.002  # largest speck, as a fraction of the frame area (at least 150 px)
    # px: how far the picture's motion at a speck (from one neighbour frame to the other) may
    # depart from its mean over 9 x 9 px; more (the edges of moving things, where warping
    # misplaces the picture) is not trusted as dust
    dust_flow_roughness: float = 0.25
    # px: how far a speck's trail may lie in a neighbour frame (0: no trail test; see gincli.masks.dust)
    dust_trail_radius: int = 12
    # how much a speck must stand out from the picture around it in its own frame, as a share of
    # how much it differs from the neighbour frames (0: no test; see gincli.masks.dust)
    dust_standout: float = 0.7
    grow: int = 1  # pixels added around everything found (scratch edges are soft)

    def in_field(self) -> DamageThresholds:
        """These thresholds for one field of interlaced frames, whose rows are every other line: a
        scratch is as long in rows as half its lines, and leans twice as far a row."""
        return replace(self, line_min_rows=-(-self.line_min_rows // 2), line_max_slant=2 * self.line_max_slant)

    def at_sensitivity(self, level: str) -> DamageThresholds:
        """These thresholds with both contrasts scaled for ``level`` (see :data:`SENSITIVITY`)."""
        if level not in SENSITIVITY:
            raise ValueError(f"unknown sensitivity {level!r}; choose {', '.join(SENSITIVITY)}")
        scale = SENSITIVITY[level]
        return replace(self, line_contrast=self.line_contrast * scale, dust_contrast=self.dust_contrast * scale)


# how faint damage may be and still be found, as a factor on both contrast thresholds; the
# levels' false alarms and recall on real footage are in docs/measurements.md
SENSITIVITY = {"low": 1.5, "normal": 1.0, "high": 0.7}
