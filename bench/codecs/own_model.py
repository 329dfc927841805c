"""Your own learned codec, with no code: a model class, its arguments, and one checkpoint per rate.

A model is declared by a YAML mapping, in a file (``--model-config FILE``, key ``models``) or on
the command line (``--model NAME=MAPPING``, the same mapping in YAML's one-line form)::

    models:
      my-codec:                              # the codec's name
        class: mypackage.models:MyModel      # import path, "module:Class" or "module.Class"
        args: {N: 128, M: 192}               # the constructor's keyword arguments (default none)
        checkpoints: runs/ckpts/             # a folder, a glob ("ckpts/*.pth.tar"), a file,
                                             # a list of those, or {setting name: file}
        pad_multiple: 64                     # the image is padded to a multiple of this (default 64)

Relative paths are relative to the file (or, on the command line, to the working folder). The
class is any ``compressai.models.CompressionModel`` subclass, or any ``torch.nn.Module`` with the
same contract: ``compress(x) -> {"strings", "shape"}`` and ``decompress(strings, shape) ->
{"x_hat"}``. Checkpoints load with ``torch.load(weights_only=True)`` as training repositories write
them: a bare state dict, or one under ``state_dict``, ``model`` or ``network``, with or without
DataParallel's ``module.`` prefix; then ``update(force=True)`` builds the entropy tables.

The settings are the checkpoints, named by the file (its name without ``.pth``/``.tar``/``.pt``...)
or by the mapping's keys, ordered by rate: the real size of one 128 x 128 sample image coded with
each (measured once per process, on the CPU, when the settings are first asked for, each within
:data:`PROBE_SECONDS`). A checkpoint that cannot be used there (not a checkpoint, one that does not
fit the class, a pickle ``weights_only`` refuses, arguments the class does not take, a model that
hangs) is one warning line naming it; its rows become error rows with that reason, placed last in
the order, and the run's other codecs and checkpoints go on.

The class is imported and run: a model config is as trusted as code.
"""
from __future__ import annotations

import glob
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from bench.codecs.base import Codec, CodecUnavailable, Setting
from bench.codecs.compressai_style import PAD_MULTIPLE, CompressAIStyleCodec
from bench.codecs.declarations import read_declarations
from bench.errors import BenchError, one_line
from bench.options import option
from bench.processes import TimeLimitExceeded, time_limit

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt", ".tar", ".bin")
#: Keys under which training repositories nest the state dict.
NESTING_KEYS = ("state_dict", "model", "network")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
KEYS = {"class", "args", "checkpoints", "pad_multiple"}
#: Seconds the rate probe of one checkpoint (a 128 x 128 image) may take: minutes below any real model's.
PROBE_SECONDS = 60.0


@dataclass(frozen=True)
class OwnModelOptions:
    #: YAML files with ``models: {NAME: {class, args, checkpoints, pad_multiple}}``.
    config_files: tuple[Path, ...] = option(
        (), flag="--model-config", type=Path, metavar="FILE", repeatable=True,
        help="YAML file declaring your own models, `models: {NAME: {class, args, checkpoints, pad_multiple}}`, "
        "paths relative to the file (repeatable)",
    )
    #: ``NAME=MAPPING`` declarations.
    models: tuple[str, ...] = option(
        (), flag="--model", metavar="NAME=MAPPING", repeatable=True,
        help="your own CompressAI-style model as codec NAME: a YAML mapping such as "
        "'{class: mypackage.models:MyModel, args: {N: 128}, checkpoints: ckpts/}' (repeatable; see README, 'Your own model')",
    )


@dataclass(frozen=True)
class ModelSpec:
    name: str
    class_path: str
    args: dict[str, Any]
    #: Setting name -> checkpoint file, in the order declared.
    checkpoints: dict[str, Path]
    pad_multiple: int = PAD_MULTIPLE


def setting_name(path: Path) -> str:
    """``q3.pth.tar`` -> ``q3``: the file name without its checkpoint suffixes."""
    name = path.name
    while Path(name).suffix in CHECKPOINT_SUFFIXES:
        name = Path(name).stem
    return name


def _files(entry: str, base: Path, source: str) -> list[Path]:
    path = (base / Path(entry).expanduser())
    if any(character in entry for character in "*?["):
        files = sorted(Path(match) for match in glob.glob(str(path), recursive=True) if Path(match).is_file())
        if not files:
            raise BenchError(f"{source}: {entry!r} matches no file")
        return files
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in CHECKPOINT_SUFFIXES)
        if not files:
            raise BenchError(f"{source}: folder {path} holds no checkpoint ({', '.join(CHECKPOINT_SUFFIXES)} files)")
        return files
    if path.is_file():
        return [path]
    raise BenchError(f"{source}: {path} does not exist; give a checkpoint file, a folder of them or a glob")


