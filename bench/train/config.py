"""Training configuration: a YAML file read into frozen dataclasses, checked field by field.

Every mistake is reported as one :class:`ConfigError` line naming the key (``loss.sparsity.form``)
and what would be accepted. ``docs/training.md`` is the reference for each field.
"""
from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from bench.models.hific.checkpoint import WEIGHT_DTYPES
from bench.models.hific.config import PRESETS
from bench.models.hific.rates import LAMBDA_A, LAMBDA_B, TARGET_RATES, nearest_rate_name
from bench import resources
from bench.errors import BenchError

SPARSITY_FORMS = ("l1", "soft_count")
SPARSITY_TARGETS = ("residual", "latent")


class _YAML12Loader(yaml.SafeLoader):
    """SafeLoader reading booleans and numbers the YAML 1.2 way.

    Only true/false are booleans, so the key ``on`` stays a string; and ``5e-4`` is a number,
    as every paper writes it (YAML 1.1, PyYAML's default, wants ``5.0e-4``).
    """


_YAML12Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YAML12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# Exponent without a decimal point (1e-4, 5E+3); PyYAML already reads the forms with a point.
_YAML12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"), list("-+0123456789")
)


class ConfigError(BenchError):
    """A training configuration that cannot be used, with the key at fault."""


@dataclass(frozen=True)
class DataConfig:
    #: Image folders, relative to ``data_dir`` (or absolute).
    folders: tuple[str, ...] = ("bsds500/train", "bsds500/test")
    #: Root of ``folders``; empty means the ``BENCH_DATA_DIR`` setting.
    data_dir: str = ""
    crop_size: int = 256
    #: Each crop is taken from the image downscaled by a factor drawn uniformly from
    #: [min_downscale, 1] (never so small that the crop does not fit).
    min_downscale: float = 0.5
    batch_size: int = 8
    #: Allow a folder that is an evaluation dataset (Kodak, Urban100, ...). Results on it
    #: are then no longer a fair evaluation.
    force_eval_data: bool = False


@dataclass(frozen=True)
class SparsityConfig:
    #: lambda_s; 0 turns the sparsity loss off.
    weight: float = 0.0
    form: str = "soft_count"
    #: tau: a value counts as non-zero when its magnitude exceeds tau (0.5: it rounds to non-zero).
    threshold: float = 0.5
    #: Width of the sigmoid step of ``soft_count``.
    temperature: float = 0.1
    #: ``residual``: y - mu, what the entropy coder codes; ``latent``: y itself.
    on: str = "residual"


@dataclass(frozen=True)
class LossConfig:
    #: Target rate r_t in bpp, or a HiFiC rate name (lo / mi / hi).
    target_rate: float = TARGET_RATES["lo"]
    #: lambda^(a) (batch bpp above r_t) and lambda^(b) (at or below); lambda_a defaults to
    #: HiFiC's value for the named rate nearest to r_t.
    lambda_a: float = LAMBDA_A["lo"]
    lambda_b: float = LAMBDA_B
    k_m: float = 0.075 * 2.0**-5
    k_p: float = 1.0
    beta: float = 0.15
    sparsity: SparsityConfig = field(default_factory=SparsityConfig)


