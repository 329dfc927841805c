"""LPIPS (Zhang et al. 2018) through the ``lpips`` package, version 0.1.

The score is ``lpips.LPIPS(net=..., version="0.1")`` applied to the two images scaled to
[-1, 1], spatially averaged, so images of any size work. The linear calibration layers
ship inside the ``lpips`` wheel. The ImageNet backbone (AlexNet by default, as HiFiC
reports; SqueezeNet-1.1 with ``lpips_net="squeeze"``) is read from the weights directory
(:mod:`bench.weights`) into a randomly initialised trunk; without a weights directory the
package downloads it through torchvision as usual.

A reference image's trunk features are computed once for all its reconstructions
(:func:`reference_features`, :func:`lpips_prepared`: the steps of ``lpips.LPIPS.forward``
split in two, equal to it exactly).

The metric's :meth:`LPIPS.signature` names the LPIPS version, the network and the sha256 of
the backbone file, so changing either makes stored values stale.
"""
from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bench.constants import LPIPS_NETS
from bench.device import resolve_device
from bench.metrics.base import Column, Metric
from bench.options import option
from bench.weights import WeightsError, load_state_dict, weights_dir_option, weights_file, weights_sha256

if TYPE_CHECKING:
    import torch



def _backbone_key(key: str) -> str:
    """``features.3.weight`` / ``3.weight`` / ``net.slice2.3.weight`` -> ``3.weight``."""
    parts = key.split(".")
    if parts[0] == "features":
        parts = parts[1:]
    elif parts[0] == "net" and parts[1].startswith("slice"):
        parts = parts[2:]
    return ".".join(parts)


def load_backbone(model: "torch.nn.Module", path: Path) -> None:
    """Load torchvision ``features`` weights from ``path`` into an ``lpips.LPIPS`` trunk.

    The file may use ``features.N.*`` or bare ``N.*`` keys. Any key the trunk expects
    but the file lacks, or the other way round, raises :class:`WeightsError`, as does a
    file ``torch.load(weights_only=True)`` cannot read.
    """
    state = load_state_dict(path)
    trunk_keys = {_backbone_key(key): key for key in model.state_dict() if key.startswith("net.")}
    file_keys = {_backbone_key(key): key for key in state}
    missing = sorted(set(trunk_keys) - set(file_keys))
    unexpected = sorted(set(file_keys) - set(trunk_keys))
    if missing or unexpected:
        raise WeightsError(
            f"{path.name} does not fit the LPIPS {model.pnet_type} backbone "
            f"(missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(unexpected) or 'none'}); "
            "use the torchvision features weights for that network"
        )
    model.load_state_dict({trunk_keys[key]: state[file_keys[key]] for key in trunk_keys}, strict=False)


@lru_cache(maxsize=None)
def load_lpips(net: str = "alex", backbone_path: Path | None = None, device: str = "cpu") -> "torch.nn.Module":
    """An ``lpips.LPIPS`` v0.1 model in eval mode on ``device``, built once per process.

    With ``backbone_path`` the trunk is created randomly (``pnet_rand=True``) and then
    loaded from that file; with ``None`` the ``lpips`` package downloads it.
    """
    if net not in LPIPS_NETS:
        raise ValueError(f"unknown LPIPS network {net!r}; choose one of {', '.join(LPIPS_NETS)}")
    from bench._torchvision import ensure_torchvision

    ensure_torchvision()
    import lpips

    with warnings.catch_warnings():
        # lpips passes torchvision the deprecated ``pretrained=`` argument.
        warnings.simplefilter("ignore", UserWarning)
        model = lpips.LPIPS(net=net, version="0.1", pnet_rand=backbone_path is not None, verbose=False)
    if backbone_path is not None:
        load_backbone(model, backbone_path)
    return model.eval().to(device)


def to_lpips_tensor(image: np.ndarray, device: str = "cpu") -> "torch.Tensor":
    """H x W x 3 uint8 -> 1 x 3 x H x W float32 in [-1, 1], the range ``lpips`` expects."""
    import torch

    # A copy: reference images are read-only arrays, which torch.from_numpy warns about.
    tensor = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].to(device, torch.float32)
    return tensor / 127.5 - 1.0


