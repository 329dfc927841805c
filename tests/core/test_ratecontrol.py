"""Rate control reaches target bpps on Kodak images with JPEG, WebP and JPEG 2000 (whose knob, a
compression ratio from 4 to 1000, is searched on a log scale) in at most 8 encodes."""
from pathlib import Path

import numpy as np
import pytest

from bench.codecs.base import Codec
from bench.codecs.jpeg import JPEG
from bench.codecs.jpeg2000 import JPEG2000
from bench.codecs.webp import WebP
from bench.imageio import read_image
from bench.codecs.base import bits_per_pixel
from bench.core.ratecontrol import encode_at_target

TOLERANCE = 0.03
TARGETS = (0.15, 0.4, 1.0)


@pytest.fixture(scope="module")
def kodak_images(kodak_dir: Path) -> list[np.ndarray]:
    return [read_image(path) for path in sorted(kodak_dir.glob("*.png"))[:2]]


def bpp_at(codec: Codec, image: np.ndarray, setting: int) -> float:
    return bits_per_pixel(codec.encode(image, setting), image)


@pytest.mark.parametrize("codec", [JPEG(), WebP(), JPEG2000()], ids=lambda codec: codec.name)
def test_target_is_reached_or_the_knob_cannot_get_closer(codec, kodak_images):
    low, high = codec.quality_range
    for image in kodak_images:
        for target in TARGETS:
            setting, result, n_encodes = encode_at_target(codec, image, target)
            bpp = bits_per_pixel(result.bitstream, image)
            assert np.array_equal(codec.decode(result.bitstream).shape, image.shape)
            assert 1 <= n_encodes <= 8, (target, n_encodes)
            if abs(bpp / target - 1) <= TOLERANCE:
                continue
            # Outside the tolerance only when the neighbouring setting is on the other side
            # of the target and no closer, or the target is beyond the knob's range.
            towards_more_bits = 1 if codec.higher_setting_more_bits else -1
            neighbour = setting + (towards_more_bits if bpp < target else -towards_more_bits)
            if low <= neighbour <= high:
                other = bpp_at(codec, image, neighbour)
                assert (other - target) * (bpp - target) <= 0, (target, setting, bpp, other)
                assert abs(np.log(bpp / target)) <= abs(np.log(other / target))
            else:
                assert setting in (low, high)


def test_the_same_setting_gives_the_same_bitstream(kodak_images):
    codec = JPEG()
    setting, result, _ = encode_at_target(codec, kodak_images[0], 0.4)
    assert codec.encode(kodak_images[0], setting) == result.bitstream


def test_first_setting_near_the_answer_saves_encodes(kodak_images):
    codec = JPEG()
    setting, _, n_cold = encode_at_target(codec, kodak_images[0], 0.4)
    again, _, n_warm = encode_at_target(codec, kodak_images[0], 0.4, first_setting=setting)
    assert again == setting and n_warm == 1 < n_cold


def test_codec_without_a_quality_knob_is_refused_with_the_reason(kodak_images):
    class Checkpoints(Codec):
        name = "learned"

    with pytest.raises(ValueError, match="has no integer quality knob"):
        encode_at_target(Checkpoints(), kodak_images[0], 0.2)
    with pytest.raises(ValueError, match="target bpp must be positive"):
        encode_at_target(JPEG(), kodak_images[0], 0.0)
