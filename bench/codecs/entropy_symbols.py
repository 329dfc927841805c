"""The integer symbols CompressAI's entropy models decode, recorded during a model's ``decompress``.

Every CompressAI entropy model (``EntropyBottleneck``, ``GaussianConditional``) turns the
symbols its rANS decoder returns into latent values with ``dequantize(symbols, means)``, also
the autoregressive models' per-position decoding. Recording that method's input gives the
decoded latent as integers, which must be bit-exact on every machine, while the means added to
them are network outputs whose rounding may differ (another thread count, another device).
:func:`wrapped_entropy_models` is the instance-level patching this needs (complexity timing uses
it too).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import numpy as np

if TYPE_CHECKING:
    from torch import nn


@contextmanager
def wrapped_entropy_models(
    model: "nn.Module", names: Iterable[str], wrap: Callable[["nn.Module", Any], Any],
) -> Iterator[None]:
    """Within the block, each method in ``names`` of every CompressAI entropy model in ``model``
    is ``wrap(entropy model, original method)``: an instance attribute that shadows the class's
    method for that module only, removed afterwards."""
    from compressai.entropy_models import EntropyModel

    wrapped = []
    for module in model.modules():
        if isinstance(module, EntropyModel):
            for name in names:
                setattr(module, name, wrap(module, getattr(module, name)))
                wrapped.append((module, name))
    try:
        yield
    finally:
        for module, name in wrapped:
            delattr(module, name)


def decoded_symbols(model: "nn.Module", *args: Any) -> np.ndarray:
    """``model.decompress(*args)`` run for its decoded symbols: all of them, in decoding order, as one int64 array."""
    records: list[np.ndarray] = []

    def recorder(_module: Any, dequantize: Any) -> Any:
        def dequantize_and_record(inputs: Any, *more: Any, **kwargs: Any) -> Any:
            records.append(inputs.detach().cpu().numpy().astype(np.int64).ravel())
            return dequantize(inputs, *more, **kwargs)

        return dequantize_and_record

    with wrapped_entropy_models(model, ("dequantize",), recorder):
        model.decompress(*args)
    return np.concatenate(records) if records else np.zeros(0, np.int64)
