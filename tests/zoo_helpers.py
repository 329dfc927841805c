"""CompressAI zoo test helpers: zoo models with random weights, saved as the zoo names its files
(no zoo weights can be downloaded here)."""
from __future__ import annotations

import torch

from bench.codecs.compressai_zoo import _zoo, weight_file_name


def save_random_weights(folder, architecture, metric, quality, seed=0):
    """A randomly initialised zoo model's state dict, saved under the zoo's own file name."""
    torch.manual_seed(seed)
    model = _zoo().model_architectures[architecture](*_zoo().cfgs[architecture][quality])
    folder.mkdir(exist_ok=True)
    path = folder / weight_file_name(architecture, metric, quality)
    torch.save(model.state_dict(), path)
    return path
