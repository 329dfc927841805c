"""Checkpoints of the Justin-Tan PyTorch port (high-fidelity-generative-compression).

That port's ``hific_low.pt`` / ``hific_med.pt`` / ``hific_hi.pt`` hold
``{"model_state_dict": ..., "args": {...}, ...}`` with modules named ``Encoder``,
``Generator``, ``Hyperprior`` (and ``Discriminator``, unused here). Its layers are the
same as ours in the same order; what differs is names and layout:

* ChannelNorm ``gamma``/``beta`` of shape (1, C, 1, 1) are our ``weight``/``bias`` (C,).
* Convolutions sit at index 1 of ``nn.Sequential`` blocks behind a padding layer
  (``conv_block1.1``), the generator's transposed convolutions at index 0.
* The hyperprior's mean/scale branches are ``synthesis_mu``/``synthesis_std``.
* Its factorized prior ``hyperlatent_likelihood.{H,b,a}_k`` are CompressAI's
  ``matrices``/``biases``/``factors``; ``a_3`` (a factor after the last layer, which
  CompressAI lacks) goes to ``FactorizedPrior.final_factor``.

The port stores no quantiles or CDF tables: loading finds the prior's quantiles with
CompressAI's search and builds the tables once.

The model follows the port's coding rules (``PORT_RULES`` in ``config.py``), so that it
decodes as the port does: z rounded without offset, ties rounded up, y coded around the raw
means, images reflected to multiples of 16 and y to multiples of 4. The port's options that
change the model are read from its ``args``: ``normalize_input_image`` (``-norm``) and
``likelihood_type`` (``gaussian`` or ``logistic``); any other option we cannot follow is
refused in one line naming it.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from bench.models.hific.checkpoint_file import CheckpointError, few_keys
from bench.models.hific.config import PORT_RULES, RULE_CHOICES, HiFiCConfig
from bench.models.hific.model import HiFiC


def is_justin_tan_checkpoint(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("model_state_dict"), Mapping)
        and any(key.startswith("Encoder.") for key in data["model_state_dict"])
    )


def _norm(ours: str, theirs: str) -> list[tuple[str, str, bool]]:
    return [(f"{ours}.weight", f"{theirs}.gamma", True), (f"{ours}.bias", f"{theirs}.beta", True)]


def _conv(ours: str, theirs: str) -> list[tuple[str, str, bool]]:
    return [(f"{ours}.weight", f"{theirs}.weight", False), (f"{ours}.bias", f"{theirs}.bias", False)]


def key_map(config: HiFiCConfig) -> list[tuple[str, str, bool]]:
    """(our key, Justin-Tan key, is a ChannelNorm vector) for every learned tensor."""
    pairs: list[tuple[str, str, bool]] = []
    for i in range(5):
        pairs += _conv(f"encoder.stages.{i}.conv", f"Encoder.conv_block{i + 1}.1")
        pairs += _norm(f"encoder.stages.{i}.norm", f"Encoder.conv_block{i + 1}.2")
    pairs += _conv("encoder.project.1", "Encoder.conv_block_out.1")
    pairs += _norm("generator.input_norm", "Generator.conv_block_init.0")
    pairs += _conv("generator.head.1", "Generator.conv_block_init.2")
    pairs += _norm("generator.head_norm", "Generator.conv_block_init.3")
    for m in range(config.residual_blocks):
        for part in ("conv1", "conv2"):
            pairs += _conv(f"generator.blocks.{m}.{part}", f"Generator.resblock_{m}.{part}")
        for part in ("norm1", "norm2"):
            pairs += _norm(f"generator.blocks.{m}.{part}", f"Generator.resblock_{m}.{part}")
    for i in range(4):
        pairs += _conv(f"generator.up.{i}.conv", f"Generator.upconv_block{i + 1}.0")
        pairs += _norm(f"generator.up.{i}.norm", f"Generator.upconv_block{i + 1}.1")
    pairs += _conv("generator.output.1", "Generator.conv_block_out.1")
    for ours, theirs in (("analysis", "analysis_net"), ("synthesis_mean", "synthesis_mu"), ("synthesis_scale", "synthesis_std")):
        for part in ("conv1", "conv2", "conv3"):
            pairs += _conv(f"hyperprior.{ours}.{part}", f"Hyperprior.{theirs}.{part}")
    prior = "Hyperprior.hyperlatent_likelihood"
    layers = len(config.z_prior_filters) + 1
    for k in range(layers):
        pairs.append((f"hyperprior.z_prior.matrices.{k}", f"{prior}.H_{k}", False))
        pairs.append((f"hyperprior.z_prior.biases.{k}", f"{prior}.b_{k}", False))
        factor = f"hyperprior.z_prior.factors.{k}" if k < layers - 1 else "hyperprior.z_prior.final_factor"
        pairs.append((factor, f"{prior}.a_{k}", False))
    return pairs


#: Port options (its ``args``) that change the model, with the value we can follow.
UNSUPPORTED_OPTIONS = {"sample_noise": False, "use_latent_mixture_model": False, "use_channel_norm": True}


def config_from_state_dict(state: Mapping[str, torch.Tensor], args: Mapping[str, Any]) -> HiFiCConfig:
    """Read the sizes off the tensors (the port's widths changed between its versions), and
    the options that change coding off ``args``."""
    for option, supported in UNSUPPORTED_OPTIONS.items():
        if option in args and bool(args[option]) != supported:
            raise CheckpointError(
                f"Justin-Tan checkpoint was trained with {option}={args[option]!r}, which codec-bench cannot "
                f"decode as the port does (only {option}={supported}); use a checkpoint without it"
            )
    likelihood = str(args.get("likelihood_type", "gaussian"))
    if likelihood not in RULE_CHOICES["likelihood"]:
        raise CheckpointError(
            f"Justin-Tan checkpoint uses likelihood_type={likelihood!r}; codec-bench follows {' and '.join(RULE_CHOICES['likelihood'])} only"
        )
    try:
        encoder = tuple(state[f"Encoder.conv_block{i}.1.weight"].shape[0] for i in range(1, 6))
        generator = (state["Generator.conv_block_init.2.weight"].shape[0],) + tuple(
            state[f"Generator.upconv_block{i}.0.weight"].shape[1] for i in range(1, 5)
        )
        latent = state["Encoder.conv_block_out.1.weight"].shape[0]
        hyper = state["Hyperprior.analysis_net.conv1.weight"].shape[0]
    except KeyError as exc:
        raise CheckpointError(f"Justin-Tan checkpoint lacks {exc.args[0]!r}; is it a HiFiC model?") from None
    blocks = len({key.split(".")[1] for key in state if key.startswith("Generator.resblock_")})
    prior_layers = len([key for key in state if key.startswith("Hyperprior.hyperlatent_likelihood.H_")])
    return HiFiCConfig(
        name="justin-tan",
        encoder_channels=encoder,
        latent_channels=latent,
        hyper_channels=hyper,
        generator_channels=generator,
        residual_blocks=blocks,
        z_prior_filters=tuple(state[f"Hyperprior.hyperlatent_likelihood.H_{k}"].shape[1] for k in range(prior_layers - 1)),
        z_prior_final_factor=True,
        likelihood=likelihood,
        normalize_input=bool(args.get("normalize_input_image", False)),
        **PORT_RULES,
    )


def to_ours(state: Mapping[str, torch.Tensor], config: HiFiCConfig) -> dict[str, torch.Tensor]:
    """Rename and reshape the port's tensors into our layout (learned tensors only)."""
    pairs = key_map(config)
    used = {theirs for _, theirs, _ in pairs}
    ignored = ("Discriminator.", "Hyperprior.hyperprior_entropy_model.", "Hyperprior.prior_")
    unexpected = sorted(k for k in state if k not in used and not k.startswith(ignored))
    missing = sorted(theirs for _, theirs, _ in pairs if theirs not in state)
    if missing or unexpected:
        raise CheckpointError(
            f"Justin-Tan checkpoint does not match the HiFiC layout: missing {few_keys(missing)}; unexpected {few_keys(unexpected)}"
        )
    return {ours: state[theirs].reshape(-1) if is_norm else state[theirs] for ours, theirs, is_norm in pairs}


def from_ours(state: Mapping[str, torch.Tensor], config: HiFiCConfig) -> dict[str, torch.Tensor]:
    """Our learned tensors in the port's names and shapes (the inverse of :func:`to_ours`)."""
    return {
        theirs: state[ours].reshape(1, -1, 1, 1) if is_norm else state[ours] for ours, theirs, is_norm in key_map(config)
    }


def load_justin_tan(data: Mapping[str, Any], source: str = "Justin-Tan checkpoint") -> tuple[HiFiC, dict[str, Any]]:
    """Build our model from a loaded Justin-Tan checkpoint dict; tables computed once here."""
    state = data["model_state_dict"]
    args = data.get("args") or {}
    if not isinstance(args, Mapping):
        args = {}
    config = config_from_state_dict(state, args)
    model = HiFiC(config)
    with torch.no_grad():
        for key, value in to_ours(state, config).items():
            model.get_parameter(key).copy_(value)
    # The port keeps no quantiles: search them (median and tails), then build the CDF tables
    # (on the integers: the port's rule sets the medians to 0, see Hyperprior.update).
    model.hyperprior.z_prior.update(force=True, update_quantiles=True)
    model.hyperprior.update()
    card = {"source": "Justin-Tan/high-fidelity-generative-compression", "steps": data.get("steps")}
    return model, {k: v for k, v in card.items() if v is not None}
