"""The trained HiFiC checkpoints that ship in baselines/: files, cards, and the codecs over them."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from bench.codecs.hific.families import baseline_families
from bench.codecs.hific.sparse_matrix import SparseMatrixHiFiC
from bench.codecs.hific.entropy_coded import EntropyCodedHiFiC
from bench.train.config import load_config
from cli_helpers import REPO_ROOT, run_bench

BASELINES = REPO_ROOT / "baselines"
FAMILIES = ("hific-cpu-dense", "hific-cpu-sparse")
RATES = ("lo", "mi", "hi")
MAX_CHECKPOINT_BYTES = 16 * 2**20
#: Card fields a reader needs to judge a model (docs/training.md).
CARD_FIELDS = ("config", "model_config", "data", "steps", "stage1_steps_done", "stage2_steps_done", "hardware",
               "wall_seconds", "cpu_seconds", "sessions", "init_from", "final_losses", "train_bpp", "target_rate")


def shipped_folders():
    return [BASELINES / f"{family}-{rate}" for family in FAMILIES for rate in RATES]


def card_of(folder):
    return json.loads((folder / "card.json").read_text())


def test_both_cpu_families_ship_three_rates_each():
    assert {family: sorted(rates) for family, rates in baseline_families(BASELINES).items()} == {
        family: sorted(RATES) for family in FAMILIES
    }


@pytest.mark.parametrize("folder", shipped_folders(), ids=lambda folder: folder.name)
def test_a_shipped_checkpoint_loads_safely_and_its_card_says_how_it_was_trained(folder):
    (checkpoint,) = folder.glob("*.pt")
    assert checkpoint.stat().st_size <= MAX_CHECKPOINT_BYTES
    data = torch.load(checkpoint, map_location="cpu", weights_only=True)
    floating = [tensor for tensor in data["state_dict"].values() if tensor.is_floating_point()]
    half = sum(tensor.numel() for tensor in floating if tensor.dtype == torch.float16)
    assert half > 0.99 * sum(tensor.numel() for tensor in floating)  # the weights; a few float32 buffers remain
    card = card_of(folder)
    assert card["weights_dtype"] == "float16"
    assert set(CARD_FIELDS) <= set(card)
    assert json.loads(data["card"]) == card  # the file beside it is the checkpoint's own card
    assert card["steps"] == card["stage1_steps_done"] + card["stage2_steps_done"] and card["stage2_steps_done"] > 0
    assert card["init_from"]["card"]["config"]["name"] == "cpu-base"
    assert (folder / "CARD.md").read_text().startswith(f"# {folder.name}")


@pytest.mark.parametrize("rate", RATES)
def test_each_dense_sparse_pair_differs_only_in_the_sparsity_term(rate):
    dense, sparse = (card_of(BASELINES / f"{family}-{rate}")["config"] for family in FAMILIES)
    assert dense["loss"]["sparsity"]["weight"] == 0 < sparse["loss"]["sparsity"]["weight"]
    for config in (dense, sparse):
        config["loss"].pop("sparsity")
        config.pop("name")
    assert dense == sparse


@pytest.mark.parametrize("folder", shipped_folders(), ids=lambda folder: folder.name)
def test_the_repository_config_of_a_shipped_model_is_the_one_it_was_trained_with(folder):
    trained = card_of(folder)["config"]
    repository = json.loads(json.dumps(load_config(REPO_ROOT / "configs" / f"{folder.name.removeprefix('hific-')}.yaml").to_dict()))
    for config in (trained, repository):  # where the base checkpoint and the data lay on the training machine
        config.pop("init_from")
        config["data"].pop("data_dir")
    assert repository == trained


def test_all_of_baselines_stays_well_under_100_mb():
    assert sum(path.stat().st_size for path in BASELINES.rglob("*") if path.is_file()) < 90 * 2**20


def test_both_bitstreams_of_a_shipped_sparse_model_decode_to_the_same_image(kodim01_crop):
    checkpoints = {"lo": next((BASELINES / "hific-cpu-sparse-lo").glob("*.pt"))}
    rans, matrix = (cls("hific-cpu-sparse", checkpoints) for cls in (EntropyCodedHiFiC, SparseMatrixHiFiC))
    rans_bytes, matrix_bytes = rans.encode(kodim01_crop, "lo"), matrix.encode(kodim01_crop, "lo")
    assert rans_bytes[:2] == b"HF" and matrix_bytes[:2] == b"HS"
    np.testing.assert_array_equal(rans.decode(rans_bytes), matrix.decode(matrix_bytes))


@pytest.mark.slow
def test_bench_run_all_codecs_includes_both_families_in_both_bitstreams(tmp_path):
    result = run_bench("run", "--codecs", "all", "--dataset", "kodak", "--limit", "1", "--metrics", "psnr", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "results.csv")
    learned = table[table["codec"].str.startswith("hific-cpu-")]
    assert sorted(learned["codec"].unique()) == sorted(f"{family}{suffix}" for family in FAMILIES for suffix in ("", "-sparse-matrix"))
    assert len(learned) == 4 * len(RATES) and (learned["status"] == "ok").all()
    assert (learned["psnr"] > 15).all()
