"""NIQE (Mittal, Soundararajan and Bovik 2013, "Making a completely blind image quality
analyzer"), no-reference, lower is better: the classic MATLAB definition of ``niqe_release``.

Per image (only the reconstruction is looked at): RGB to gray as MATLAB's ``rgb2gray``
(rounded to 8 bits), cropped to whole 96 x 96 blocks; at two scales (the image, then
MATLAB's ``imresize(im, 0.5)``: bicubic with antialiasing), local mean and deviation with the
7 x 7 Gaussian window (sigma 7/6, replicated borders), the normalised coefficients of each
block give 18 features (asymmetric generalised Gaussian fits of the coefficients and of their
products with 4 neighbours); the score is the Mahalanobis-like distance between the
multivariate Gaussian of the image's 36 features and that of the pristine model.

The pristine model (``mu_pris_param``, ``cov_pris_param``) is the MATLAB release's
``modelparameters.mat`` as PyPI basicsr 1.4.2 ships it (``niqe_pris_params.npz``, Apache-2.0),
which ships inside this package (``bench/data/niqe/``, with its provenance). A file at
``<weights dir>/niqe/niqe_pris_params.npz`` takes its place.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bench.errors import BenchError
from bench.metrics.base import Column, Metric
from bench.weights import weights_dir, weights_dir_option, weights_sha256

BLOCK = 96
PARAMS_FILE = "niqe_pris_params.npz"
#: MATLAB rgb2gray weights (the inverse of its NTSC transform's first row).
RGB2GRAY = (0.298936021293775, 0.587043074451121, 0.114020904255103)
_GAMMA_GRID = np.arange(0.2, 10.001, 0.001)


class NIQEUnavailable(BenchError):
    pass


#: The copy that ships with the package.
PACKAGED_PARAMS = Path(__file__).resolve().parents[1] / "data" / "niqe" / PARAMS_FILE


def find_pristine_params(directory: str | Path | None = None) -> Path:
    """The pristine-model file: ``<weights dir>/niqe/`` when it has one, else the package's copy."""
    folder = weights_dir(directory)
    if folder is not None and (folder / "niqe" / PARAMS_FILE).is_file():
        return folder / "niqe" / PARAMS_FILE
    if not PACKAGED_PARAMS.is_file():
        raise NIQEUnavailable(f"niqe: the package's pristine model {PACKAGED_PARAMS} is missing; reinstall codec-bench")
    return PACKAGED_PARAMS


@lru_cache(maxsize=None)
def load_pristine_params(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as data:
        return data["mu_pris_param"].reshape(-1).astype(np.float64), data["cov_pris_param"].astype(np.float64)


def rgb_to_gray(image: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2gray`` of an H x W x 3 uint8 image, rounded to 8 bits as MATLAB does for uint8."""
    gray = image.astype(np.float64) @ np.array(RGB2GRAY)
    return np.clip(np.round(gray), 0, 255)


def _cubic(x: np.ndarray) -> np.ndarray:
    absolute = np.abs(x)
    return (1.5 * absolute**3 - 2.5 * absolute**2 + 1) * (absolute <= 1) + (
        -0.5 * absolute**3 + 2.5 * absolute**2 - 4 * absolute + 2
    ) * ((absolute > 1) & (absolute <= 2))


def _resize_weights(length: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(indices, weights) of MATLAB ``imresize`` along one axis: bicubic, antialiased, symmetric borders."""
    kernel_width = 4.0 / scale
    out = np.arange(1, math.ceil(length * scale) + 1, dtype=np.float64)
    centre = out / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(centre - kernel_width / 2)
    taps = math.ceil(kernel_width) + 2
    indices = left[:, None] + np.arange(taps)[None, :]
    weights = scale * _cubic(scale * (centre[:, None] - indices))
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(length), np.arange(length - 1, -1, -1)])
    indices = mirror[np.mod(indices.astype(int) - 1, 2 * length)]
    used = np.any(weights != 0, axis=0)
    return indices[:, used], weights[:, used]


def imresize_half(image: np.ndarray) -> np.ndarray:
    """MATLAB ``imresize(image, 0.5)`` (bicubic, antialiased) of a 2-D float image: rows, then columns."""
    for axis in (0, 1):
        indices, weights = _resize_weights(image.shape[axis], 0.5)
        moved = np.moveaxis(image, axis, 0)
        image = np.moveaxis(np.einsum("ok,ok...->o...", weights, moved[indices]), 0, axis)
    return image


