"""How each curve is drawn, the same in the interactive plots and the static figures.

* **Measured codecs**: solid lines and filled markers, one hue per *family* (the name up to its
  first ``-``: ``hific-cpu-dense`` and ``hific-cpu-sparse`` are one family, ``jpeg`` and
  ``jpegxl`` are two), from a palette of distinct hues; the members of a family get darker and
  lighter shades of it. A codec's other bitstream over the same model (``<codec>-sparse-matrix``)
  keeps its colour and is dashed, with open markers.
* **Published curves**: dotted, hollow markers of their own shapes, in muted hues of their own,
  so that they read apart from each other and from every measured curve.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Iterable

#: Distinct hues for measured families (Tableau 10, then more saturated extras), in order of use.
MEASURED_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
    "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
)
#: Muted hues for published curves.
PUBLISHED_PALETTE = (
    "#9e9ac8", "#a1d99b", "#fdae6b", "#9ecae1", "#fc9272", "#c994c7", "#bdbdbd", "#d9d98a", "#80cdc1",
    "#f4a582", "#92c5de", "#b8a98e",
)
#: Marker shapes (plotly names) of published curves; matplotlib's equivalents below.
PUBLISHED_SYMBOLS = ("diamond", "square", "triangle-up", "cross", "x", "triangle-down", "star", "pentagon",
                     "hexagon", "triangle-left", "triangle-right", "hourglass")
MATPLOTLIB_MARKERS = {
    "circle": "o", "diamond": "D", "square": "s", "triangle-up": "^", "cross": "P", "x": "X", "triangle-down": "v",
    "star": "*", "pentagon": "p", "hexagon": "h", "triangle-left": "<", "triangle-right": ">", "hourglass": "d",
}
#: Suffix of a second bitstream over the same model as the codec without it.
BITSTREAM_SUFFIXES = ("-sparse-matrix",)


@dataclass(frozen=True)
class Style:
    color: str
    #: ``solid``, ``dash`` or ``dot`` (plotly names; :func:`matplotlib_dash` maps them).
    dash: str
    symbol: str
    filled: bool


def family(codec: str) -> str:
    """The family a codec's colour comes from: its name up to the first ``-``."""
    return codec.split("-", 1)[0]


def _base(codec: str, codecs: set[str]) -> str | None:
    """The codec whose model ``codec`` codes in another bitstream, when that codec is in the run."""
    for suffix in BITSTREAM_SUFFIXES:
        if codec.endswith(suffix) and codec.removesuffix(suffix) in codecs:
            return codec.removesuffix(suffix)
    return None


def _shade(color: str, index: int, count: int) -> str:
    """The ``index``-th of ``count`` shades of ``color`` (its own lightness in the middle)."""
    if count == 1:
        return color
    red, green, blue = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    offset = (index / (count - 1) - 0.5) * 0.36
    lightness = min(0.8, max(0.2, lightness + offset))
    return "#" + "".join(f"{round(c * 255):02x}" for c in colorsys.hls_to_rgb(hue, lightness, saturation))


def codec_styles(codecs: Iterable[str]) -> dict[str, Style]:
    """A style for each measured codec (see the module's rules)."""
    codecs = list(codecs)
    names = set(codecs)
    primary = [codec for codec in codecs if _base(codec, names) is None]
    families: dict[str, list[str]] = {}
    for codec in primary:
        families.setdefault(family(codec), []).append(codec)
    styles: dict[str, Style] = {}
    for index, (_, members) in enumerate(families.items()):
        hue = MEASURED_PALETTE[index % len(MEASURED_PALETTE)]
        for position, codec in enumerate(members):
            styles[codec] = Style(_shade(hue, position, len(members)), "solid", "circle", True)
    for codec in codecs:
        base = _base(codec, names)
        if base is not None:
            styles[codec] = Style(styles[base].color, "dash", "circle", False)
    return styles


def published_styles(methods: Iterable[str]) -> dict[str, Style]:
    """A style for each published method: dotted, hollow, muted, each with its own shape."""
    return {
        method: Style(PUBLISHED_PALETTE[index % len(PUBLISHED_PALETTE)], "dot",
                      PUBLISHED_SYMBOLS[index % len(PUBLISHED_SYMBOLS)], False)
        for index, method in enumerate(methods)
    }


def matplotlib_dash(dash: str) -> str:
    return {"solid": "-", "dash": "--", "dot": ":"}[dash]
