"""Codecs for the cluster tests; importable by the test's Dask workers (tests/ is on their path)."""
from __future__ import annotations

import time

from bench.codecs.jpeg import JPEG


class SlowJPEG(JPEG):
    """JPEG that takes a minute to encode at setting 7: a stuck row."""

    name = "slow-jpeg"

    def encode(self, image, setting):
        if setting == 7:
            time.sleep(60)
        return super().encode(image, setting)