@lru_cache(maxsize=1)
def _gamma_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Over the grid of shapes ``a`` every fit searches: ``Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a))``,
    ``sqrt(Gamma(1/a) / Gamma(3/a))``, ``Gamma(1/a)`` and ``Gamma(2/a)`` (the same numbers scipy
    gives for one ``a``: a fit's alpha is always a grid point)."""
    from scipy.special import gamma

    first, second, third = gamma(1 / _GAMMA_GRID), gamma(2 / _GAMMA_GRID), gamma(3 / _GAMMA_GRID)
    return second**2 / (first * third), np.sqrt(first / third), first, second


def aggd_parameters(values: np.ndarray) -> tuple[float, float, float]:
    """(alpha, beta_left, beta_right) of an asymmetric generalised Gaussian, by moment matching."""
    return _aggd_fit(values)[:3]


def _aggd_fit(values: np.ndarray) -> tuple[float, float, float, float, float]:
    """:func:`aggd_parameters`, ``Gamma(1/alpha)`` and ``Gamma(2/alpha)`` (NaN where alpha is)."""
    ratios, spreads, gamma_first, gamma_second = _gamma_tables()
    values = values.reshape(-1)
    squares = values**2
    negative, positive = squares[values < 0], squares[values > 0]
    left = math.sqrt(np.mean(negative)) if negative.size else math.nan
    right = math.sqrt(np.mean(positive)) if positive.size else math.nan
    ratio = left / right
    r_hat = np.mean(np.abs(values)) ** 2 / np.mean(squares)
    r_hat_norm = r_hat * (ratio**3 + 1) * (ratio + 1) / (ratio**2 + 1) ** 2
    if not math.isfinite(r_hat_norm):
        return (math.nan,) * 5
    index = np.argmin((ratios - r_hat_norm) ** 2)
    spread = float(spreads[index])
    return float(_GAMMA_GRID[index]), left * spread, right * spread, float(gamma_first[index]), float(gamma_second[index])


def block_features(block: np.ndarray) -> list[float]:
    """The 18 NIQE features of one block of normalised coefficients."""
    alpha, beta_left, beta_right, _, _ = _aggd_fit(block)
    features = [alpha, (beta_left + beta_right) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (-1, 1)):  # MATLAB's circshift pairs
        alpha, beta_left, beta_right, gamma_first, gamma_second = _aggd_fit(block * np.roll(block, shift, axis=(0, 1)))
        features += [alpha, (beta_right - beta_left) * gamma_second / gamma_first, beta_left, beta_right]
    return features


def _gaussian_window() -> np.ndarray:
    """MATLAB ``fspecial('gaussian', 7, 7/6)``."""
    x = np.arange(-3, 4)
    window = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * (7 / 6) ** 2))
    return window / window.sum()


def niqe_of_gray(gray: np.ndarray, mu_pristine: np.ndarray, cov_pristine: np.ndarray) -> float:
    """NIQE of a 2-D gray image in 0..255 (float), given the pristine model.

    NaN when fewer than two blocks have all 36 features defined (a flat image has no contrast to
    fit); raises ``ValueError`` when a side is below one block (96 px).
    """
    from scipy.ndimage import correlate

    rows, columns = gray.shape[0] // BLOCK, gray.shape[1] // BLOCK
    if rows == 0 or columns == 0:
        raise ValueError(f"image is {gray.shape[1]}x{gray.shape[0]}; NIQE needs both sides >= {BLOCK}")
    image = gray[: rows * BLOCK, : columns * BLOCK].astype(np.float64)
    window = _gaussian_window()
    scales = []
    for scale in (1, 2):
        mu = correlate(image, window, mode="nearest")
        sigma = np.sqrt(np.abs(correlate(image * image, window, mode="nearest") - mu * mu))
        normalised = (image - mu) / (sigma + 1)
        size = BLOCK // scale
        scales.append(np.array([
            block_features(normalised[row * size : (row + 1) * size, column * size : (column + 1) * size])
            for column in range(columns) for row in range(rows)
        ]))
        if scale == 1:
            image = imresize_half(image)
    features = np.concatenate(scales, axis=1)
    complete = features[~np.isnan(features).any(axis=1)]
    if len(complete) < 2:
        # Too few blocks with contrast on both sides of zero to fit (a flat image): no covariance.
        return math.nan
    mu_image = np.nanmean(features, axis=0)
    cov_image = np.cov(complete, rowvar=False)
    difference = mu_pristine - mu_image
    return float(np.sqrt(difference @ np.linalg.pinv((cov_pristine + cov_image) / 2) @ difference))


@dataclass(frozen=True)
class NIQEOptions:
    #: Folder of network weights and models (see :mod:`bench.weights`); None: ``$BENCH_WEIGHTS_DIR``.
    weights_dir: Path | None = weights_dir_option()


class NIQE(Metric):
    """NIQE of the reconstruction (no reference), lower is better."""

    name = "niqe"
    columns = (Column("niqe", "NIQE", higher_is_better=False),)
    library = "scipy"
    Options = NIQEOptions

    def params_file(self) -> Path:
        return find_pristine_params(self.options.weights_dir)

    def check(self) -> None:
        load_pristine_params(self.params_file())

    def signature(self) -> str:
        return f"niqe-matlab:{weights_sha256(self.params_file())}"

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, object]:
        value = niqe_of_gray(rgb_to_gray(reconstruction), *load_pristine_params(self.params_file()))
        if math.isnan(value):
            # Undefined rather than an error: the row's other metrics stay valid.
            return {"niqe": value, "niqe_note": f"fewer than two {BLOCK} x {BLOCK} blocks with contrast to fit (a flat image): NIQE is undefined"}
        return {"niqe": value}
