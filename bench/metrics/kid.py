"""Kernel Inception Distance (Bińkowski et al. 2018), as torch-fidelity computes it.

KID is the unbiased estimate of the squared MMD with the cubic polynomial kernel
``k(x, y) = (x.y / D + 1)^3``, averaged over random subsets drawn without replacement from
each feature set; the mean and standard deviation over subsets are reported. The
computation is torch-fidelity's own ``kid_features_to_metric`` with its defaults (100
subsets of 1000, seed 2020), except that the subset size is capped at the smaller set's
size so that small sets (e.g. Kodak's 192 patches) still get a value. When the cap is hit,
every subset of the smaller set is the whole set, so the std over subsets understates the
estimator's spread; it is exactly 0 when both sets have the same size, and :class:`KID`
then reports it as NaN.
"""
from __future__ import annotations

import math

import numpy as np

from bench.metrics.inception import InceptionPatchMetric

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
KID_SEED = 2020


def kid_from_features(
    features1: np.ndarray,
    features2: np.ndarray,
    subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    seed: int = KID_SEED,
) -> tuple[float, float]:
    """KID ``(mean, std)`` over ``subsets`` subsets of ``min(subset_size, N1, N2)`` features each."""
    import torch

    from bench._torchvision import ensure_torchvision

    ensure_torchvision()
    from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

    if min(len(features1), len(features2)) < 2:
        raise ValueError(f"KID needs at least 2 features per set, got {len(features1)} and {len(features2)}")
    result = kid_features_to_metric(
        torch.from_numpy(np.asarray(features1, dtype=np.float64)),
        torch.from_numpy(np.asarray(features2, dtype=np.float64)),
        kid_subsets=subsets,
        kid_subset_size=min(subset_size, len(features1), len(features2)),
        rng_seed=seed,
        verbose=False,
    )
    return result[KEY_METRIC_KID_MEAN], result[KEY_METRIC_KID_STD]


class KID(InceptionPatchMetric):
    """KID mean and std on HiFiC patches, per (dataset, codec, setting); lower is better."""

    name = "kid"
    columns = ("kid_mean", "kid_std")
    library = "torch-fidelity"

    def compute(self, reference_features: np.ndarray, reconstruction_features: np.ndarray) -> dict[str, float]:
        if min(len(reference_features), len(reconstruction_features)) < 2:
            return {"kid_mean": math.nan, "kid_std": math.nan}
        mean, std = kid_from_features(reference_features, reconstruction_features)
        if len(reference_features) == len(reconstruction_features) <= KID_SUBSET_SIZE:
            # Every "subset" is then both whole sets: torch-fidelity's std is 0 by construction,
            # which would read as certainty. There is no spread estimate, so say so.
            std = math.nan
        return {"kid_mean": mean, "kid_std": std}
