"""Kernel Inception Distance (Bińkowski et al. 2018), as torch-fidelity computes it.

KID is the unbiased estimate of the squared MMD with the cubic polynomial kernel
``k(x, y) = (x.y / D + 1)^3``, averaged over random subsets drawn without replacement from
each feature set; the mean and standard deviation over subsets are reported. The
computation is torch-fidelity's own ``kid_features_to_metric`` with its defaults (100
subsets of 1000, seed 2020), except that the subset size is capped at the smaller set's
size so that small sets (e.g. Kodak's 192 patches) still get a value. When the cap is hit,
every subset of the smaller set is the whole set, so the reported std understates the
estimator's spread (it is exactly 0 when both sets have the same size).
"""
from __future__ import annotations

import numpy as np

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
