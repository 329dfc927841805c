"""The complexity table of a run: each learned codec's figures (:mod:`bench.codecs.complexity`)
at each operating point, measured once on the run's first readable image."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def complexity_rows(codecs: dict[str, Any], points: dict[str, list[Any]], image_paths: list[Any], device: str,
                    done: set[tuple[str, str]] = frozenset(), row_timeout: float | None = None) -> list[dict[str, Any]]:
    """One row per learned codec and operating point not in ``done`` ((codec, point label) pairs),
    measured on the first of ``image_paths`` that reads; a failure, or a measurement past
    ``row_timeout`` seconds, is a row with ``complexity_error``. Codecs without networks (whose
    ``complexity`` gives None) get no row."""
    from bench.codecs.base import Codec
    from bench.core.execution import timeout_reason
    from bench.processes import TimeLimitExceeded, time_limit
    from bench.errors import one_line

    learned = {name: codec for name, codec in codecs.items() if type(codec).complexity is not Codec.complexity}
    wanted = [(name, point) for name in learned for point in points.get(name, [])
              if (name, point.label) not in done and point.target_bpp is None]
    if not wanted:
        return []
    path, image = _first_readable(image_paths)
    if image is None:
        return []
    rows = []
    for name, point in wanted:
        codec = learned[name]
        row: dict[str, Any] = {"codec": name, "point": point.label, "image": Path(path).name,
                               "width": image.shape[1], "height": image.shape[0], "device": device}
        try:
            codec.use_device(device)
            with time_limit(row_timeout):
                row.update(codec.complexity(image, point.setting))
        except TimeLimitExceeded:
            row["complexity_error"] = timeout_reason(row_timeout or 0, restarted=False)
        except Exception as exc:  # noqa: BLE001 - a figure that cannot be measured must not lose the run
            row["complexity_error"] = one_line(exc)
        rows.append(row)
    return rows


def _first_readable(paths: list[Any]) -> tuple[Any, Any]:
    """(path, image) of the first of ``paths`` that reads as an image, else (None, None)."""
    from bench.imageio import ImageReadError, read_image

    for path in paths:
        try:
            return path, read_image(path)
        except ImageReadError:
            continue
    return None, None
