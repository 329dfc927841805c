"""Butteraugli through libjxl's butteraugli_main: the tool's own numbers, and one line when it is missing."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import Image

from bench.metrics.butteraugli import Butteraugli, ButteraugliOptions
from bench.metrics.external import ProgramUnavailable
from program_helpers import require_program


@pytest.fixture
def butteraugli_main():
    require_program("butteraugli_main", "libjxl-devtools")


def test_values_are_the_tools_own_on_the_same_files(kodim01, jpeg, tmp_path, butteraugli_main):
    reference, distorted = kodim01, jpeg(kodim01, 30)
    Image.fromarray(reference).save(tmp_path / "a.png")
    Image.fromarray(distorted).save(tmp_path / "b.png")
    printed = subprocess.run(["butteraugli_main", str(tmp_path / "a.png"), str(tmp_path / "b.png")],
                             capture_output=True, text=True, check=True).stdout.split()
    values = Butteraugli().measure(reference, distorted)
    assert values == {"butteraugli_max": float(printed[0]), "butteraugli_3norm": float(printed[2])}


def test_identical_is_zero_and_worse_jpeg_is_higher(kodim01, jpeg, butteraugli_main):
    crop = np.ascontiguousarray(kodim01[:192, :256])
    metric = Butteraugli()
    assert metric.measure(crop, crop) == {"butteraugli_max": 0.0, "butteraugli_3norm": 0.0}
    good, bad = (metric.measure(crop, jpeg(crop, quality)) for quality in (90, 20))
    assert 0 < good["butteraugli_3norm"] < bad["butteraugli_3norm"] and good["butteraugli_max"] < bad["butteraugli_max"]


def test_a_missing_program_is_one_line():
    with pytest.raises(ProgramUnavailable) as raised:
        Butteraugli(ButteraugliOptions(binary="no-such-butteraugli")).check()
    assert str(raised.value) == (
        "butteraugli: program 'no-such-butteraugli' not found; install Debian's libjxl-devtools "
        "(sudo apt-get install libjxl-devtools) or pass --butteraugli-binary PATH"
    )
