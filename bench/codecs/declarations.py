"""Reading the YAML files that declare codecs (``--hific-config``, ``--model-config``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import yaml

from bench.errors import BenchError


def read_declarations(path: Path, key: str, option: str, expected: str) -> Mapping[str, Any]:
    """The mapping under ``key``, the file's only key; every mistake is one line naming ``option`` and the file."""
    source = f"{option} {path}"
    if not path.is_file():
        raise BenchError(f"{source}: no such file")
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise BenchError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(content, Mapping) or set(content) != {key} or not isinstance(content[key], Mapping):
        raise BenchError(f"{source}: expected one key, `{key}: {expected}`")
    return content[key]
