"""The README's "From Python" example runs as written (from the repository root)."""
from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_from_python_example_runs(tmp_path, monkeypatch, capsys, data_dir, weights_dir):
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("### From Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    # The example's paths are relative to the checkout, with ../shared beside it.
    code = code.replace('Path("../shared/datasets/kodak")', repr(data_dir / "kodak")).replace(
        'Path("../shared/weights")', repr(weights_dir)
    ).replace('"runs/from-python"', repr(str(tmp_path / "run")))
    exec(compile(code, "README.md", "exec"), {"PosixPath": Path, "__name__": "readme"})
    printed = capsys.readouterr().out
    assert "'psnr'" in printed and "lpips" in printed
    assert (tmp_path / "run" / "results.csv").is_file()