def parse_spec(name: str, values: Any, base: Path, source: str) -> ModelSpec:
    """One model's mapping, checked key by key; every mistake is one line naming it."""
    if not NAME.fullmatch(name):
        raise BenchError(f"{source}: model name {name!r} must start with a letter or digit and hold only letters, digits, '.', '_', '-'")
    where = f"{source}: model {name!r}"
    if not isinstance(values, Mapping):
        raise BenchError(f"{where}: expected a mapping with class, checkpoints, and optionally args and pad_multiple")
    unknown = sorted(set(values) - KEYS)
    if unknown:
        raise BenchError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(sorted(KEYS))}")
    if not isinstance(values.get("class"), str) or not values["class"]:
        raise BenchError(f"{where}: `class` must name the model class, e.g. compressai.models:ScaleHyperprior")
    args = values.get("args") or {}
    if not isinstance(args, Mapping):
        raise BenchError(f"{where}: `args` must be a mapping of the constructor's keyword arguments, e.g. {{N: 128, M: 192}}")
    pad_multiple = values.get("pad_multiple", PAD_MULTIPLE)
    if not isinstance(pad_multiple, int) or pad_multiple < 1:
        raise BenchError(f"{where}: `pad_multiple` must be a positive integer, not {pad_multiple!r}")
    declared = values.get("checkpoints")
    checkpoints: dict[str, Path] = {}
    if isinstance(declared, Mapping):
        for setting, entry in declared.items():
            path = base / Path(str(entry)).expanduser()
            if not isinstance(entry, str) or not path.is_file():
                raise BenchError(f"{where}: checkpoint {setting!r} must be one existing file, not {entry!r}")
            checkpoints[str(setting)] = path
    elif isinstance(declared, (str, list)) and declared:
        for entry in declared if isinstance(declared, list) else [declared]:
            for path in _files(str(entry), base, where):
                setting = setting_name(path)
                if checkpoints.get(setting, path) != path:
                    raise BenchError(f"{where}: two checkpoints are named {setting!r} ({checkpoints[setting]}, {path}); name them in a mapping")
                checkpoints[setting] = path
    else:
        raise BenchError(f"{where}: `checkpoints` must be a folder, a glob, a file, a list of those, or {{name: file}}")
    return ModelSpec(name, values["class"], dict(args), checkpoints, pad_multiple)


def read_config_file(path: Path) -> list[ModelSpec]:
    models = read_declarations(path, "models", "--model-config", "{NAME: {class: ..., checkpoints: ...}}")
    return [parse_spec(str(name), values, path.parent, f"--model-config {path}") for name, values in models.items()]


def parse_model_option(text: str) -> ModelSpec:
    """``NAME={class: ..., checkpoints: ...}`` of ``--model``."""
    name, separator, mapping = text.partition("=")
    source = f"--model {name}"
    if not separator or not name or not mapping:
        raise BenchError(f"--model expects NAME={{class: module:Class, checkpoints: PATH}}, got {text!r}")
    try:
        values = yaml.safe_load(mapping)
    except yaml.YAMLError as exc:
        raise BenchError(f"{source}: not a YAML mapping ({str(exc).splitlines()[0]})") from None
    return parse_spec(name, values, Path.cwd(), source)


def load_class(path: str) -> type:
    """``"pkg.module:Class"`` or ``"pkg.module.Class"`` -> the class."""
    module_name, _, attribute = path.partition(":") if ":" in path else path.rpartition(".")
    from bench._torchvision import ensure_torchvision

    ensure_torchvision()  # compressai imports torchvision
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise CodecUnavailable(f"cannot import {path} ({type(exc).__name__}: {exc})") from None
    return target


def load_state_dict(path: Path) -> dict[str, Any]:
    """The state dict of a checkpoint file, unwrapped from ``state_dict`` / ``model`` /
    ``network`` and DataParallel's ``module.`` prefix, loaded with ``weights_only=True``."""
    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - unpickling errors have many types
        raise ValueError(f"{path}: cannot be loaded with weights_only=True ({str(exc).splitlines()[0][:200]})") from None
    for key in NESTING_KEYS:
        if isinstance(data, Mapping) and isinstance(data.get(key), Mapping):
            data = data[key]
            break
    if not isinstance(data, Mapping) or not data or not all(torch.is_tensor(value) for value in data.values()):
        raise ValueError(f"{path}: no state dict of tensors in it (looked at the top level and under {', '.join(NESTING_KEYS)})")
    if all(key.startswith("module.") for key in data):
        data = {key.removeprefix("module."): value for key, value in data.items()}
    return dict(data)


