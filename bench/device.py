"""The torch device named by ``--device``: ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ..."""
from __future__ import annotations

from bench.errors import BenchError

AUTO = "auto"


class DeviceError(BenchError):
    """A ``--device`` value that is not a torch device, or names one torch cannot see."""


def resolve_device(name: str | None = AUTO) -> str:
    """The torch device string for a ``--device`` value.

    ``"auto"`` (or ``None`` / empty) is ``"cuda"`` when torch sees a CUDA device, else
    ``"cpu"``. Any other value must parse as a ``torch.device`` whose type torch can use
    here (and whose index exists); it is returned unchanged. Raises :class:`DeviceError`
    with a one-line reason otherwise.
    """
    import torch

    if not name or name == AUTO:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise DeviceError(f"--device {name!r} is not a torch device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cpu":
        return name
    # torch.accelerator covers CUDA, ROCm (as "cuda"), MPS, XPU... through one interface.
    accelerator = torch.accelerator.current_accelerator()
    if accelerator is None or accelerator.type != device.type:
        raise DeviceError(f"--device {name}: torch sees no {device.type} device here; use --device auto or cpu")
    count = torch.accelerator.device_count()
    if device.index is not None and device.index >= count:
        raise DeviceError(f"--device {name}: torch sees only {count} {device.type} device(s), numbered from 0")
    return name