@dataclass(frozen=True)
class TrainConfig:
    """The whole training run."""

    #: Model preset (``paper``, ``small``, ``tiny``); ignored in favour of the checkpoint's
    #: own configuration with ``init_from``.
    model: str = "small"
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    #: Stage 1 (rate-distortion) steps, then stage 2 (with the GAN) steps.
    stage1_steps: int = 1000
    stage2_steps: int = 0
    learning_rate: float = 1e-4
    #: Learning rate of the entropy bottleneck's quantiles (CompressAI's auxiliary loss).
    aux_learning_rate: float = 1e-3
    checkpoint_every: int = 500
    log_every: int = 10
    seed: int = 0
    #: bf16 autocast for the networks on CUDA (entropy models stay in float32); no effect on CPU.
    mixed_precision: bool = True
    #: A codec checkpoint to start from (e.g. a dense model to fine-tune with sparsity); a
    #: relative path is relative to the config file's folder.
    init_from: str = ""
    #: Name of the final checkpoint file (``<name>.pt``); defaults to the config file's stem.
    name: str = ""
    #: Dtype of the final checkpoint's weights (``float16`` halves the file); the step
    #: checkpoints stay float32 so that ``--resume`` is exact.
    weights_dtype: str = "float32"

    @property
    def total_steps(self) -> int:
        return self.stage1_steps + self.stage2_steps

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(cls: type, values: Any, where: str) -> Any:
    """Instantiate dataclass ``cls`` from a mapping, checking keys and types recursively."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where or 'config'}: expected a mapping of keys, got {type(values).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{where + '.' if where else ''}{unknown[0]}: unknown key; known keys: {', '.join(sorted(known))}")
    kwargs = {}
    for name, value in values.items():
        key = f"{where}.{name}" if where else name
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value or {}, key)
        else:
            kwargs[name] = _coerce(hint, value, key)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    # tuple[str, ...]
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
    return tuple(value)


def _validate(config: TrainConfig) -> None:
    checks = [
        (config.model in PRESETS, "model", f"unknown preset {config.model!r}; choose one of {', '.join(PRESETS)}"),
        (config.data.folders, "data.folders", "list at least one image folder"),
        (config.data.crop_size >= 128 and config.data.crop_size % 64 == 0, "data.crop_size",
         f"must be a multiple of 64 and at least 128 (HiFiC's hyper-latent needs it), got {config.data.crop_size}"),
        (0 < config.data.min_downscale <= 1, "data.min_downscale", f"must be in (0, 1], got {config.data.min_downscale}"),
        (config.data.batch_size >= 1, "data.batch_size", "must be at least 1"),
        (config.loss.target_rate > 0, "loss.target_rate", "must be a positive bpp"),
        (config.loss.lambda_a >= 0 and config.loss.lambda_b >= 0, "loss.lambda_a", "lambda_a and lambda_b must be >= 0"),
        (config.loss.sparsity.weight >= 0, "loss.sparsity.weight", "must be >= 0"),
        (config.loss.sparsity.form in SPARSITY_FORMS, "loss.sparsity.form",
         f"unknown form {config.loss.sparsity.form!r}; choose one of {', '.join(SPARSITY_FORMS)}"),
        (config.loss.sparsity.on in SPARSITY_TARGETS, "loss.sparsity.on",
         f"unknown target {config.loss.sparsity.on!r}; choose one of {', '.join(SPARSITY_TARGETS)}"),
        (config.loss.sparsity.threshold >= 0, "loss.sparsity.threshold", "must be >= 0"),
        (config.loss.sparsity.temperature > 0, "loss.sparsity.temperature", "must be > 0"),
        (config.stage1_steps >= 0 and config.stage2_steps >= 0 and config.total_steps > 0, "stage1_steps",
         "stage1_steps and stage2_steps must be >= 0 and not both 0"),
        (config.learning_rate > 0 and config.aux_learning_rate > 0, "learning_rate", "learning rates must be > 0"),
        (config.checkpoint_every >= 1, "checkpoint_every", "must be at least 1"),
        (config.log_every >= 1, "log_every", "must be at least 1"),
        (config.weights_dtype in WEIGHT_DTYPES, "weights_dtype",
         f"unknown dtype {config.weights_dtype!r}; choose one of {', '.join(WEIGHT_DTYPES)}"),
    ]
    for ok, key, message in checks:
        if not ok:
            raise ConfigError(f"{key}: {message}")


def _resolve_rate_names(values: dict[str, Any]) -> dict[str, Any]:
    """``target_rate: lo`` -> r_t = 0.14; a missing lambda_a -> HiFiC's for the nearest named rate."""
    loss = values.get("loss")
    if not isinstance(loss, Mapping):
        return values
    loss = dict(loss)
    rate = loss.get("target_rate", TARGET_RATES["lo"])
    if isinstance(rate, str):
        if rate not in TARGET_RATES:
            raise ConfigError(f"loss.target_rate: unknown rate name {rate!r}; use a bpp or one of {', '.join(TARGET_RATES)}")
        rate = loss["target_rate"] = TARGET_RATES[rate]
    if "lambda_a" not in loss and isinstance(rate, (int, float)):
        loss["lambda_a"] = LAMBDA_A[nearest_rate_name(rate)]
    return {**values, "loss": loss}


def config_from_dict(values: Mapping[str, Any], name: str = "") -> TrainConfig:
    """A validated :class:`TrainConfig` from parsed YAML; ``name`` is the default run name."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"training config must be a mapping of keys, got {type(values).__name__}")
    values = _resolve_rate_names(dict(values))
    config = _build(TrainConfig, values, "")
    if not config.name:
        config = dataclasses.replace(config, name=name or config.model)
    _validate(config)
    return config


def find_config(name: str | Path) -> Path:
    """A config file: ``name`` as a path, else the shipped config of that name (``cpu-base``,
    ``cpu-base.yaml`` or ``configs/cpu-base.yaml`` all find ``configs/cpu-base.yaml``)."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = resources.configs_dir() / (path.name if path.suffix else f"{path.name}.yaml")
    if shipped.is_file():
        return shipped
    names = sorted(config.stem for config in resources.configs_dir().glob("*.yaml"))
    raise ConfigError(f"training config {path} does not exist; give a YAML file, or one of the shipped configs: {', '.join(names)}")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A training config file as a dict (``on`` stays a string key, see the loader above)."""
    path = Path(path)
    try:
        return yaml.load(path.read_text(), Loader=_YAML12Loader) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def load_config(name: str | Path) -> TrainConfig:
    """Read and validate a YAML training config (a path, or a shipped config's name, see
    :func:`find_config`); a relative ``init_from`` becomes a path under the config's folder."""
    path = find_config(name)
    config = config_from_dict(read_yaml(path), name=path.stem)
    if config.init_from and not Path(config.init_from).expanduser().is_absolute():
        init_from = (path.parent / config.init_from).resolve()
        if not init_from.is_file():
            raise ConfigError(
                f"init_from: {init_from} does not exist (a relative init_from is relative to {path.parent}); "
                "point it at the checkpoint to start from"
            )
        config = dataclasses.replace(config, init_from=str(init_from))
    return config
