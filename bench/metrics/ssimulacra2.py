"""SSIMULACRA 2 (Sneyers, Cloudinary / JPEG XL; version 2.1), higher is better, 100 = identical.

The colour conversion (sRGB -> linear -> XYB, made positive), the 2x downsampling and the
108-weight score are those of PyPI ``ssimulacra2`` 0.3.0 (a numpy port of the reference); the
SSIM and edge maps are its ``ssim_map`` and ``edge_diff_map`` operation for operation, bit for bit
(:func:`ssim_averages`, :func:`edge_averages`). The reference's side (its XYB scales, their blurs
and the maps' reference terms) is computed once per reference image (:func:`prepare_reference`)
and compared with each reconstruction. Two parts follow the C++ reference instead
(``tools/ssimulacra2.cc`` of cloudinary/ssimulacra2 and libjxl), because the port differs there:

* **the blur**: the reference blurs with libjxl's recursive Gaussian (Charalampidis 2016,
  three truncated-cosine IIR terms, sigma 1.5, zeros outside the image, rows then columns);
  the port uses scipy's Gaussian with reflection at the left and right edges. Here:
  :func:`recursive_gaussian_blur`.
* **the scales**: the reference checks the size (at least 8 x 8) *before* downsampling, so it
  also scores a last scale of 4-7 pixels; the port checks after and drops it.

Measured against scores the C++ reference gave for the synthetic image pairs of
imazen/ssimulacra2 ``src/reference_data.rs`` (tests/metrics/test_ssimulacra2.py): within 0.16
for scores below 95 (the port alone: off by up to 94 on 64 x 64 images and by 3.5 on 256 x 256).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

import numpy as np

from bench.metrics.base import Column, Metric

if TYPE_CHECKING:
    from types import ModuleType

#: The reference's Gaussian sigma and number of scales.
SIGMA = 1.5
SCALES = 6
MIN_SIDE = 8


@lru_cache(maxsize=None)
def recursive_gaussian(sigma: float = SIGMA) -> tuple[int, tuple[float, ...], tuple[float, ...]]:
    """(radius N, n2, d1) of the three IIR terms of libjxl's ``CreateRecursiveGaussian(sigma)``.

    Each term k filters ``y_k[n] = n2_k * (x[n - N - 1] + x[n + N - 1]) - d1_k y_k[n - 1] - y_k[n - 2]``
    (Charalampidis 2016, eqs. 33-57); their sum approximates the Gaussian.
    """
    radius = math.floor(3.2795 * sigma + 0.2546 + 0.5)  # (57), rounded half up as roundf does
    omega = [k * math.pi / (2.0 * radius) for k in (1, 3, 5)]
    p = [1.0 / math.tan(0.5 * omega[0]), -1.0 / math.tan(0.5 * omega[1]), 1.0 / math.tan(0.5 * omega[2])]  # (37)
    r = [p[0] ** 2 / math.sin(omega[0]), -(p[1] ** 2) / math.sin(omega[1]), p[2] ** 2 / math.sin(omega[2])]  # (44)
    rho = [math.exp(-0.5 * sigma * sigma * w * w) / radius for w in omega]  # (50)
    d13 = p[0] * r[1] - r[0] * p[1]  # (52)
    zeta_15 = (p[1] * r[2] - r[1] * p[2]) / d13
    zeta_35 = (p[2] * r[0] - r[2] * p[0]) / d13
    matrix = np.array([p, r, [zeta_15, zeta_35, 1.0]])  # (56)
    gamma = np.array([1.0, radius * radius - sigma * sigma, zeta_15 * rho[0] + zeta_35 * rho[1] + rho[2]])  # (55)
    beta = np.linalg.solve(matrix, gamma)  # (53)
    n2 = tuple(float(np.float32(-beta[k] * math.cos(omega[k] * (radius + 1.0)))) for k in range(3))  # (33)
    d1 = tuple(float(np.float32(-2.0 * math.cos(omega[k]))) for k in range(3))
    return radius, n2, d1


def recursive_filter(inputs: np.ndarray, n2: float, d1: float, out: np.ndarray | None = None) -> np.ndarray:
    """``y[n] = n2 x[n] - d1 y[n - 1] - y[n - 2]`` along axis 0 of ``inputs``, from zero state.

    The same result, bit for bit, as ``scipy.signal.lfilter([n2], [1, d1, 1], inputs, axis=0)``
    (the same floating-point operations in the same order: ``y[n] = n2 x[n] - (y[n - 2] + d1 y[n - 1])``;
    tests/metrics/test_ssimulacra2.py), but each step is one vector operation over every other
    axis instead of a scalar loop per lane, about 4x faster on a stack of Kodak planes.
    ``out``: an array of the inputs' shape to write the result into.
    """
    outputs = np.multiply(inputs, n2, out=out)
    if len(outputs) > 1:
        outputs[1] -= outputs[0] * d1
    feedback = np.empty(outputs.shape[1:])
    for n in range(2, len(outputs)):
        np.multiply(outputs[n - 1], d1, out=feedback)
        feedback += outputs[n - 2]
        outputs[n] -= feedback
    return outputs


def _summed_input(values: np.ndarray, radius: int) -> np.ndarray:
    """The reference's IIR input along axis 0 of ``values`` (any memory layout): a C-contiguous copy.

    Its warm-up starts at n = 1 - N and its input n is x[n - N - 1] + x[n + N - 1], zeros outside
    the image: index m = n + N - 1 here holds x[m] + x[m - 2N].
    """
    length = values.shape[0]
    summed = np.zeros((length + radius - 1,) + values.shape[1:])
    summed[:length] = values
    overlap = max(0, length - radius - 1)
    summed[2 * radius : 2 * radius + overlap] += values[:overlap]
    return summed


def _filtered(summed: np.ndarray, radius: int, n2: tuple[float, ...], d1: tuple[float, ...]) -> np.ndarray:
    """The sum of the three IIR terms of :func:`_summed_input`'s ``summed``, from the first pixel on."""
    blurred = recursive_filter(summed, n2[0], d1[0])
    term = np.empty_like(summed)
    for k in (1, 2):
        blurred += recursive_filter(summed, n2[k], d1[k], out=term)
    return blurred[radius - 1 :]