def build_model(spec: ModelSpec, setting: str, device: str) -> Any:
    """The model of one checkpoint: built, weights loaded, tables updated, in eval mode on ``device``."""
    try:
        model = load_class(spec.class_path)(**spec.args)
    except (CodecUnavailable, BenchError):
        raise
    except Exception as exc:  # noqa: BLE001 - the user's constructor may raise anything
        raise ValueError(f"{spec.class_path}(**{spec.args}) cannot be built: {one_line(exc)}") from None
    state = load_state_dict(spec.checkpoints[setting])
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{spec.checkpoints[setting]}: does not fit {spec.class_path}({spec.args}): {str(exc).splitlines()[0]}") from None
    if hasattr(model, "update"):
        model.update(force=True)
    return model.to(device).eval()


def model_specs(options: OwnModelOptions) -> list[ModelSpec]:
    """The models ``options`` declare (config files first), each name once."""
    specs = [spec for path in options.config_files for spec in read_config_file(Path(path).expanduser())]
    specs += [parse_model_option(text) for text in options.models]
    names: set[str] = set()
    for spec in specs:
        if spec.name in names:
            raise BenchError(f"model {spec.name!r} is declared twice (--model / --model-config); give each model one name")
        names.add(spec.name)
    return specs


class OwnModelCodec(CompressAIStyleCodec):
    """A model class and its checkpoints, declared by ``--model`` / ``--model-config``."""

    Options = OwnModelOptions
    description = "your model (--model / --model-config): its own compress / decompress; settings are checkpoints"

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.pad_multiple = spec.pad_multiple
        self._models: dict[str, Any] = {}
        self._order: list[str] | None = None
        #: Setting -> why its checkpoint cannot be used (found by the rate probe).
        self._unusable: dict[str, str] = {}

    @classmethod
    def instances(cls, options: OwnModelOptions | None = None) -> dict[str, Codec]:
        return {spec.name: cls(spec) for spec in model_specs(options or OwnModelOptions())}

    @classmethod
    def names(cls, options: OwnModelOptions | None = None) -> list[str]:
        return [spec.name for spec in model_specs(options or OwnModelOptions())]

    def check_available(self) -> None:
        try:
            load_class(self.spec.class_path)
        except CodecUnavailable as exc:
            raise CodecUnavailable(f"{self.name}: {exc}") from None

    def version(self) -> str:
        return f"{super().version()}, {self.spec.class_path}"

    @property
    def settings(self) -> list[Setting]:
        if self._order is None:
            self._order = self._rate_order()
        return list(self._order)

    def parse_setting(self, text: str) -> Setting:
        if text not in self.spec.checkpoints:
            raise ValueError(f"{self.name}: unknown checkpoint {text!r}; this model has {', '.join(self.spec.checkpoints)}")
        return text

    def use_device(self, device: str) -> None:
        if device != self.device:
            self.device, self._models = device, {}

    def model(self, setting: Setting) -> Any:
        setting = self.parse_setting(str(setting))
        if setting in self._unusable:
            raise BenchError(self._unusable[setting])
        if setting not in self._models:
            from bench.device import resolve_device

            self._models[setting] = build_model(self.spec, setting, resolve_device(self.device))
        return self._models[setting]

    def _rate_order(self) -> list[str]:
        """The settings from the fewest bits to the most on a 128 x 128 crop of a sample image (on
        the CPU), then those whose checkpoint cannot be used (each one warning line)."""
        import warnings

        from bench import resources
        from bench.imageio import read_image

        image = read_image(resources.DATA_DIR / "sample" / "kodim23-crop.png")[:128, :128].copy()
        sizes = {}
        for setting in self.spec.checkpoints:
            probe = OwnModelCodec(self.spec)
            probe.use_device("cpu")
            try:
                with time_limit(PROBE_SECONDS):
                    sizes[setting] = len(probe.encode(image, setting))
            except TimeLimitExceeded:
                self._unusable[setting] = f"{self.name} checkpoint {setting}: coding a 128 x 128 image took over {PROBE_SECONDS:g} s"
            except Exception as exc:  # noqa: BLE001 - an unusable checkpoint costs its own rows only
                reason = str(exc) if isinstance(exc, ValueError) else one_line(exc)  # ValueError: ours, one line
                self._unusable[setting] = f"{self.name} checkpoint {setting}: {reason}"
        for reason in self._unusable.values():
            warnings.warn(f"{reason}; its rows are error rows", stacklevel=2)
        return sorted(sizes, key=lambda setting: (sizes[setting], setting)) + list(self._unusable)
