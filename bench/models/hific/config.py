"""HiFiC model configuration: one dataclass, three named presets.

Every width, the latent size and the residual-block count live here, so that a checkpoint
can store its configuration as JSON and rebuild exactly the same network. The fields that
shape the bitstream (scale table, mean grid, index margin) are part of the configuration
too: two models that code differently never share a configuration.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

#: Encoder downsampling (four stride-2 convolutions) times hyper-analysis downsampling
#: (two stride-2 convolutions): images are padded to a multiple of this.
PAD_MULTIPLE = 64


@dataclass(frozen=True)
class HiFiCConfig:
    """Sizes of the HiFiC networks and the constants of their entropy coding.

    The defaults are the published sizes (Mentzer et al., 2020; the ``paper`` preset).
    """

    name: str = "paper"
    #: Output channels of the 7x7 input convolution and of the four stride-2 convolutions.
    encoder_channels: tuple[int, ...] = (60, 120, 240, 480, 960)
    #: Channels of the latent y (the paper's C).
    latent_channels: int = 220
    #: Channels of the hyper-latent z and of the hyper-networks' hidden layers.
    hyper_channels: int = 320
    #: Width of the residual trunk, then of the four transposed convolutions.
    generator_channels: tuple[int, ...] = (960, 480, 240, 120, 60)
    residual_blocks: int = 9
    #: Conditional PatchGAN: channels of the four 4x4 convolutions before the 1-channel output.
    discriminator_channels: tuple[int, ...] = (64, 128, 256, 512)
    #: Channels the latent is projected to before it is upsampled and concatenated to the image.
    discriminator_latent_channels: int = 12
    #: Gaussian scale table: ``scale_levels`` values log-spaced in [scale_min, scale_max].
    scale_min: float = 0.11
    scale_max: float = 256.0
    scale_levels: int = 64
    #: Means are rounded to multiples of this before coding (see ``entropy.py``); 0 codes
    #: around the means as the network gives them (the Justin-Tan port).
    mean_step: float = 2.0**-6
    #: A scale whose log lies within this (relative) distance of a table boundary is
    #: listed in the bitstream as ambiguous, so float noise cannot flip its index.
    index_margin: float = 1e-5
    #: Hidden widths of the factorized prior's per-channel density network (TF HiFiC: 3, 3, 3).
    z_prior_filters: tuple[int, ...] = (3, 3, 3)
    #: The Justin-Tan port's factorized prior applies its tanh "factor" after the last
    #: layer too; CompressAI's does not. True only for models mapped from that port.
    z_prior_final_factor: bool = False
    # -- coding rules: how the image becomes symbols (see ``coding_rules``). Our models use
    # -- the defaults; models mapped from the Justin-Tan port use that port's rules.
    #: z's symbols: ``median``, round(z - median) + median (CompressAI's EntropyBottleneck);
    #: ``integer``, z rounded itself (the port; the prior's medians are then 0).
    z_quantization: str = "median"
    #: Ties of every rounding: ``half_even`` (torch.round) or ``half_up`` (floor(v + 0.5), the port's).
    rounding: str = "half_even"
    #: ``replicate64``: x edge-replicated to multiples of 64. ``reflect16``: x reflected to
    #: multiples of 16, then y to multiples of 4 (the port's).
    padding: str = "replicate64"
    #: The standardized distribution of y given its mean and scale: ``gaussian`` or ``logistic``.
    likelihood: str = "gaussian"
    #: The port's ``-norm``: the encoder sees 2x - 1 and the image is (tanh(G(y_hat)) + 1) / 2.
    normalize_input: bool = False
    #: Added to each likelihood before its log when estimating bits (the port counts -log2(p + 1e-9)).
    #: It changes the rate estimate, never the bitstream.
    likelihood_epsilon: float = 0.0

    def __post_init__(self) -> None:
        if len(self.encoder_channels) != 5 or len(self.generator_channels) != 5:
            raise ValueError("HiFiCConfig: encoder_channels and generator_channels need 5 widths each")
        if self.residual_blocks < 0:
            raise ValueError("HiFiCConfig: residual_blocks must be >= 0")
        for field_name, allowed in RULE_CHOICES.items():
            if getattr(self, field_name) not in allowed:
                raise ValueError(f"HiFiCConfig: {field_name} {getattr(self, field_name)!r}; choose one of {', '.join(allowed)}")

    def to_json(self) -> str:
        """The configuration as JSON. Coding rules at their defaults are left out, so that a
        model's JSON (and the fingerprint its bitstreams carry) reads as it did before the
        rules were configurable."""
        values = dataclasses.asdict(self)
        for name, default in RULE_DEFAULTS.items():
            if values[name] == default:
                del values[name]
        return json.dumps(values, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "HiFiCConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"HiFiCConfig: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        tuples = {f.name for f in dataclasses.fields(cls) if f.type.startswith("tuple")}
        return cls(**{k: tuple(v) if k in tuples else v for k, v in values.items()})

    @classmethod
    def from_json(cls, text: str) -> "HiFiCConfig":
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> "HiFiCConfig":
        return dataclasses.replace(self, **changes)


#: Allowed values of the coding-rule fields that take names.
RULE_CHOICES = {
    "z_quantization": ("median", "integer"),
    "rounding": ("half_even", "half_up"),
    "padding": ("replicate64", "reflect16"),
    "likelihood": ("gaussian", "logistic"),
}
RULE_DEFAULTS = {
    field.name: field.default for field in dataclasses.fields(HiFiCConfig)
    if field.name in (*RULE_CHOICES, "normalize_input", "likelihood_epsilon")
}
#: The Justin-Tan port's rules (its ``src/hyperprior.py``, ``src/compression/``, ``src/model.py``).
PORT_RULES = {
    "z_quantization": "integer", "rounding": "half_up", "padding": "reflect16", "mean_step": 0.0, "likelihood_epsilon": 1e-9,
}


def coding_rules(config: HiFiCConfig) -> int:
    """The coding rules as the flag byte a bitstream header carries (0: all of ours)."""
    flags = (
        config.z_quantization == "integer",
        config.rounding == "half_up",
        config.mean_step == 0.0,
        config.padding == "reflect16",
        config.likelihood == "logistic",
        config.normalize_input,
    )
    return sum(1 << bit for bit, flag in enumerate(flags) if flag)


def describe_rules(flags: int) -> str:
    """The flag byte of :func:`coding_rules` in words."""
    names = ("z rounded without offset", "ties rounded up", "raw means", "reflect padding to 16",
             "logistic likelihood", "normalised input")
    chosen = [name for bit, name in enumerate(names) if flags & (1 << bit)]
    return ", ".join(chosen) or "codec-bench's own rules"


PRESETS: dict[str, HiFiCConfig] = {
    # The published sizes: 181.5 M parameters.
    "paper": HiFiCConfig(),
    # One GPU, ~20 minutes of training: 9.1 M parameters, a ~37 MB codec checkpoint (no D).
    "small": HiFiCConfig(
        name="small",
        encoder_channels=(24, 48, 96, 192, 384),
        latent_channels=220,
        hyper_channels=128,
        generator_channels=(192, 192, 96, 48, 24),
        residual_blocks=5,
        discriminator_channels=(32, 64, 128, 256),
    ),
    # Trained on 2 CPU cores (baselines/hific-cpu-*): 4.55 M parameters without D, a 10 MB
    # float16 checkpoint. Chosen among three widths by Kodak LPIPS after 1500 steps (docs/training.md).
    "cpu": HiFiCConfig(
        name="cpu",
        encoder_channels=(16, 32, 64, 128, 256),
        latent_channels=220,
        hyper_channels=96,
        generator_channels=(128, 128, 64, 32, 16),
        residual_blocks=4,
        discriminator_channels=(32, 64, 128, 256),
    ),
    # CPU tests: trains in seconds, codes a 64x64 image in milliseconds.
    "tiny": HiFiCConfig(
        name="tiny",
        encoder_channels=(4, 8, 8, 16, 16),
        latent_channels=8,
        hyper_channels=8,
        generator_channels=(16, 16, 8, 8, 4),
        residual_blocks=1,
        discriminator_channels=(4, 8, 8, 8),
        discriminator_latent_channels=2,
    ),
}


def preset(name: str) -> HiFiCConfig:
    """The named preset configuration (``paper``, ``small`` or ``tiny``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown HiFiC preset {name!r}; choose one of {', '.join(PRESETS)}") from None
