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


def documented_command_lines() -> list[tuple[str, str]]:
    """(file, command line) for every ``bench ...`` command in a shell block of README.md and
    docs/*.md, continuation lines joined."""
    found = []
    for path in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]:
        block: list[str] | None = None
        for line in path.read_text().splitlines():
            if line.startswith("```"):
                if block is None:
                    block = [] if line[3:].strip() in ("", "bash", "sh", "console") else None
                    if block is None:
                        block = ["<not shell>"]
                else:
                    if block[:1] != ["<not shell>"]:
                        found.extend((path.name, command) for command in _bench_commands("\n".join(block)))
                    block = None
            elif block is not None:
                block.append(line)
    return found


def _bench_commands(text: str) -> list[str]:
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        for part in re.split(r"&&|;|\|", line.split("#")[0]):
            if part.strip().startswith("bench "):
                commands.append(part.strip())
    return commands


def test_every_documented_bench_command_line_uses_real_commands_and_flags():
    import argparse

    from bench.cli import build_parser

    parser = build_parser()
    subcommands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction)).choices
    lines = documented_command_lines()
    assert len(lines) >= 20
    for source, line in lines:
        words = line.split()
        assert words[1] in subcommands, (source, line)
        command = subcommands[words[1]]
        if words[1] == "datasets" and len(words) > 2 and words[2] in ("fetch",):
            continue
        nested = [action for action in command._actions if isinstance(action, argparse._SubParsersAction)]
        if nested:  # a command with subcommands of its own (bench study create ...): check the subcommand's flags
            assert len(words) > 2 and words[2] in nested[0].choices, (source, line)
            command = nested[0].choices[words[2]]
        known = {option for action in command._actions for option in action.option_strings}
        for word in words[2:]:
            if word.startswith("--"):
                assert word.split("=")[0] in known, f"{source}: `{line}` uses {word}, which `bench {words[1]} --help` does not list"


def test_ci_runs_the_readme_s_install_and_test_commands():
    readme = (REPO_ROOT / "README.md").read_text()
    tests = readme[readme.index("## Tests"):]
    command = re.search(r"```bash\n(.*?)\n```", tests, re.S).group(1)
    install, apt, test = (part.strip() for part in command.split("&&"))
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert install.replace("pip install", "python -m pip install -q") in ci
    packages = set(apt.split("install -y", 1)[1].split())
    ci_packages = set(re.search(r'PACKAGES="([^"]*)"', ci).group(1).split())
    assert packages == ci_packages
    assert test == "python -m pytest" and ci.rstrip().endswith("python -m pytest -q")


def test_the_own_model_section_s_torchvision_call_makes_compressai_import_in_a_script(tmp_path):
    import subprocess
    import sys

    from cli_helpers import bench_env

    script = "import bench\nbench.ensure_torchvision()\nimport compressai.models\nprint(compressai.models.FactorizedPrior(8, 8).__class__.__name__)\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=bench_env(), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "FactorizedPrior"
