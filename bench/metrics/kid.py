"""Kernel Inception Distance (Bińkowski et al. 2018), as torch-fidelity computes it.

KID is the unbiased estimate of the squared MMD with the cubic polynomial kernel
``k(x, y) = (x.y / D + 1)^3``, averaged over random subsets drawn without replacement from
each feature set; the mean and standard deviation over subsets are reported. Both come
from torch-fidelity's own ``kid_features_to_metric`` with its defaults (100 subsets, seed
2020); only the subset size adapts to small sets, where ``n`` is the smaller set's size:

* ``kid_mean``: subsets of ``min(1000, n)``. With ``n <= 1000`` and sets of equal size each
  subset is the whole set, so this is exactly the full-sample unbiased MMD^2 estimate.
* ``kid_std``: subsets of ``min(1000, n // 2)``. Subsets of the whole set would all be equal
  (std 0 by construction), and subsets of nearly all of it nearly so; halves of the set
  differ, so the std is a real, conservative spread: it is the spread of the estimator at
  half the sample size, larger than that of ``kid_mean`` itself.

From ``n >= 2000`` on, both are torch-fidelity's default numbers exactly.
"""
from __future__ import annotations

import math

import numpy as np

from bench.metrics.base import PER_SET, Column
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
    """KID ``(mean, std)`` over ``subsets`` random subsets of each feature set.

    With ``n = min(N1, N2)``, the mean is over subsets of ``min(subset_size, n)`` features
    and the std over subsets of ``min(subset_size, n // 2)`` (NaN when that is below 2); see
    the module docstring for why.
    """
    import torch

    from bench._torchvision import ensure_torchvision

    ensure_torchvision()
    from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

    smaller = min(len(features1), len(features2))
    if smaller < 2:
        raise ValueError(f"KID needs at least 2 features per set, got {len(features1)} and {len(features2)}")
    first = torch.from_numpy(np.asarray(features1, dtype=np.float64))
    second = torch.from_numpy(np.asarray(features2, dtype=np.float64))

    def over_subsets_of(size: int) -> dict[str, float]:
        return kid_features_to_metric(
            first, second, kid_subsets=subsets, kid_subset_size=size, rng_seed=seed, verbose=False
        )

    mean_size, std_size = min(subset_size, smaller), min(subset_size, smaller // 2)
    mean_result = over_subsets_of(mean_size)
    if std_size == mean_size:
        std = mean_result[KEY_METRIC_KID_STD]
    else:
        std = over_subsets_of(std_size)[KEY_METRIC_KID_STD] if std_size >= 2 else math.nan
    return mean_result[KEY_METRIC_KID_MEAN], std


class KID(InceptionPatchMetric):
    """KID mean and std on HiFiC patches, per (dataset, codec, setting); lower is better."""

    name = "kid"
    columns = (
        Column("kid_mean", "KID", higher_is_better=False, per=PER_SET, spread="kid_std"),
        Column("kid_std", "KID std over subsets", higher_is_better=False, per=PER_SET, plotted=False),
    )
    library = "torch-fidelity"

    def compute(self, reference_features: np.ndarray, reconstruction_features: np.ndarray) -> dict[str, float]:
        if min(len(reference_features), len(reconstruction_features)) < 2:
            return {"kid_mean": math.nan, "kid_std": math.nan}
        mean, std = kid_from_features(reference_features, reconstruction_features)
        return {"kid_mean": mean, "kid_std": std}
