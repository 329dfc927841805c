"""Rate control: encode one image at a target bits per pixel by searching the quality knob.

Matched-bpp comparisons (JPEG AI common test conditions, Netflix's codec comparisons) encode
every image at the same target rates. A codec with an integer quality knob reaches a target by
searching that knob per image: :func:`encode_at_target` runs a safeguarded secant search on
log(bpp), which keeps a bracket of settings known to fall on either side of the target and
falls back to bisection whenever a secant step would not shrink that bracket. The steps are
taken on the setting, or on log(setting) for a knob spanning more than two decades, such as
JPEG 2000's compression ratio (4..1000), whose rate is inversely proportional to it.

It stops at the first encode within ``tolerance`` (relative, 3 % by default) of the target, or,
when two adjacent settings straddle the target, at whichever of the two is closer: that is the
closest the knob allows. A target outside the codec's whole range returns the end setting.
"""
from __future__ import annotations

import math

import numpy as np

from bench.codecs.base import Codec, EncodeResult, Setting, bits_per_pixel

#: Octaves of bpp a knob is assumed to span over its whole range, used for the first step only
#: (JPEG quality 1..100 spans about 5 octaves on Kodak, WebP 0..100 about 4).
_ASSUMED_RANGE_OCTAVES = 5.0
#: A knob whose highest setting is more than this many times its lowest is searched on log(setting).
_LOG_SCALE_SPAN = 100


class _KnobSearch:
    """Evaluations of one codec on one image, indexed by a knob position where bits rise with it.

    Positions are the integer settings counted from the low-rate end. The secant steps are taken
    on a coordinate of the setting: the setting itself, or its logarithm for a knob spanning more
    than two decades (JPEG 2000's compression ratio, 4..1000), whose rate changes by a factor per
    factor of the setting and would otherwise need many steps at the high-rate end.
    """

    def __init__(self, codec: Codec, image: np.ndarray) -> None:
        low, high = codec.quality_range
        self.codec = codec
        self.image = image
        self.low, self.high = int(low), int(high)
        self.rate_rises = codec.higher_setting_more_bits
        self.log_scale = self.low > 0 and self.high > _LOG_SCALE_SPAN * self.low
        self.results: dict[int, tuple[float, EncodeResult]] = {}

    @property
    def size(self) -> int:
        return self.high - self.low

    def setting(self, position: int) -> int:
        return self.low + position if self.rate_rises else self.high - position

    def coordinate(self, position: int) -> float:
        """Where the secant steps happen; increases with the position."""
        setting = self.setting(position)
        value = math.log(setting) if self.log_scale else float(setting)
        return value if self.rate_rises else -value

    def position_near(self, coordinate: float) -> int:
        """The position whose coordinate is nearest ``coordinate``, inside the knob's range."""
        coordinate = min(max(coordinate, self.coordinate(0)), self.coordinate(self.size))
        value = coordinate if self.rate_rises else -coordinate
        setting = round(math.exp(value) if self.log_scale else value)
        return setting - self.low if self.rate_rises else self.high - setting

    def log_bpp(self, position: int) -> float:
        if position not in self.results:
            result = self.codec.encode_with_context(self.image, self.setting(position))
            self.results[position] = (bits_per_pixel(result.bitstream, self.image), result)
        return math.log2(self.results[position][0])


def _next_position(
    search: _KnobSearch, target: float, below: int | None, above: int | None, last: int, previous: int | None
) -> int:
    """Secant step from the two latest evaluations, kept strictly inside the open bracket."""
    lowest = 0 if below is None else below + 1
    highest = search.size if above is None else above - 1
    slope = _ASSUMED_RANGE_OCTAVES / (search.coordinate(search.size) - search.coordinate(0))
    if previous is not None and search.log_bpp(last) != search.log_bpp(previous):
        measured = (search.log_bpp(last) - search.log_bpp(previous)) / (
            search.coordinate(last) - search.coordinate(previous)
        )
        if measured > 0:  # a non-monotone knob has no trustworthy slope: keep the assumed one
            slope = measured
    guess = search.position_near(search.coordinate(last) + (target - search.log_bpp(last)) / slope)
    if below is not None and above is not None and not lowest <= guess <= highest:
        middle = search.position_near((search.coordinate(below) + search.coordinate(above)) / 2)
        return min(max(middle, lowest), highest)
    return min(max(guess, lowest), highest)


def encode_at_target(
    codec: Codec,
    image: np.ndarray,
    target_bpp: float,
    tolerance: float = 0.03,
    first_setting: Setting | None = None,
) -> tuple[Setting, EncodeResult, int]:
    """Encode ``image`` with the setting whose bpp is nearest ``target_bpp``.

    Parameters
    ----------
    codec:
        A codec with an integer ``quality_range``; ``higher_setting_more_bits`` gives the knob's
        direction.
    image:
        H x W x 3 uint8 RGB array.
    target_bpp:
        The wanted rate in bits per pixel (> 0).
    tolerance:
        Relative distance to the target that ends the search (0.03 = within ±3 %).
    first_setting:
        Where to start (for example the setting found for a neighbouring target); the middle
        of the range when None.

    Returns
    -------
    (setting, result, n_encodes):
        The chosen setting, its :class:`EncodeResult` (the bitstream to decode and measure), and
        how many encodes the search used.
    """
    if codec.quality_range is None:
        raise ValueError(
            f"codec {codec.name!r} has no integer quality knob (quality_range is None), so it cannot "
            "be rate-controlled; run it without --target-bpp"
        )
    if not target_bpp > 0:
        raise ValueError(f"target bpp must be positive, got {target_bpp}; pass e.g. --target-bpp 0.1,0.2")
    search = _KnobSearch(codec, image)
    target = math.log2(target_bpp)
    log_tolerance = math.log2(1 + tolerance)
    if first_setting is None:
        position = search.position_near((search.coordinate(0) + search.coordinate(search.size)) / 2)
    else:
        offset = int(first_setting) - search.low
        position = min(max(offset if search.rate_rises else search.size - offset, 0), search.size)
    below: int | None = None  # highest position known to give fewer bits than the target
    above: int | None = None  # lowest position known to give more bits than the target
    previous: int | None = None
    while True:
        error = search.log_bpp(position) - target
        if abs(error) <= log_tolerance:
            break
        if error < 0:
            below = position if below is None else max(below, position)
        else:
            above = position if above is None else min(above, position)
        if (below is not None and above is not None and above - below <= 1) or below == search.size or above == 0:
            break
        previous, position = position, _next_position(search, target, below, above, position, previous)
    best = min(search.results, key=lambda p: abs(search.log_bpp(p) - target))
    return search.setting(best), search.results[best][1], len(search.results)
