"""Our HiFiC checkpoint format.

One ``torch.save`` file holding only plain data, so it loads with ``weights_only=True``::

    {"format": "codec-bench/hific", "format_version": 1,
     "config": <HiFiCConfig as JSON>, "card": <JSON object: training facts, target_rate, ...>,
     "state_dict": <HiFiC state dict, CDF tables included>}

The CDF tables of both entropy models are computed (``update()``) when saving and stored
in the state dict, so loading never recomputes them: the decoder codes with exactly the
tables the encoder used.
"""
from __future__ import annotations

import json
import pickle
import re
import zlib
from pathlib import Path
from typing import Any, Mapping

import torch

from bench.codecs.hific.config import HiFiCConfig
from bench.codecs.hific.model import HiFiC

FORMAT = "codec-bench/hific"
FORMAT_VERSION = 1
#: Buffers whose size depends on the CDF tables; they are resized before loading.
_TABLE_BUFFERS = ("_quantized_cdf", "_offset", "_cdf_length")
_ENTROPY_MODULES = ("hyperprior.z_prior", "hyperprior.y_prior")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
_UNSUPPORTED_GLOBAL = re.compile(r"Unsupported global: GLOBAL (\S+)")
_WEIGHTS_UNPICKLER_REASON = re.compile(r"WeightsUnpickler error:(.*?)(?:Check the documentation|$)", re.S)


class CheckpointError(ValueError):
    """A checkpoint file that is not a HiFiC checkpoint this code can load."""


def save_checkpoint(model: HiFiC, path: str | Path, card: Mapping[str, Any] | None = None) -> Path:
    """Build the CDF tables and write ``model`` (and an optional card) to ``path``."""
    model.update(force=True)
    state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": model.config.to_json(),
            "card": json.dumps(dict(card or {}), sort_keys=True),
            "state_dict": state,
        },
        path,
    )
    return path


def load_state_into(model: HiFiC, state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    """Load ``state_dict`` strictly; fail with one line naming the keys that differ."""
    expected = set(model.state_dict())
    given = set(state_dict)
    missing, unexpected = sorted(expected - given), sorted(given - expected)
    if missing or unexpected:
        raise CheckpointError(
            f"{source}: state dict does not match the HiFiC {model.config.name} model: "
            f"missing {few_keys(missing)}; unexpected {few_keys(unexpected)}"
        )
    for module_name in _ENTROPY_MODULES:
        module = model.get_submodule(module_name)
        for buffer in _TABLE_BUFFERS:
            table = state_dict[f"{module_name}.{buffer}"]
            if table.numel() == 0:
                raise CheckpointError(f"{source}: {module_name} has no CDF tables; save it with save_checkpoint()")
            getattr(module, buffer).resize_(table.shape)
    mismatched = [k for k, v in model.state_dict().items() if tuple(v.shape) != tuple(state_dict[k].shape)]
    if mismatched:
        raise CheckpointError(f"{source}: tensor shapes differ from the config for {few_keys(mismatched)}")
    model.load_state_dict(dict(state_dict))


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
    reason = _WEIGHTS_UNPICKLER_REASON.search(_ANSI_ESCAPE.sub("", str(exc)))
    if reason is None:
        return f"not a file torch.save wrote ({one_line(exc)})"
    detail = " ".join(reason.group(1).split())
    return f"not a file torch.save wrote, or not a plain state_dict checkpoint (weights_only=True loading: {detail})"


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, without terminal colour codes."""
    text = " ".join(_ANSI_ESCAPE.sub("", str(exc)).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[HiFiC, dict[str, Any]]:
    """Load our checkpoint format or a Justin-Tan port checkpoint; return (model in eval mode, card)."""
    from bench.codecs.hific import justin_tan

    data = read_checkpoint_file(path)
    if justin_tan.is_justin_tan_checkpoint(data):
        model, card = justin_tan.load_justin_tan(data, source=str(path))
    elif isinstance(data, dict) and data.get("format") == FORMAT:
        if data.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(f"{path}: checkpoint format version {data.get('format_version')} is not supported")
        model = HiFiC(HiFiCConfig.from_json(data["config"]))
        load_state_into(model, data["state_dict"], source=str(path))
        card = json.loads(data.get("card") or "{}")
    else:
        raise CheckpointError(
            f"{path} is neither a codec-bench HiFiC checkpoint nor a Justin-Tan port checkpoint "
            "(expected a dict with format='codec-bench/hific' or with 'model_state_dict')"
        )
    return model.to(device).eval(), card


def fingerprint(model: HiFiC) -> int:
    """CRC-32 of the config and the CDF tables: identifies the coding model in a bitstream."""
    crc = zlib.crc32(model.config.to_json().encode("utf-8"))
    for module_name in _ENTROPY_MODULES:
        module = model.get_submodule(module_name)
        for buffer in _TABLE_BUFFERS:
            crc = zlib.crc32(getattr(module, buffer).detach().cpu().numpy().tobytes(), crc)
    return crc & 0xFFFFFFFF
