"""HiFiC families: from baselines folders, the command line and a families file."""
from __future__ import annotations

from pathlib import Path

import pytest

import bench
from bench.cli import main
from bench.codecs.hific import families
from bench.models.hific.checkpoint import save_checkpoint
from bench.codecs.hific.family_codec import HiFiCCodec
from hific_helpers import hific_codecs
from bench.errors import BenchError


@pytest.fixture
def no_default_baselines(tmp_path, monkeypatch):
    """Only the baselines a test lays out itself (the checkout's baselines/ may gain some)."""
    empty = tmp_path / "no-baselines"
    empty.mkdir()
    monkeypatch.setattr(families, "default_baselines_dir", lambda: empty)
    monkeypatch.delenv("BENCH_BASELINES_DIR", raising=False)


def test_default_baselines_folder_is_the_checkouts_whatever_the_working_directory(make_model, tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_BASELINES_DIR", raising=False)
    save_checkpoint(make_model(), tmp_path / "baselines" / "hific-cwd-lo" / "final.pt")
    monkeypatch.chdir(tmp_path)
    checkout = Path(bench.__file__).resolve().parents[1]
    assert families.default_baselines_dir() == checkout / "baselines"
    assert (checkout / "baselines" / "published").is_dir()
    assert "hific-cwd" not in hific_codecs()


def test_families_from_baselines_and_the_command_line(make_model, tmp_path, no_default_baselines):
    for rate in ("lo", "mi"):
        save_checkpoint(make_model(), tmp_path / "baselines" / f"hific-small-dense-{rate}" / "final.pt")
    save_checkpoint(make_model(), tmp_path / "other" / "x.pt")
    codecs = hific_codecs(baselines_dir=tmp_path / "baselines", families=(f"mine={tmp_path / 'other' / 'x.pt'}",))
    assert set(codecs) == {f"{family}{suffix}" for family in ("hific", "hific-small-dense", "mine") for suffix in ("", "-sparse-matrix")}
    assert codecs["hific-small-dense"].settings == ["lo", "mi"]
    assert isinstance(codecs["mine"], HiFiCCodec) and codecs["mine"].settings == ["x"]
    with pytest.raises(ValueError, match="unknown checkpoint 'hi'"):
        codecs["hific-small-dense"].parse_setting("hi")


def test_baselines_folder_from_the_environment(make_model, tmp_path, monkeypatch, no_default_baselines):
    save_checkpoint(make_model(), tmp_path / "env" / "hific-env-hi" / "a.pt")
    monkeypatch.setenv("BENCH_BASELINES_DIR", str(tmp_path / "env"))
    assert hific_codecs()["hific-env"].checkpoints == {"hi": tmp_path / "env" / "hific-env-hi" / "a.pt"}


def test_families_file_declares_families_with_paths_relative_to_it(make_model, tmp_path, no_default_baselines):
    for name in ("dense-lo", "dense-hi", "sparse-lo"):
        save_checkpoint(make_model(), tmp_path / "runs" / f"{name}.pt")
    (tmp_path / "families.yaml").write_text(
        "families:\n"
        "  hific-dense: [runs/dense-hi.pt, runs/dense-lo.pt]\n"
        "  hific-sparse: runs/sparse-lo.pt\n"
    )
    codecs = hific_codecs(config_files=(str(tmp_path / "families.yaml"),))
    assert codecs["hific-dense"].checkpoints == {"dense-lo": tmp_path / "runs" / "dense-lo.pt", "dense-hi": tmp_path / "runs" / "dense-hi.pt"}
    assert codecs["hific-sparse-sparse-matrix"].settings == ["sparse-lo"]


def test_families_file_refuses_two_checkpoints_with_one_setting_name(make_model, tmp_path, no_default_baselines):
    for run in ("lo", "mi"):
        save_checkpoint(make_model(), tmp_path / run / "step-0000500.pt")
    (tmp_path / "families.yaml").write_text("families:\n  hific-x: [lo/step-0000500.pt, mi/step-0000500.pt]\n")
    with pytest.raises(BenchError, match="family 'hific-x' has two checkpoints named 'step-0000500' .*rename or link them"):
        hific_codecs(config_files=(str(tmp_path / "families.yaml"),))


def test_a_folder_with_two_checkpoints_of_one_name_is_refused(make_model, tmp_path, no_default_baselines):
    for suffix in (".pt", ".ckpt"):
        save_checkpoint(make_model(), tmp_path / "run" / f"lo{suffix}")
    with pytest.raises(BenchError, match="folder .*run has two checkpoints named 'lo' .*rename or link them"):
        hific_codecs(families=(f"hific-x={tmp_path / 'run'}",))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"checkpoints": ("/nonexistent.pt",)}, "--hific-checkpoint: /nonexistent.pt does not exist; give a HiFiC checkpoint file"),
        ({"families": ("nopath",)}, "--hific-family expects NAME=PATH"),
        ({"families": ("a/b=x.pt",)}, "family name 'a/b' must start with a letter or digit"),
        ({"baselines_dir": "/nonexistent"}, "--baselines-dir: /nonexistent is not a folder"),
        ({"config_files": ("/nonexistent.yaml",)}, "--hific-config /nonexistent.yaml: no such file"),
    ],
)
def test_bad_options_are_one_line_user_errors(options, message, no_default_baselines):
    with pytest.raises(BenchError, match=message):
        hific_codecs(**options)


@pytest.mark.parametrize(
    "content, message",
    [
        ("hific-x: a.pt\n", "expected one key, `families:"),
        ("families: {hific-x: []}\n", "family 'hific-x' needs a checkpoint path"),
        ("families: {hific-x: missing.pt}\n", "missing.pt does not exist"),
        ("families: [\n", "not valid YAML"),
    ],
)
def test_bad_families_file_is_reported(content, message, tmp_path, no_default_baselines):
    (tmp_path / "families.yaml").write_text(content)
    with pytest.raises(BenchError, match=message):
        hific_codecs(config_files=(str(tmp_path / "families.yaml"),))


def test_bench_run_reports_a_missing_checkpoint_in_one_line(tmp_path, capsys, no_default_baselines):
    code = main(["run", "--codecs", "hific", "--hific-checkpoint", str(tmp_path / "none.pt"), "--dataset", "kodak", "--out", str(tmp_path / "run")])
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error == f"bench: error: --hific-checkpoint: {tmp_path / 'none.pt'} does not exist; give a HiFiC checkpoint file or a folder of them"
