"""Where pretrained weights come from.

Metrics that need a pretrained network (LPIPS, DISTS, the FID Inception) read its weights from a
*weights directory* with one subfolder per network (see :data:`WEIGHTS_FILES`). The
directory is, in order of precedence:

1. the ``weights_dir`` argument (a metric's ``weights_dir`` option, CLI ``--weights-dir``),
2. the environment variable ``BENCH_WEIGHTS_DIR``.

With neither, :func:`weights_file` returns ``None`` and each metric falls back to its
library's own download (torchvision's AlexNet / SqueezeNet, pytorch-fid's Inception URL),
which is what users with internet access get by default.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from bench.constants import WEIGHTS_DIR_ENV
from bench.datasets import sha256_of
from bench.errors import BenchError
from bench.options import option

if TYPE_CHECKING:
    import torch


#: Network name -> (subfolder, accepted file names, first one preferred).
WEIGHTS_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    # The fc-less file is the one distributed here; pytorch-fid's own download also works.
    "fid_inception_v3": (
        "fid_inception_v3",
        ("pt_inception-2015-12-05_nofc.pth", "pt_inception-2015-12-05-6726825d.pth"),
    ),
    "lpips_alex": ("lpips_alexnet_features", ("alexnet_features_imagenet.pth",)),
    "lpips_squeeze": ("lpips_squeezenet1_1_features", ("squeezenet1_1_features.pth",)),
    # torchvision vgg16(weights="IMAGENET1K_V1").features.state_dict(), the trunk under DISTS.
    "dists_vgg16": ("dists_vgg16_features", ("vgg16_features_imagenet.pth",)),
}


class WeightsError(BenchError):
    """A weights directory or file that cannot be used, with a one-line reason and fix."""


def weights_dir_option() -> Any:
    """The ``weights_dir`` option field of every metric whose network weights this module finds (one ``--weights-dir``)."""
    return option(
        None, flag="--weights-dir", type=Path, metavar="DIR",
        help=f"folder with pretrained weights for lpips, dists, fid, kid and niqe, one sub-folder per network "
        f"(default: ${WEIGHTS_DIR_ENV}; if neither is set, the libraries download them)",
    )


def weights_dir(chosen: str | Path | None = None) -> Path | None:
    """The weights directory ``chosen``, else ``$BENCH_WEIGHTS_DIR``, else ``None``.

    Raises :class:`WeightsError` when the chosen directory does not exist.
    """
    chosen = chosen or os.environ.get(WEIGHTS_DIR_ENV)
    if not chosen:
        return None
    directory = Path(chosen).expanduser()
    if not directory.is_dir():
        raise WeightsError(
            f"weights directory {directory} does not exist; "
            f"pass an existing folder with --weights-dir or ${WEIGHTS_DIR_ENV}, or unset both to download"
        )
    return directory


def weights_file(network: str, directory: str | Path | None = None) -> Path | None:
    """The weights file of ``network`` (a key of :data:`WEIGHTS_FILES`), or ``None`` to download.

    Raises :class:`WeightsError` naming the expected file when a weights directory is set
    but does not hold it.
    """
    subfolder, names = WEIGHTS_FILES[network]
    directory = weights_dir(directory)
    if directory is None:
        return None
    for name in names:
        candidate = directory / subfolder / name
        if candidate.is_file():
            return candidate
    raise WeightsError(
        f"missing weights file {directory / subfolder / names[0]}; "
        f"put it there or point --weights-dir / ${WEIGHTS_DIR_ENV} at the folder that holds {subfolder}/"
    )


def load_state_dict(path: Path) -> dict[str, "torch.Tensor"]:
    """The tensors saved in ``path``, read with ``torch.load(weights_only=True)``.

    Raises :class:`WeightsError` naming the file when it cannot be read that way (truncated,
    corrupt, or not a state dict of tensors). Loading it unsafely is never the fix, so
    torch's own advice to do so is not passed on.
    """
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError... by failure kind
        raise WeightsError(
            f"cannot read weights file {path} ({type(exc).__name__}): it is corrupt or not a PyTorch state dict; "
            "replace it with the file listed under Weights in docs/metrics.md"
        ) from None
    if not isinstance(state, Mapping) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise WeightsError(
            f"weights file {path} is not a state dict of tensors; "
            "replace it with the file listed under Weights in docs/metrics.md"
        )
    return state


#: Hashing a weights file once per process is enough (the Inception file is 87 MB).
weights_sha256 = lru_cache(maxsize=None)(sha256_of)
