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
import zlib
from copy import deepcopy
from pathlib import Path
from typing import Any, Mapping

import torch

from bench.models.hific import justin_tan
from bench.models.hific.checkpoint_file import CheckpointError, few_keys, read_checkpoint_file
from bench.models.hific.config import HiFiCConfig
from bench.models.hific.model import HiFiC

FORMAT = "codec-bench/hific"
FORMAT_VERSION = 1
#: Buffers whose size depends on the CDF tables; they are resized before loading.
_TABLE_BUFFERS = ("_quantized_cdf", "_offset", "_cdf_length")
_ENTROPY_MODULES = ("hyperprior.z_prior", "hyperprior.y_prior")


#: Dtypes the learned weights can be stored in; the model always computes in float32.
WEIGHT_DTYPES = {"float32": torch.float32, "float16": torch.float16}


def save_checkpoint(
    model: HiFiC, path: str | Path, card: Mapping[str, Any] | None = None, weights_dtype: str = "float32"
) -> Path:
    """Build the CDF tables and write ``model`` (and an optional card) to ``path``.

    ``weights_dtype="float16"`` halves the file. The parameters of a copy of ``model`` are
    rounded to float16 *before* its CDF tables are built, so that the tables, the likelihood
    estimate and the bitstream all come from the weights that ship; ``model`` itself is left
    as it was. The card records the dtype as ``weights_dtype``.
    """
    if weights_dtype not in WEIGHT_DTYPES:
        raise ValueError(f"weights_dtype {weights_dtype!r}: choose one of {', '.join(WEIGHT_DTYPES)}")
    dtype = WEIGHT_DTYPES[weights_dtype]
    if dtype != torch.float32:
        model = rounded_copy(model, dtype)
    model.update(force=True)
    parameters = {name for name, _ in model.named_parameters()}
    state = {
        key: value.detach().cpu().to(dtype) if key in parameters else value.detach().cpu()
        for key, value in model.state_dict().items()
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": model.config.to_json(),
            "card": json.dumps({**dict(card or {}), "weights_dtype": weights_dtype}, sort_keys=True),
            "state_dict": state,
        },
        path,
    )
    return path


def rounded_copy(model: HiFiC, dtype: torch.dtype) -> HiFiC:
    """A float32 copy of ``model`` whose parameters hold only values ``dtype`` can represent."""
    copy = deepcopy(model)
    with torch.no_grad():
        for parameter in copy.parameters():
            parameter.copy_(parameter.to(dtype).float())
    return copy


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


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[HiFiC, dict[str, Any]]:
    """Load our checkpoint format or a Justin-Tan port checkpoint; return (model in eval mode, card)."""
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