def lpips_distance(reference: np.ndarray, reconstruction: np.ndarray, model: "torch.nn.Module") -> float:
    """LPIPS between two H x W x 3 uint8 images with an ``lpips.LPIPS`` ``model``."""
    import torch

    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")
    device = str(next(model.parameters()).device)
    with torch.no_grad():
        distance = model(to_lpips_tensor(reference, device), to_lpips_tensor(reconstruction, device))
    return float(distance.item())


class ReferenceFeatures(NamedTuple):
    """A reference image's shape and its unit-normalised trunk features, one per layer."""

    shape: tuple[int, ...]
    layers: list["torch.Tensor"]


def reference_features(reference: np.ndarray, model: "torch.nn.Module") -> ReferenceFeatures:
    """The features ``lpips.LPIPS.forward`` computes of its first input, for ``reference`` (H x W x 3 uint8)."""
    import lpips
    import torch

    device = str(next(model.parameters()).device)
    with torch.no_grad():
        layers = model.net.forward(model.scaling_layer(to_lpips_tensor(reference, device)))
        return ReferenceFeatures(reference.shape, [lpips.normalize_tensor(layer) for layer in layers])


def lpips_prepared(reference: ReferenceFeatures, reconstruction: np.ndarray, model: "torch.nn.Module") -> float:
    """:func:`lpips_distance` from the reference's :func:`reference_features`: the rest of
    ``lpips.LPIPS.forward`` (v0.1, learned layers, spatial average), step for step."""
    import lpips
    import torch

    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")
    device = str(next(model.parameters()).device)
    with torch.no_grad():
        layers = model.net.forward(model.scaling_layer(to_lpips_tensor(reconstruction, device)))
        total = 0
        for index, (first, layer) in enumerate(zip(reference.layers, layers)):
            total += lpips.lpips.spatial_average(model.lins[index]((first - lpips.normalize_tensor(layer)) ** 2), keepdim=True)
    return float(total.item())


@dataclass(frozen=True)
class LPIPSOptions:
    #: Backbone: ``alex`` (as HiFiC reports) or ``squeeze``.
    net: str = option(LPIPS_NETS[0], flag="--lpips-net", choices=LPIPS_NETS, help="LPIPS backbone")
    #: Folder of network weights (see :mod:`bench.weights`); None: ``$BENCH_WEIGHTS_DIR``, else download.
    weights_dir: Path | None = weights_dir_option()


class LPIPS(Metric):
    """LPIPS v0.1, lower is better."""

    name = "lpips"
    columns = (Column("lpips", "LPIPS", higher_is_better=False),)
    library = "lpips"
    Options = LPIPSOptions

    def __init__(self, options: LPIPSOptions | None = None) -> None:
        super().__init__(options)
        self.net = self.options.net
        if self.net not in LPIPS_NETS:
            raise ValueError(f"unknown LPIPS net {self.net!r} (--lpips-net); choose one of {', '.join(LPIPS_NETS)}")
        # Resolved now so that a missing file fails before any job runs.
        self.backbone_path = weights_file(f"lpips_{self.net}", self.options.weights_dir)

    def model(self) -> "torch.nn.Module":
        # The device is resolved where the model is used, so that "auto" never touches CUDA
        # in a process that only constructs the metric.
        return load_lpips(self.net, self.backbone_path, resolve_device(self.device))

    def check(self) -> None:
        """Bad weights (the model is built once on the CPU), fail now.

        CUDA is not initialised here: the runner forks its workers afterwards.
        """
        load_lpips(self.net, self.backbone_path, "cpu")

    def signature(self) -> str:
        backbone = weights_sha256(self.backbone_path) if self.backbone_path else "torchvision-download"
        return f"lpips-v0.1:{self.net}:{backbone}"

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        return {"lpips": lpips_distance(reference, reconstruction, self.model())}

    def prepare_reference(self, reference: np.ndarray) -> ReferenceFeatures:
        return reference_features(reference, self.model())

    def measure_prepared(self, prepared: ReferenceFeatures, reconstruction: np.ndarray) -> dict[str, float]:
        return {"lpips": lpips_prepared(prepared, reconstruction, self.model())}
