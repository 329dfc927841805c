"""Training the tiny preset on the CPU: losses, rate, sparsity, checkpoints, resume, refusals."""
from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from bench.cli import main
from bench.codecs.hific import container, entropy_coded
from bench.models.hific.checkpoint import fingerprint, load_checkpoint, read_checkpoint_file
from hific_helpers import hific_codecs
from bench.train.config import config_from_dict, read_yaml
from bench.train.trainer import Trainer, train

TINY_YAML = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"


def tiny_config(train_folder: Path, **changes):
    """configs/tiny.yaml reading ``train_folder``, with top-level changes."""
    values = read_yaml(TINY_YAML)
    values["data"]["folders"] = [str(train_folder)]
    values.update(changes)
    return config_from_dict(values, name="tiny")


def read_log(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_tiny_config_trains_and_its_checkpoint_codes_an_image(tmp_path: Path, train_folder: Path, kodim01: np.ndarray) -> None:
    final = train(tiny_config(train_folder, stage1_steps=3, stage2_steps=2, log_every=1), tmp_path / "run", progress=False)

    log = read_log(tmp_path / "run" / "log.csv")
    assert [row["step"] for row in log] == ["1", "2", "3", "4", "5"]
    assert [row["stage"] for row in log] == ["1", "1", "1", "2", "2"]
    for row in log:
        for key in ("loss", "bpp", "mse", "lpips", "sparsity", "aux"):
            assert math.isfinite(float(row[key])), (key, row)
    assert all(math.isfinite(float(row["discriminator"])) for row in log[3:])

    model, card = load_checkpoint(final)
    assert (card["steps"], card["target_rate"], card["data"]["images"]) == (5, 0.14, 3)
    assert card["final_losses"]["bpp"] == card["train_bpp"] == float(log[-1]["bpp"])
    codecs = hific_codecs(families=(f"tiny={final}",))
    image = np.ascontiguousarray(kodim01[:128, :192])
    data, latents = entropy_coded.encode_image(model, image, "tiny", fingerprint(model))
    y_hat = latents.y_hat
    expected = container.reconstruct(model, y_hat, 128, 192)
    for name in ("tiny", "tiny-sparse-matrix"):
        decoded = codecs[name].decode(codecs[name].encode(image, "tiny"))
        np.testing.assert_array_equal(decoded, expected)


def test_rate_goes_down_over_50_steps_on_a_fixed_batch(tmp_path: Path, train_folder: Path, fixed_batch: torch.Tensor) -> None:
    # r_t far below the rate keeps lambda = lambda_a; lr 1e-3 makes 50 steps enough.
    config = tiny_config(train_folder, stage1_steps=50, stage2_steps=0, learning_rate=1e-3, loss={"target_rate": 0.01})
    trainer = Trainer(config, tmp_path, progress=False)
    rates = [trainer.train_step(fixed_batch)["bpp"] for _ in range(50)]
    # Measured: 0.135 bpp over the first 5 steps, 0.025 over the last 5.
    assert np.mean(rates[-5:]) < 0.5 * np.mean(rates[:5])


def zero_fraction_after(steps: int, sparsity_weight: float, train_folder: Path, out: Path, batch: torch.Tensor) -> float:
    config = tiny_config(train_folder, stage1_steps=steps, stage2_steps=0, learning_rate=1e-3,
                         loss={"sparsity": {"weight": sparsity_weight, "form": "soft_count", "threshold": 0.5}})
    trainer = Trainer(config, out, progress=False)
    for _ in range(steps):
        trainer.train_step(batch)
    with torch.no_grad():
        return (trainer.model.eval()(batch).residual == 0).float().mean().item()


def test_sparsity_loss_raises_the_share_of_zero_symbols(tmp_path: Path, train_folder: Path, fixed_batch: torch.Tensor) -> None:
    dense = zero_fraction_after(20, 0.0, train_folder, tmp_path / "dense", fixed_batch)
    sparse = zero_fraction_after(20, 10.0, train_folder, tmp_path / "sparse", fixed_batch)
    # Measured after 20 steps (lr 1e-3) from the same seed: 0.867 without, 1.000 with lambda_s = 10.
    assert sparse > dense + 0.1


class InterruptedTrainer(Trainer):
    """Stops like Ctrl-C would, just before the given step."""

    stop_before = 5

    def train_step(self, x: torch.Tensor) -> dict[str, float]:
        if self.step + 1 == self.stop_before:
            raise KeyboardInterrupt
        return super().train_step(x)


def test_resume_after_an_interruption_equals_the_uninterrupted_run(tmp_path: Path, train_folder: Path) -> None:
    config = tiny_config(train_folder, stage1_steps=4, stage2_steps=2, checkpoint_every=2, log_every=1)
    train(config, tmp_path / "straight", progress=False)
    with pytest.raises(KeyboardInterrupt):
        InterruptedTrainer(config, tmp_path / "resumed", progress=False).train()
    assert [row["step"] for row in read_log(tmp_path / "resumed" / "log.csv")] == ["1", "2", "3", "4"]
    resumed = Trainer(config, tmp_path / "resumed", progress=False)
    resumed.train(resume=True)

    assert resumed.step == 6
    straight_state = read_checkpoint_file(tmp_path / "straight" / "tiny.pt")["state_dict"]
    resumed_state = read_checkpoint_file(tmp_path / "resumed" / "tiny.pt")["state_dict"]
    assert straight_state.keys() == resumed_state.keys()
    for key in straight_state:
        assert torch.equal(straight_state[key], resumed_state[key]), key
    straight_d = torch.load(tmp_path / "straight" / "checkpoints" / "step-0000006.state", weights_only=True)["discriminator"]
    for key, value in straight_d.items():
        assert torch.equal(value, resumed.discriminator.state_dict()[key]), key
    without_time = lambda rows: [{k: v for k, v in row.items() if k != "wall_seconds"} for row in rows]  # noqa: E731
    assert without_time(read_log(tmp_path / "resumed" / "log.csv")) == without_time(read_log(tmp_path / "straight" / "log.csv"))


def test_resume_can_add_stage_2_to_a_stage_1_run(tmp_path: Path, train_folder: Path) -> None:
    stage1 = tiny_config(train_folder, stage1_steps=2, stage2_steps=0, checkpoint_every=2, log_every=1)
    train(stage1, tmp_path, progress=False)
    trainer = Trainer(dataclasses.replace(stage1, stage2_steps=2), tmp_path, progress=False)
    fresh_discriminator = {key: value.clone() for key, value in trainer.discriminator.state_dict().items()}
    trainer.train(resume=True)

    log = read_log(tmp_path / "log.csv")
    assert [(row["step"], row["stage"]) for row in log] == [("1", "1"), ("2", "1"), ("3", "2"), ("4", "2")]
    assert all(math.isfinite(float(row["discriminator"])) for row in log[2:])
    state = torch.load(tmp_path / "checkpoints" / "step-0000004.state", weights_only=True)
    assert set(state["optimizers"]) == {"model", "aux", "discriminator"}
    assert any(not torch.equal(state["discriminator"][key], fresh_discriminator[key]) for key in fresh_discriminator)


def test_existing_run_needs_resume_and_resume_needs_a_checkpoint(tmp_path: Path, train_folder: Path) -> None:
    config = tiny_config(train_folder, stage1_steps=1, stage2_steps=0)
    with pytest.raises(Exception, match="--resume: no checkpoint in"):
        train(config, tmp_path / "empty", resume=True, progress=False)
    train(config, tmp_path / "run", progress=False)
    with pytest.raises(Exception, match="already holds checkpoints; pass --resume"):
        train(config, tmp_path / "run", progress=False)


def test_bench_train_refuses_an_evaluation_dataset(tmp_path: Path, data_dir: Path, capsys) -> None:
    config = tmp_path / "kodak.yaml"
    config.write_text(f"model: tiny\ndata: {{folders: [kodak], data_dir: {data_dir}, crop_size: 128}}\nstage1_steps: 1\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("bench: error: data.folders: ") and "is the evaluation dataset 'kodak'" in error
    assert "\n" not in error
    assert not (tmp_path / "out" / "checkpoints").exists()


def test_mixed_precision_keeps_the_entropy_model_in_float32(fixed_batch: torch.Tensor) -> None:
    from bench.models.hific.config import preset
    from bench.models.hific.model import HiFiC
    from bench.train.trainer import keep_float32

    model = HiFiC(preset("tiny")).train()
    keep_float32(model.hyperprior, "cpu")
    keep_float32(model.hyperprior.y_prior, "cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = model(fixed_batch)
    assert output.y.dtype == output.x_hat.dtype == torch.bfloat16
    assert output.means.dtype == output.scales.dtype == torch.float32
    assert output.likelihoods["y"].dtype == output.likelihoods["z"].dtype == torch.float32


def test_bench_train_seed_changes_discriminator_data_and_noise_and_is_recorded(tmp_path: Path, train_folder: Path, capsys) -> None:
    config = tmp_path / "tiny.yaml"
    values = read_yaml(TINY_YAML)
    values["data"]["folders"] = [str(train_folder)]
    values.update(stage1_steps=1, stage2_steps=1, checkpoint_every=2, log_every=1)
    config.write_text(yaml.safe_dump(values))
    runs = {}
    for seed in (None, 0, 1):
        out = tmp_path / f"seed-{seed}"
        assert main(["train", "--config", str(config), "--out", str(out), "--no-progress"] + (["--seed", str(seed)] if seed is not None else [])) == 0
        state = torch.load(out / "checkpoints" / "step-0000002.state", weights_only=True)
        runs[seed] = (load_checkpoint(out / "tiny.pt")[1]["config"]["seed"], state, read_log(out / "log.csv"))
    capsys.readouterr()

    assert [runs[seed][0] for seed in (None, 0, 1)] == [0, 0, 1]
    same, other = runs[0][1], runs[1][1]
    assert all(torch.equal(value, runs[None][1]["discriminator"][key]) for key, value in same["discriminator"].items())
    assert any(not torch.equal(value, other["discriminator"][key]) for key, value in same["discriminator"].items())
    assert not torch.equal(same["sampler_rng"], other["sampler_rng"])
    assert not torch.equal(same["torch_rng"], other["torch_rng"])
    assert runs[0][2][0]["bpp"] != runs[1][2][0]["bpp"]
