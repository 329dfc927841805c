"""HiFiC's three operating points (Mentzer et al. 2020, A.6): target rate r_t and lambda^(a) by name.

The one table of rate names: the trainer reads r_t and lambda^(a) from it, the codec reads
the target rate a checkpoint's name implies (``hific_low.pt``, ``lo``, ``small-dense-mi``).
"""
from __future__ import annotations

import math
import re

#: Target rates r_t (bpp) by rate name.
TARGET_RATES = {"lo": 0.14, "mi": 0.30, "hi": 0.45}
#: lambda^(a), the rate weight while the batch's bpp is above r_t.
LAMBDA_A = {"lo": 2.0**1, "mi": 2.0**0, "hi": 2.0**-1}
#: lambda^(b), the rate weight at or below r_t (the same for every rate).
LAMBDA_B = 2.0**-4
#: Other spellings of the rate names (the Justin-Tan port's files are hific_low/med/hi.pt).
ALIASES = {"low": "lo", "med": "mi", "high": "hi"}


def rate_name(text: str) -> str | None:
    """The rate name that ends ``text`` (``lo``, ``mi``, ``hi``, or an alias), else None."""
    last_word = re.split(r"[-_]", text.lower())[-1]
    name = ALIASES.get(last_word, last_word)
    return name if name in TARGET_RATES else None


def target_rate_of(text: str) -> float:
    """The target bpp a checkpoint name implies (``lo``, ``hific_med``...), else NaN."""
    name = rate_name(text)
    return TARGET_RATES[name] if name else math.nan


def nearest_rate_name(bits_per_pixel: float) -> str:
    """The rate name whose r_t is nearest to ``bits_per_pixel``."""
    return min(TARGET_RATES, key=lambda name: abs(TARGET_RATES[name] - bits_per_pixel))
