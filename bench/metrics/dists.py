"""DISTS (Ding et al. 2020) through the ``dists-pytorch`` package, lower is better.

``DISTS_pytorch.DISTS`` on the 10-bit RGB of :mod:`bench.metrics.ctc` in [0, 1], at full
resolution (the package's own ``prepare_image`` without its optional resize). The package
ships the learned alpha / beta weights; the ImageNet VGG16 trunk under them comes from
torchvision: read from the weights directory (:mod:`bench.weights`, ``dists_vgg16``: the
``features`` state dict of ``torchvision.models.vgg16(weights="IMAGENET1K_V1")``), or, with no
weights directory, downloaded by torchvision as usual. A reference image's trunk outputs are
computed once for all its reconstructions (:meth:`DISTS.prepare_reference`) and handed to the
package's own ``forward``, whose values they leave unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, NamedTuple
from unittest import mock

import numpy as np

from bench.device import resolve_device
from bench.metrics.base import Column, Metric
from bench.metrics.ctc import check_pair, ctc_rgb, to_tensor
from bench.weights import WeightsError, load_state_dict, weights_dir_option, weights_file, weights_sha256

if TYPE_CHECKING:
    import torch

def vgg16_features(backbone_path: Path | None) -> "torch.nn.Module":
    """torchvision's VGG16 ``features``: loaded from ``backbone_path``, else downloaded (ImageNet)."""
    from torchvision.models import vgg16

    if backbone_path is None:
        return vgg16(weights="IMAGENET1K_V1").features
    features = vgg16(weights=None).features
    state = {key.removeprefix("features."): value for key, value in load_state_dict(backbone_path).items()}
    expected = set(features.state_dict())
    if set(state) != expected:
        raise WeightsError(
            f"{backbone_path.name} is not a VGG16 features state dict (missing: {', '.join(sorted(expected - set(state))) or 'none'}; "
            f"unexpected: {', '.join(sorted(set(state) - expected)) or 'none'}); save torchvision vgg16(weights='IMAGENET1K_V1').features.state_dict()"
        )
    features.load_state_dict(state)
    return features


@lru_cache(maxsize=None)
def load_dists(backbone_path: Path | None = None, device: str = "cpu") -> "torch.nn.Module":
    """A ``DISTS_pytorch.DISTS`` in eval mode on ``device``, built once per process.

    The package builds its trunk with ``vgg16(pretrained=True)`` (a download) and reads its
    alpha / beta with a bare ``torch.load``; here the trunk is :func:`vgg16_features` and the
    alpha / beta file shipped inside the package is read with ``weights_only=True``.
    """
    from bench._torchvision import ensure_torchvision

    ensure_torchvision()
    from DISTS_pytorch import DISTS_pt

    trunk = SimpleNamespace(features=vgg16_features(backbone_path))
    with mock.patch.object(DISTS_pt.models, "vgg16", lambda **_: trunk):
        model = DISTS_pt.DISTS(load_weights=False)
    alpha_beta = load_state_dict(Path(str(resources.files("DISTS_pytorch") / "weights.pt")))
    model.alpha.data, model.beta.data = alpha_beta["alpha"], alpha_beta["beta"]
    return model.eval().to(device)


@dataclass(frozen=True)
class DISTSOptions:
    #: Folder of network weights (see :mod:`bench.weights`); None: ``$BENCH_WEIGHTS_DIR``, else download.
    weights_dir: Path | None = weights_dir_option()


class DISTS(Metric):
    name = "dists"
    columns = (Column("dists", "DISTS", higher_is_better=False),)
    library = "dists-pytorch"
    Options = DISTSOptions

    def backbone_path(self) -> Path | None:
        """The VGG16 trunk file, or None to download it; a weights folder without it raises
        :class:`WeightsError` (from :meth:`check`, so only when DISTS is chosen)."""
        return weights_file("dists_vgg16", self.options.weights_dir)

    def check(self) -> None:
        """Missing or bad weights (the model is built once on the CPU) fail now."""
        try:
            backbone_path = self.backbone_path()
        except WeightsError as exc:
            raise WeightsError(f"dists: {exc} (torchvision vgg16(weights='IMAGENET1K_V1').features.state_dict())") from None
        try:
            load_dists(backbone_path, "cpu")
        except WeightsError:
            raise
        except Exception as exc:  # noqa: BLE001 - torchvision's download fails in many ways offline
            raise WeightsError(
                f"dists: cannot get the ImageNet VGG16 trunk ({type(exc).__name__}); save torchvision "
                "vgg16(weights='IMAGENET1K_V1').features.state_dict() as dists_vgg16/vgg16_features_imagenet.pth "
                "in the folder given by --weights-dir or $BENCH_WEIGHTS_DIR"
            ) from exc

    def signature(self) -> str:
        backbone_path = self.backbone_path()
        backbone = weights_sha256(backbone_path) if backbone_path else "torchvision-download"
        return f"dists-pytorch:{backbone}:rgb-10bit"

    def model(self) -> "torch.nn.Module":
        return load_dists(self.backbone_path(), resolve_device(self.device))

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        import torch

        check_pair(reference, reconstruction)
        model = self.model()
        device = model.alpha.device
        with torch.no_grad():
            score = model(to_tensor(ctc_rgb(reference)).to(device), to_tensor(ctc_rgb(reconstruction)).to(device))
        return {"dists": float(score)}

    def prepare_reference(self, reference: np.ndarray) -> ReferenceFeatures:
        import torch

        model = self.model()
        with torch.no_grad():
            return ReferenceFeatures(reference.shape, model.forward_once(to_tensor(ctc_rgb(reference)).to(model.alpha.device)))

    def measure_prepared(self, prepared: ReferenceFeatures, reconstruction: np.ndarray) -> dict[str, float]:
        if prepared.shape != reconstruction.shape:
            raise ValueError(f"shape mismatch: reference {prepared.shape} vs reconstruction {reconstruction.shape}")
        model = self.model()
        return {"dists": float(with_first_features(model, prepared.layers, to_tensor(ctc_rgb(reconstruction)).to(model.alpha.device)))}


class ReferenceFeatures(NamedTuple):
    """A reference image's shape and the trunk outputs ``DISTS.forward_once`` gives for it."""

    shape: tuple[int, ...]
    layers: list["torch.Tensor"]


def with_first_features(model: "torch.nn.Module", first: list["torch.Tensor"], second: "torch.Tensor") -> "torch.Tensor":
    """``model(x, second)`` (the package's own ``DISTS.forward``) for the ``x`` whose
    ``forward_once`` outputs are ``first``: its first trunk pass is answered with them."""
    import torch

    own = model.forward_once
    answers = iter([lambda _: first, own])
    model.forward_once = lambda x: next(answers)(x)
    try:
        with torch.no_grad():
            return model(second, second)
    finally:
        del model.forward_once
