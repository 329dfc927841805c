"""Reading a HiFiC checkpoint file safely, and the one-line errors of every checkpoint format.

``torch.load(..., weights_only=True)`` only: a file that pickles classes or functions is
refused with the names of what it pickles, never executed.
"""
from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from bench.errors import one_line, strip_ansi

_UNSUPPORTED_GLOBAL = re.compile(r"Unsupported global: GLOBAL (\S+)")
_WEIGHTS_UNPICKLER_REASON = re.compile(r"WeightsUnpickler error:(.*?)(?:Check the documentation|$)", re.S)


class CheckpointError(ValueError):
    """A checkpoint file that is not a HiFiC checkpoint this code can load."""


def few_keys(keys: list[str], limit: int = 6) -> str:
    if not keys:
        return "none"
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def read_checkpoint_file(path: str | Path) -> Any:
    """``torch.load(weights_only=True)`` with a one-line error for unreadable files."""
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"HiFiC checkpoint {path} does not exist") from None
    except pickle.UnpicklingError as exc:
        names = unsupported_globals(path, str(exc))
        if names:
            raise CheckpointError(
                f"{path} is not a plain state_dict checkpoint: it pickles {', '.join(names)}, which loading with "
                "weights_only=True refuses; save only tensors and plain Python values (a state_dict, numbers, strings)"
            ) from None
        raise CheckpointError(f"cannot read HiFiC checkpoint {path}: {unpickling_reason(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - zip, tar and pickle errors come in many types
        raise CheckpointError(f"cannot read HiFiC checkpoint {path}: not a file torch.save wrote ({one_line(exc)})") from None


def unsupported_globals(path: Path, message: str) -> list[str]:
    """The classes and functions a checkpoint pickles that ``weights_only`` loading refuses."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - not a zip checkpoint: torch's message names the first one
        names = _UNSUPPORTED_GLOBAL.findall(message)
    return sorted(set(names))


def unpickling_reason(exc: pickle.UnpicklingError) -> str:
    """Why a file without refused globals failed to unpickle, in one line."""
    reason = _WEIGHTS_UNPICKLER_REASON.search(strip_ansi(str(exc)))
    if reason is None:
        return f"not a file torch.save wrote ({one_line(exc)})"
    detail = " ".join(reason.group(1).split())
    return f"not a file torch.save wrote, or not a plain state_dict checkpoint (weights_only=True loading: {detail})"
