"""The integer symbols CompressAI's entropy models decode, recorded during a model's ``decompress``.

Every CompressAI entropy model (``EntropyBottleneck``, ``GaussianConditional``) turns the
symbols its rANS decoder returns into latent values with ``dequantize(symbols, means)``, also
the autoregressive models' per-position decoding. Recording that method's input gives the
decoded latent as integers, which must be bit-exact on every machine, while the means added to
them are network outputs whose rounding may differ (another thread count, another device).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

if TYPE_CHECKING:
    from torch import nn


@contextmanager
def recording_symbols(model: "nn.Module") -> Iterator[list[np.ndarray]]:
    """Within the block, every symbol tensor an entropy model of ``model`` decodes is appended
    (flattened, int64) to the list this yields."""
    from compressai.entropy_models import EntropyModel

    records: list[np.ndarray] = []
    entropy_models = [module for module in model.modules() if isinstance(module, EntropyModel)]

    def recorder(dequantize: Any) -> Any:
        def dequantize_and_record(inputs: Any, *args: Any, **kwargs: Any) -> Any:
            records.append(inputs.detach().cpu().numpy().astype(np.int64).ravel())
            return dequantize(inputs, *args, **kwargs)

        return dequantize_and_record

    for module in entropy_models:
        # An instance attribute shadows the class's static method for this module only.
        module.dequantize = recorder(module.dequantize)
    try:
        yield records
    finally:
        for module in entropy_models:
            del module.dequantize


def decoded_symbols(model: "nn.Module", decompress: Any, *args: Any) -> np.ndarray:
    """``decompress(*args)`` run for its decoded symbols: all of them, in decoding order, as one int64 array."""
    with recording_symbols(model) as records:
        decompress(*args)
    return np.concatenate(records) if records else np.zeros(0, np.int64)
