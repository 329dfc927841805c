"""Training configs: the shipped YAML files, rate names, and one-line errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.train.config import ConfigError, config_from_dict, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_shipped_configs_load_with_hific_rate_control() -> None:
    sparse = load_config(CONFIGS / "small-sparse-lo.yaml")
    dense = load_config(CONFIGS / "small-dense-lo.yaml")
    assert (sparse.model, sparse.loss.target_rate, sparse.loss.lambda_a, sparse.loss.lambda_b) == ("small", 0.14, 2.0, 0.0625)
    assert sparse.loss.sparsity.on == "residual" and sparse.loss.sparsity.weight > 0
    assert dense.loss.sparsity.weight == 0
    assert (dense.data, dense.total_steps, dense.seed) == (sparse.data, sparse.total_steps, sparse.seed)
    assert load_config(CONFIGS / "small-dense-hi.yaml").loss.lambda_a == 0.5
    assert load_config(CONFIGS / "tiny.yaml").name == "tiny"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("small-*.yaml")), ids=lambda path: path.stem)
def test_shipped_model_configs_name_their_checkpoint_after_the_model(path: Path) -> None:
    # `bench train --config configs/small-sparse-lo.yaml --out train/small-sparse-lo` writes small-sparse-lo.pt.
    assert load_config(path).name == path.stem


def test_yaml_key_on_is_not_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("loss:\n  sparsity: {weight: 2, form: l1, on: latent}\nmixed_precision: false\n")
    config = load_config(path)
    assert config.loss.sparsity.on == "latent" and config.mixed_precision is False and config.name == "run"


def test_numeric_target_rate_takes_lambda_a_of_the_nearest_named_rate() -> None:
    assert config_from_dict({"loss": {"target_rate": 0.28}}).loss.lambda_a == 1.0
    assert config_from_dict({"loss": {"target_rate": 0.28, "lambda_a": 3}}).loss.lambda_a == 3.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"loss": {"sparsity": {"form": "l2"}}}, "loss.sparsity.form: unknown form 'l2'; choose one of l1, soft_count"),
        ({"loss": {"target_rate": "medium"}}, "loss.target_rate: unknown rate name 'medium'"),
        ({"stage1_step": 3}, "stage1_step: unknown key"),
        ({"data": {"crop_size": 100}}, "data.crop_size: must be a multiple of 64"),
        ({"data": {"folders": "bsds500/train"}}, "data.folders: expected a list of strings"),
        ({"model": "huge"}, "model: unknown preset 'huge'"),
        ({"stage1_steps": 0}, "stage1_steps: stage1_steps and stage2_steps must be >= 0 and not both 0"),
    ],
)
def test_mistakes_name_the_key(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        config_from_dict(values)


def test_numbers_in_exponent_form_without_a_point_are_numbers(tmp_path: Path) -> None:
    # YAML 1.1 (PyYAML's default) reads 5e-4 as a string; papers write learning rates this way.
    path = tmp_path / "run.yaml"
    path.write_text("learning_rate: 5e-4\naux_learning_rate: 1E-3\nloss: {k_p: 2e0}\nstage1_steps: 20\n")
    config = load_config(path)
    assert (config.learning_rate, config.aux_learning_rate, config.loss.k_p, config.stage1_steps) == (5e-4, 1e-3, 2.0, 20)


def test_a_shipped_config_is_found_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config("cpu-base").name == load_config("configs/cpu-base.yaml").name == "cpu-base"
    with pytest.raises(ConfigError, match="^training config nope does not exist; .* shipped configs: .*cpu-base"):
        load_config("nope")


def test_a_relative_init_from_is_relative_to_the_config_file(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "base.pt").write_bytes(b"")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "fine.yaml").write_text("init_from: ../models/base.pt\n")
    monkeypatch.chdir(tmp_path / "models")
    assert load_config(tmp_path / "configs" / "fine.yaml").init_from == str(tmp_path / "models" / "base.pt")
    (tmp_path / "configs" / "lost.yaml").write_text("init_from: ../nowhere/base.pt\n")
    with pytest.raises(ConfigError, match=r"^init_from: .*nowhere/base\.pt does not exist \(a relative init_from is relative to"):
        load_config(tmp_path / "configs" / "lost.yaml")
