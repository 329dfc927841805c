"""Resolving the weights directory: option, then $BENCH_WEIGHTS_DIR, else download."""
from __future__ import annotations

import pytest
import torch

from bench.constants import WEIGHTS_DIR_ENV
from bench.weights import WeightsError, load_state_dict, weights_dir, weights_file


@pytest.fixture
def two_dirs(tmp_path):
    for name in ("option", "env"):
        (tmp_path / name / "fid_inception_v3").mkdir(parents=True)
        (tmp_path / name / "fid_inception_v3" / "pt_inception-2015-12-05_nofc.pth").write_bytes(b"x")
    return tmp_path / "option", tmp_path / "env"


def test_option_wins_over_environment(two_dirs, monkeypatch):
    option, env = two_dirs
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(env))
    assert weights_file("fid_inception_v3", option) == option / "fid_inception_v3" / "pt_inception-2015-12-05_nofc.pth"
    assert weights_dir(None) == env


def test_neither_means_download(monkeypatch):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    assert weights_dir(None) is None and weights_file("lpips_alex", None) is None


def test_pytorch_fid_file_name_is_accepted_too(tmp_path):
    (tmp_path / "fid_inception_v3").mkdir()
    (tmp_path / "fid_inception_v3" / "pt_inception-2015-12-05-6726825d.pth").write_bytes(b"x")
    assert weights_file("fid_inception_v3", tmp_path).name == "pt_inception-2015-12-05-6726825d.pth"


def test_missing_directory_and_file_are_one_line_errors(tmp_path):
    with pytest.raises(WeightsError, match=r"^weights directory .*nowhere does not exist; pass an existing folder"):
        weights_dir(tmp_path / "nowhere")
    with pytest.raises(WeightsError, match=r"missing weights file .*lpips_squeezenet1_1_features/squeezenet1_1_features\.pth; put it there"):
        weights_file("lpips_squeeze", tmp_path)


def test_state_dict_round_trip(tmp_path):
    saved = {"features.0.weight": torch.arange(6.0).reshape(2, 3)}
    torch.save(saved, tmp_path / "good.pth")
    assert torch.equal(load_state_dict(tmp_path / "good.pth")["features.0.weight"], saved["features.0.weight"])


@pytest.mark.parametrize(
    "content, kind",
    [
        (lambda path: path.write_bytes(b"not a checkpoint\n"), "UnpicklingError"),
        (lambda path: path.write_bytes(path.with_name("good.pth").read_bytes()[:300]), "RuntimeError"),
    ],
    ids=["text", "truncated"],
)
def test_unreadable_file_is_one_line_naming_it_and_never_suggests_unsafe_loading(tmp_path, content, kind):
    torch.save({"weight": torch.zeros(64, 64)}, tmp_path / "good.pth")
    content(tmp_path / "bad.pth")
    with pytest.raises(WeightsError) as raised:
        load_state_dict(tmp_path / "bad.pth")
    assert str(raised.value) == (
        f"cannot read weights file {tmp_path / 'bad.pth'} ({kind}): it is corrupt or not a PyTorch state dict; "
        "replace it with the file listed under Weights in docs/metrics.md"
    )


def test_file_without_tensors_is_refused(tmp_path):
    torch.save({"epoch": 3}, tmp_path / "card.pth")
    with pytest.raises(WeightsError, match=r"card\.pth is not a state dict of tensors; replace it"):
        load_state_dict(tmp_path / "card.pth")
