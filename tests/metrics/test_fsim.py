import pytest
import torch
from piq import fsim as library_fsim

from bench.metrics.fsim import FSIM, fsim
from ctc_reference import rgb10


def test_goldhill_matches_the_published_matlab_value(reference_pair):
    # 0.89691: the authors' MATLAB FeatureSIM on this pair (grey), as piq's tests/test_fsim.py states it.
    reference, distorted = reference_pair("goldhill.gif", "goldhill_jpeg.gif")
    assert fsim(reference, distorted, data_range=255, chromatic=False) == pytest.approx(0.89691, abs=1e-5)


def test_the_metric_is_fsimc_of_the_10_bit_rgb(kodim01_crop, jpeg):
    reconstruction = jpeg(kodim01_crop, 30)
    as_tensor = lambda image: torch.from_numpy(rgb10(image) / 1023).permute(2, 0, 1)[None]  # noqa: E731
    expected = float(library_fsim(as_tensor(reconstruction), as_tensor(kodim01_crop), data_range=1.0, chromatic=True))
    value = FSIM().measure(kodim01_crop, reconstruction)["fsim"]
    assert value == pytest.approx(expected, rel=1e-5)
    assert 0.9 < value < 1.0


def test_piq_s_defaults_are_the_ones_the_prepared_computation_uses():
    import inspect

    from bench.metrics.fsim import FILTER_OPTIONS, NOISE_K

    defaults = {name: parameter.default for name, parameter in inspect.signature(library_fsim).parameters.items()}
    assert {name: defaults[name] for name in FILTER_OPTIONS} == FILTER_OPTIONS and defaults["k"] == NOISE_K


def test_one_prepared_reference_gives_piq_s_value_for_each_reconstruction(kodim01_crop, jpeg):
    from bench.metrics.ctc import ctc_rgb, to_tensor

    metric = FSIM()
    prepared = metric.prepare_reference(kodim01_crop)
    for quality in (10, 60):
        reconstruction = jpeg(kodim01_crop, quality)
        expected = float(library_fsim(to_tensor(ctc_rgb(reconstruction)), to_tensor(ctc_rgb(kodim01_crop)), data_range=1.0, chromatic=True))
        # Equal here bit for bit (piq's operations in its order); 1e-7 for kernels that round by alignment.
        assert metric.measure_prepared(prepared, reconstruction)["fsim"] == pytest.approx(expected, rel=1e-7, abs=0)