def recursive_gaussian_blur(image: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    """An H x W x C float image blurred as libjxl's ``FastGaussian`` does: rows, then columns.

    Each channel is blurred on its own, so blurring images stacked along C is blurring each.
    Each stage's input is dropped as soon as it is copied, so that at most three arrays of the
    image's size are alive at once besides the image (docs/memory.md); an image passed as a
    temporary is dropped too.
    """
    height, width, channels = image.shape
    radius, n2, d1 = recursive_gaussian(sigma)
    summed = _summed_input(np.moveaxis(image, 1, 0), radius)  # W x H x C: rows first
    del image
    rows = _filtered(summed, radius, n2, d1)
    del summed
    summed = _summed_input(np.moveaxis(rows, 1, 0), radius)  # H x W x C
    del rows
    columns = _filtered(summed, radius, n2, d1)
    del summed
    # Laid out W x C x H in memory, as scipy's lfilter along the last axis left it before: the
    # port's means sum in memory order, so this keeps every score bit for bit.
    laid_out = np.empty((width, channels, height))
    laid_out[...] = columns.transpose(1, 2, 0)
    return laid_out.transpose(2, 0, 1)


def _blur_each(*images: np.ndarray) -> list[np.ndarray]:
    """:func:`recursive_gaussian_blur` of each H x W x C image, in one call on their stack."""
    channels = images[0].shape[-1]
    blurred = recursive_gaussian_blur(np.concatenate(images, axis=-1))
    return [blurred[..., index * channels : (index + 1) * channels] for index in range(len(images))]


def _port() -> "ModuleType":
    from ssimulacra2 import ssimulacra2 as port

    return port


@dataclass(frozen=True)
class ReferenceScale:
    """The reference's side of one scale: its positive XYB image, its blur, its variance (the blur of
    its square less the blur squared) and its edge term ``1 + |xyb - blur|``."""

    xyb: np.ndarray
    mu: np.ndarray
    variance: np.ndarray
    edge: np.ndarray

    @classmethod
    def of(cls, xyb: np.ndarray) -> "ReferenceScale":
        mu, sigma = _blur_each(xyb, xyb * xyb)
        # The port's ssim_map and edge_diff_map compute these two from the reference alone.
        return cls(xyb, mu, sigma - mu * mu, 1.0 + np.abs(xyb - mu))


def _xyb_scales(image: np.ndarray) -> Iterator[np.ndarray]:
    """The positive XYB image of each scale of an H x W x 3 uint8 sRGB image, finest first."""
    port = _port()
    linear = port.srgb_to_linear(image.astype(np.float64))
    for scale in range(SCALES):
        if min(linear.shape[:2]) < MIN_SIDE:
            return
        if scale:
            # The reference (2.1) downsamples in linear RGB, then converts again.
            linear = port.downsample(linear, 2, 2)
        yield port.make_positive_xyb(port.linear_rgb_to_xyb(linear))


@dataclass(frozen=True)
class ReferenceSide:
    """What :func:`prepare_reference` keeps of a reference image: its shape and every scale's side."""

    shape: tuple[int, ...]
    scales: tuple[ReferenceScale, ...]


def prepare_reference(reference: np.ndarray) -> ReferenceSide:
    """The reference's side of every scale, which :func:`ssimulacra2_prepared` compares with."""
    if min(reference.shape[:2]) < MIN_SIDE:
        raise ValueError(f"image is {reference.shape[1]}x{reference.shape[0]}; SSIMULACRA 2 needs both sides >= {MIN_SIDE}")
    scales = (ReferenceScale.of(xyb) for xyb in _xyb_scales(reference))
    return ReferenceSide(reference.shape, tuple(scales))


def _mean_and_4_norm(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel, the mean of ``values`` and the 4th root of the mean of their 4th power (in place)."""
    mean = values.mean((0, 1))
    values *= values
    values *= values
    return mean, values.mean((0, 1)) ** 0.25


def ssim_averages(reference: ReferenceScale, mu2: np.ndarray, sigma2: np.ndarray, sigma12: np.ndarray) -> np.ndarray:
    """The port's ``ssim_map(mu1, mu2, sigma11, sigma22, sigma12)`` with the reference's side prepared.

    The port's operations in its order, on fewer temporaries, so the same values bit for bit
    (tests/metrics/test_ssimulacra2.py).
    """
    port = _port()
    num_m = reference.mu - mu2
    num_m *= num_m
    np.subtract(1.0, num_m, out=num_m)
    num_s = np.subtract(sigma12, reference.mu * mu2)
    num_s *= 2.0
    num_s += port.kC2
    denom_s = mu2 * mu2
    np.subtract(sigma2, denom_s, out=denom_s)
    np.add(reference.variance, denom_s, out=denom_s)
    denom_s += port.kC2
    num_m *= num_s
    num_m /= denom_s
    d = np.subtract(1.0, num_m, out=num_m)
    np.maximum(d, 0.0, out=d)
    averages = np.zeros(6)
    averages[::2], averages[1::2] = _mean_and_4_norm(d)
    return averages


def edge_averages(reference: ReferenceScale, second: np.ndarray, mu2: np.ndarray) -> np.ndarray:
    """The port's ``edge_diff_map(xyb1, mu1, xyb2, mu2)`` with the reference's side prepared, bit for bit."""
    ratio = np.subtract(second, mu2)
    np.abs(ratio, out=ratio)
    ratio += 1.0
    ratio /= reference.edge
    ratio -= 1.0
    averages = np.zeros(12)
    # Ringing or blocking: edges in the reconstruction where the reference is smooth.
    averages[::4], averages[1::4] = _mean_and_4_norm(np.maximum(ratio, 0.0))
    # Blurring: edges in the reference the reconstruction lost.
    np.negative(ratio, out=ratio)
    averages[2::4], averages[3::4] = _mean_and_4_norm(np.maximum(ratio, 0.0, out=ratio))
    return averages


def ssimulacra2_prepared(prepared: ReferenceSide, reconstruction: np.ndarray) -> float:
    """:func:`ssimulacra2` of ``reconstruction`` against the reference :func:`prepare_reference` prepared."""
    port = _port()
    if reconstruction.shape != prepared.shape:
        raise ValueError(f"shape mismatch: reference {prepared.shape} vs reconstruction {reconstruction.shape}")
    score = port.Msssim()
    for reference, second in zip(prepared.scales, _xyb_scales(reconstruction)):
        mu2, sigma2, sigma12 = _blur_each(second, second * second, reference.xyb * second)
        maps = port.MsssimScale()
        maps.avg_ssim = ssim_averages(reference, mu2, sigma2, sigma12)
        maps.avg_edgediff = edge_averages(reference, second, mu2)
        score.scales.append(maps)
    return float(score.score())


def ssimulacra2(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """SSIMULACRA 2 of two H x W x 3 uint8 sRGB images (about -inf..100; 100 = identical)."""
    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")
    return ssimulacra2_prepared(prepare_reference(reference), reconstruction)


class SSIMULACRA2(Metric):
    name = "ssimulacra2"
    columns = (Column("ssimulacra2", "SSIMULACRA 2", higher_is_better=True),)
    library = "ssimulacra2"
    # Measured for one row with its prepared reference (469: benchmarks/peak_memory.py on a 25 MP image,
    # docs/memory.md) plus a worker's second prepared reference (128 B/px: four float64 XYB maps a scale).
    peak_bytes_per_pixel = 469.0 + 128.0

    def check(self) -> None:
        _port()

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        return {"ssimulacra2": ssimulacra2(reference, reconstruction)}

    def prepare_reference(self, reference: np.ndarray) -> ReferenceSide:
        return prepare_reference(reference)

    def measure_prepared(self, prepared: ReferenceSide, reconstruction: np.ndarray) -> dict[str, float]:
        return {"ssimulacra2": ssimulacra2_prepared(prepared, reconstruction)}
