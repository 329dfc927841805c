"""Fréchet distance between two sets of features (FID when they are Inception pool3 features).

    d^2 = |mu_1 - mu_2|^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})

with the sample means and unbiased covariances that pytorch-fid uses (``np.mean``,
``np.cov(rowvar=False)``). ``Tr (S_1 S_2)^{1/2}`` is computed as the sum of the square roots
of the eigenvalues of the symmetric matrix ``S_1^{1/2} S_2 S_1^{1/2}``, which has the same
spectrum as ``S_1 S_2``. This needs two symmetric eigendecompositions instead of
pytorch-fid's general ``scipy.linalg.sqrtm`` (about 7x faster at 2048 dimensions) and agrees
with ``pytorch_fid.fid_score.calculate_frechet_distance`` to 1e-6 relative (tested).
"""
from __future__ import annotations

import math

import numpy as np

from bench.metrics.base import PER_SET, Column
from bench.metrics.inception import InceptionPatchMetric


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of N x D features, in float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need an N x D feature array with N >= 2, got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_eigenvalues(matrix: np.ndarray) -> np.ndarray:
    """Eigenvalues of a symmetric PSD matrix, with rounding noise around zero set to zero."""
    eigenvalues = np.linalg.eigvalsh((matrix + matrix.T) / 2)
    # Rank-deficient covariances (N < D) have D - N + 1 zero eigenvalues that come out as
    # +-1e-16-scale noise; their square roots would add up to a visible bias.
    tolerance = max(eigenvalues.max(initial=0.0), 0.0) * len(eigenvalues) * np.finfo(np.float64).eps
    return np.where(eigenvalues > tolerance, eigenvalues, 0.0)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2)."""
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"feature dimensions differ: {mu1.shape} vs {mu2.shape}")
    eigenvalues, eigenvectors = np.linalg.eigh((sigma1 + sigma1.T) / 2)
    sqrt_sigma1 = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T
    trace_sqrt_product = np.sqrt(_psd_eigenvalues(sqrt_sigma1 @ sigma2 @ sqrt_sigma1)).sum()
    difference = mu1 - mu2
    return float(difference @ difference + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product)


def fid_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """Fréchet distance between the Gaussians fitted to two N x D feature sets."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


class FID(InceptionPatchMetric):
    """FID on HiFiC patches, per (dataset, codec, setting); lower is better."""

    name = "fid"
    columns = (Column("fid", "FID", higher_is_better=False, per=PER_SET),)

    def compute(self, reference_features: np.ndarray, reconstruction_features: np.ndarray) -> dict[str, float]:
        if min(len(reference_features), len(reconstruction_features)) < 2:
            return {"fid": math.nan}
        return {"fid": fid_from_features(reference_features, reconstruction_features)}
