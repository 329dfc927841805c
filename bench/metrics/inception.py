"""Pool3 features of the FID Inception-v3 (TensorFlow ``inception-2015-12-05``).

The network, its input resize (bilinear to 299 x 299) and normalisation (to [-1, 1]) are
pytorch-fid's :class:`pytorch_fid.inception.InceptionV3`, unchanged. Only where the weights
come from differs: with a weights directory (:mod:`bench.weights`) they are read from
``fid_inception_v3/pt_inception-2015-12-05_nofc.pth``, a copy of pytorch-fid's file
without the 1008-way ``fc`` layer, which pool3 features never use; without one,
pytorch-fid downloads its official file (``FID_WEIGHTS_URL``).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence
from unittest import mock

import numpy as np

from bench.device import resolve_device
from bench.metrics.base import DistributionMetric
from bench.metrics.patches import PATCH_SIZE, extract_patches
from bench.weights import WeightsError, load_state_dict, weights_dir_option, weights_file, weights_sha256

if TYPE_CHECKING:
    import torch

FEATURE_DIM = 2048
#: Keys a weights file may lack: the classifier, unused by pool3 features.
OPTIONAL_KEYS = frozenset({"fc.weight", "fc.bias"})


def _expected_state() -> dict[str, "torch.Tensor"]:
    """Names and (uninitialised) tensors of pytorch-fid's Inception state dict."""
    from pytorch_fid.inception import _inception_v3

    # pytorch-fid's FID blocks only change forward(); their parameter names are torchvision's.
    return _inception_v3(num_classes=1008, aux_logits=False, weights=None).state_dict()


def read_inception_state(path: Path) -> dict[str, "torch.Tensor"]:
    """The FID Inception state dict in ``path``, with an unused placeholder for a missing ``fc``.

    Raises :class:`WeightsError` listing the keys when the file lacks anything but
    ``fc.weight`` / ``fc.bias`` or holds keys the network does not have, and naming the
    file when ``torch.load(weights_only=True)`` cannot read it.
    """
    import torch

    state = load_state_dict(path)
    expected = _expected_state()
    missing = sorted(set(expected) - set(state) - OPTIONAL_KEYS)
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise WeightsError(
            f"{path.name} is not an FID Inception-v3 state dict (missing: {', '.join(missing) or 'none'}; "
            f"unexpected: {', '.join(unexpected) or 'none'}); only fc.* may be absent"
        )
    for key in OPTIONAL_KEYS - set(state):
        # NaN so that any accidental use of the classifier shows at once.
        state[key] = torch.full_like(expected[key], float("nan"))
    return state


@lru_cache(maxsize=None)
def load_inception(weights_path: Path | None = None, device: str = "cpu") -> "torch.nn.Module":
    """pytorch-fid's ``InceptionV3`` (pool3 block) in eval mode, built once per process.

    With ``weights_path`` the weights come from that file instead of pytorch-fid's
    download; the network is otherwise pytorch-fid's, loaded strictly.
    """
    from bench._torchvision import ensure_torchvision

    ensure_torchvision()
    import pytorch_fid.inception as fid_inception

    if weights_path is None:
        model = fid_inception.InceptionV3([fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIM]])
    else:
        state = read_inception_state(Path(weights_path))
        # pytorch-fid has no local-path option: hand it our state dict where it would download.
        with mock.patch.object(fid_inception, "load_state_dict_from_url", lambda *args, **kwargs: state):
            model = fid_inception.InceptionV3([fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIM]])
    return model.eval().to(device)


#: Patches per network call: on a CPU, batches beyond about 8 patches run slower per patch (24 cost
#: 1.7x as much per patch as 4 on this project's 2-core machine: the activations leave the caches);
#: a GPU keeps gaining up to larger ones. The features do not depend on it (tests/metrics/test_inception.py).
BATCH_SIZE = {"cpu": 4, "cuda": 32}


def inception_features(
    images: np.ndarray, model: "torch.nn.Module", batch_size: int | None = None
) -> np.ndarray:
    """Pool3 features (N x 2048 float32) of N x H x W x 3 uint8 images, ``batch_size`` at a time.

    The images are scaled to [0, 1] here; the model resizes them to 299 x 299 and scales
    to [-1, 1] as pytorch-fid does. ``batch_size`` None: :data:`BATCH_SIZE` of the model's device type.
    """
    import torch

    device = next(model.parameters()).device
    batch_size = batch_size or BATCH_SIZE.get(device.type, BATCH_SIZE["cpu"])
    features = np.empty((len(images), FEATURE_DIM), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size]))
            batch = batch.permute(0, 3, 1, 2).to(device, torch.float32) / 255.0
            pooled = model(batch)[0]
            features[start : start + len(batch)] = pooled.squeeze(3).squeeze(2).cpu().numpy()
    return features


@dataclass(frozen=True)
class InceptionOptions:
    #: Folder of network weights (see :mod:`bench.weights`); None: ``$BENCH_WEIGHTS_DIR``, else download.
    weights_dir: Path | None = weights_dir_option()


class InceptionPatchMetric(DistributionMetric):
    """Shared features of FID and KID: Inception pool3 of each image's HiFiC patches."""

    library = "pytorch-fid"
    Options = InceptionOptions

    def __init__(self, options: InceptionOptions | None = None) -> None:
        super().__init__(options)
        self.weights_path = weights_file("fid_inception_v3", self.options.weights_dir)
        weights_id = weights_sha256(self.weights_path) if self.weights_path else "pytorch-fid-download-6726825d"
        self._feature_key = f"inception-2015-12-05-pool3/hific-patches-{PATCH_SIZE}/{weights_id}"

    def model(self) -> "torch.nn.Module":
        # Resolved where the model is used, so that "auto" never touches CUDA in a process
        # that only constructs the metric.
        return load_inception(self.weights_path, resolve_device(self.device))

    def check(self) -> None:
        """Bad weights (the network is built once on the CPU), fail now.

        CUDA is not initialised here: the runner forks its workers afterwards.
        """
        load_inception(self.weights_path, "cpu")

    def feature_key(self) -> str:
        return self._feature_key

    def signature(self) -> str:
        # Stored rows hold features, which depend on exactly what the feature key names.
        return self._feature_key

    def features(self, image: np.ndarray) -> np.ndarray:
        return inception_features(extract_patches(image), self.model())

    def features_of_many(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        # The patches of all images in full batches (BATCH_SIZE), with the same features per patch
        # (tests/metrics/test_inception.py): images of fewer patches than a batch share calls.
        patches = [extract_patches(image) for image in images]
        features = inception_features(np.concatenate(patches), self.model())
        return np.split(features, np.cumsum([len(group) for group in patches])[:-1])
