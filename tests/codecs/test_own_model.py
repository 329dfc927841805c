"""Your own learned codec with no code: a model class nobody registered, from checkpoints as
training repositories write them, declared in YAML or on the command line."""
from __future__ import annotations

import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch

from bench.codecs.compressai_style import image_to_tensor, tensor_to_image
from bench.codecs.own_model import OwnModelCodec, OwnModelOptions, load_state_dict
from bench.errors import BenchError
from bench.imageio import read_image
from cli_helpers import run_bench

MODEL_SOURCE = textwrap.dedent('''
    from torch import nn
    from compressai.entropy_models import EntropyBottleneck
    from compressai.models import CompressionModel


    class TinyFactorized(CompressionModel):
        """Downsamples by 4: a model that needs images padded to a multiple of 4 only."""

        def __init__(self, N=8):
            super().__init__()
            self.entropy_bottleneck = EntropyBottleneck(N)
            self.g_a = nn.Sequential(nn.Conv2d(3, N, 5, stride=2, padding=2), nn.ReLU(), nn.Conv2d(N, N, 5, stride=2, padding=2))
            self.g_s = nn.Sequential(
                nn.ConvTranspose2d(N, N, 5, stride=2, padding=2, output_padding=1), nn.ReLU(),
                nn.ConvTranspose2d(N, 3, 5, stride=2, padding=2, output_padding=1),
            )

        def forward(self, x):
            y_hat, likelihoods = self.entropy_bottleneck(self.g_a(x))
            return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": likelihoods}}

        def compress(self, x):
            y = self.g_a(x)
            return {"strings": [self.entropy_bottleneck.compress(y)], "shape": y.size()[-2:]}

        def decompress(self, strings, shape):
            return {"x_hat": self.g_s(self.entropy_bottleneck.decompress(strings[0], shape)).clamp_(0, 1)}
''')
#: How each checkpoint file stores its state dict, as real repositories do.
LAYOUTS = {
    "bare": lambda state: state,
    "state_dict": lambda state: {"state_dict": state, "epoch": 7},
    "model": lambda state: {"model": state, "optimizer": {"lr": 1e-4}},
    "network": lambda state: {"network": state},
    "dataparallel": lambda state: {"state_dict": {f"module.{key}": value for key, value in state.items()}},
}


@pytest.fixture
def my_models(tmp_path, monkeypatch):
    """A module of the user's own (on sys.path, as an installed package of theirs would be), and
    one checkpoint per layout with different random weights: the rates differ by the bottleneck's scale."""
    (tmp_path / "mymodels.py").write_text(MODEL_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("mymodels", None)
    from bench._torchvision import ensure_torchvision

    ensure_torchvision()  # compressai imports torchvision (see ENVIRONMENT: its C operators fail here)
    import mymodels

    folder = tmp_path / "ckpts"
    folder.mkdir()
    for index, (layout, wrap) in enumerate(LAYOUTS.items()):
        torch.manual_seed(0)
        model = mymodels.TinyFactorized(N=8)
        with torch.no_grad():
            model.g_a[2].weight.mul_(8 ** (index + 1))  # larger latents, more bits
        torch.save(wrap(model.state_dict()), folder / f"{layout}.pth.tar")
    return tmp_path


def model_codec(folder, **changes) -> OwnModelCodec:
    spec = f"mine={{class: mymodels:TinyFactorized, args: {{N: 8}}, checkpoints: {folder / 'ckpts'}, pad_multiple: 4}}"
    (codec,) = OwnModelCodec.instances(OwnModelOptions(models=(spec,))).values()
    return codec


def test_every_checkpoint_layout_loads_to_the_same_tensors(my_models):
    states = {layout: load_state_dict(my_models / "ckpts" / f"{layout}.pth.tar") for layout in LAYOUTS}
    assert all(set(state) == set(states["bare"]) for state in states.values())
    assert not any(key.startswith("module.") for key in states["dataparallel"])


def test_settings_are_the_checkpoints_ordered_by_rate(my_models):
    codec = model_codec(my_models)
    # Weights scaled up with the layout's index: the order of the files' rates, not of their names.
    assert codec.settings == ["bare", "state_dict", "model", "network", "dataparallel"]


def test_a_non_multiple_image_round_trips_at_its_size_and_equals_the_model_s_own_coding(my_models, kodim01):
    import mymodels

    codec = model_codec(my_models)
    image = np.ascontiguousarray(kodim01[:101, :150])
    bitstream = codec.encode(image, "network")
    decoded = codec.decode(bitstream)
    assert decoded.shape == image.shape
    # The model's own compress / decompress on the same padded tensor.
    model = mymodels.TinyFactorized(N=8)
    model.load_state_dict(load_state_dict(my_models / "ckpts" / "network.pth.tar"))
    model.update(force=True)
    model.eval()
    with torch.no_grad():
        compressed = model.compress(image_to_tensor(image, 4))
        expected = tensor_to_image(model.decompress(compressed["strings"], compressed["shape"])["x_hat"], 101, 150)
    np.testing.assert_array_equal(decoded, expected)
    assert 0 < len(bitstream) - len(compressed["strings"][0][0]) < 20  # the strings, plus a small header
    info = codec.analyse(image, "network", codec.encode_with_context(image, "network"))
    assert info["bpp_estimate"] > 0


def test_the_rate_does_not_depend_on_the_checkpoints_name(my_models, kodim01):
    import shutil

    from bench.codecs.compressai_style import setting_id

    names = ["a", "a-much-longer-checkpoint-name-of-a-long-training-run"]
    for name in names:
        shutil.copy(my_models / "ckpts" / "network.pth.tar", my_models / f"{name}.pth.tar")
    spec = "mine={class: mymodels.TinyFactorized, args: {N: 8}, pad_multiple: 4, checkpoints: {%s}}" % ", ".join(
        f"{name}: {my_models / name}.pth.tar" for name in names)
    (codec,) = OwnModelCodec.instances(OwnModelOptions(models=(spec,))).values()
    image = np.ascontiguousarray(kodim01[:64, :96])
    short, long = (codec.encode(image, name) for name in names)
    assert len(short) == len(long) and short[3:7] == setting_id(names[0]) and long[3:7] == setting_id(names[1])
    assert short[:3] + short[7:] == long[:3] + long[7:]
    np.testing.assert_array_equal(codec.decode(long), codec.decode(short))


def test_bench_run_over_a_model_config_file(my_models, kodak_dir, tmp_path):
    import mymodels

    config = my_models / "models.yaml"
    config.write_text("models:\n  mine:\n    class: mymodels.TinyFactorized\n    args: {N: 8}\n"
                      "    checkpoints: {lo: ckpts/bare.pth.tar, hi: ckpts/dataparallel.pth.tar}\n    pad_multiple: 4\n")
    run = tmp_path / "run"
    result = run_bench("run", "--codecs", "mine", "--model-config", str(config), "--images", str(kodak_dir / "kodim0[12].png"),
                       "--metrics", "psnr", "--save-recon", "--jobs", "1", "--out", str(run), PYTHONPATH=str(my_models))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(run / "results.csv")
    assert sorted(table["point"]) == ["hi", "hi", "lo", "lo"] and (table["status"] == "ok").all()
    model = mymodels.TinyFactorized(N=8)
    model.load_state_dict(load_state_dict(my_models / "ckpts" / "bare.pth.tar"))
    model.update(force=True)
    model.eval()
    row = table[(table["point"] == "lo") & (table["image"] == "kodim01.png")].iloc[0]
    image = read_image(kodak_dir / "kodim01.png")
    with torch.no_grad():
        compressed = model.compress(image_to_tensor(image, 4))
        expected = tensor_to_image(model.decompress(compressed["strings"], compressed["shape"])["x_hat"], 512, 768)
    np.testing.assert_array_equal(read_image(run / row["recon_path"]), expected)
    # "CZ", version, the setting id (4 bytes), 512 and 768, the shape (2 x 2 bytes), the count, the length (3 bytes).
    assert row["bytes"] - len(compressed["strings"][0][0]) == 19
    complexity = pd.read_csv(run / "complexity.csv")
    assert sorted(complexity["point"]) == ["hi", "lo"] and (complexity["kmac_per_pixel_decode"] > 0).all()


@pytest.mark.parametrize("spec, message", [
    ("mine={class: mymodels:Nope, checkpoints: ckpts}", "mine: cannot import mymodels:Nope (AttributeError"),
    ("mine={checkpoints: ckpts}", "`class` must name the model class"),
    ("mine={class: mymodels:TinyFactorized, checkpoints: ckpts, lr: 3}", "unknown key(s) lr"),
    ("mine={class: mymodels:TinyFactorized, checkpoints: 'ckpts/*.zip'}", "'ckpts/*.zip' matches no file"),
])
def test_mistakes_are_one_line_naming_what_is_wrong(my_models, monkeypatch, spec, message):
    monkeypatch.chdir(my_models)
    try:
        (codec,) = OwnModelCodec.instances(OwnModelOptions(models=(spec,))).values()
        codec.check_available()
    except Exception as exc:  # noqa: BLE001 - BenchError or CodecUnavailable
        assert message in str(exc) and "\n" not in str(exc)
    else:
        pytest.fail("accepted")


def test_a_checkpoint_of_another_architecture_is_one_line(my_models, tmp_path):
    torch.save({"state_dict": {"other.weight": torch.zeros(3)}}, tmp_path / "other.pth")
    spec = f"mine={{class: mymodels:TinyFactorized, checkpoints: {tmp_path / 'other.pth'}}}"
    (codec,) = OwnModelCodec.instances(OwnModelOptions(models=(spec,))).values()
    with pytest.raises(ValueError, match=r"other\.pth: does not fit mymodels:TinyFactorized\(\{\}\): Error\(s\) in loading state_dict"):
        codec.model("other")


def test_two_models_of_one_name_are_refused(my_models):
    spec = f"mine={{class: mymodels:TinyFactorized, checkpoints: {my_models / 'ckpts'}}}"
    with pytest.raises(BenchError, match="model 'mine' is declared twice"):
        OwnModelCodec.instances(OwnModelOptions(models=(spec, spec)))


class RunsCode:
    """Pickled into a checkpoint: unpickling it would run code, which weights_only refuses."""

    def __reduce__(self):
        return (print, ("this checkpoint ran code",))


def test_unusable_checkpoints_and_arguments_cost_their_own_rows_with_one_line_each(my_models, kodak_dir, tmp_path):
    import mymodels

    folder = my_models / "ckpts"
    (folder / "text.pth").write_text("root:x:0:0:root:/root:/bin/bash\n")  # not a checkpoint at all
    torch.save({"state_dict": {"weights": RunsCode()}}, folder / "unsafe.pth")
    torch.save(mymodels.TinyFactorized(N=4).state_dict(), folder / "unfitting.pth")
    config = my_models / "models.yaml"
    config.write_text(textwrap.dedent("""\
        models:
          mine:
            class: mymodels:TinyFactorized
            args: {N: 8}
            checkpoints: {good: ckpts/bare.pth.tar, text: ckpts/text.pth, unsafe: ckpts/unsafe.pth, unfitting: ckpts/unfitting.pth}
            pad_multiple: 4
          wrong-args:
            class: mymodels:TinyFactorized
            args: {channels: 8}
            checkpoints: ckpts/bare.pth.tar
    """))
    run = tmp_path / "run"
    result = run_bench("run", "--codecs", "mine,wrong-args,jpeg", "--model-config", str(config), "--images", str(kodak_dir / "kodim01.png"),
                       "--metrics", "psnr", "--settings", "jpeg=50", "--jobs", "1", "--out", str(run), PYTHONPATH=str(my_models))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "this checkpoint ran code" not in result.stdout + result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("bench: warning:")]
    assert len(warnings) == 4, result.stderr
    table = pd.read_csv(run / "results.csv").set_index(["codec", "point"])
    assert table.loc[("jpeg", "50"), "status"] == "ok" and table.loc[("mine", "good"), "status"] == "ok"
    errors = table["error"].fillna("")
    assert errors[("mine", "text")].startswith("mine checkpoint text: ") and "weights_only=True" in errors[("mine", "text")]
    assert errors[("mine", "unsafe")].startswith("mine checkpoint unsafe: ") and "weights_only=True" in errors[("mine", "unsafe")]
    assert "does not fit mymodels:TinyFactorized" in errors[("mine", "unfitting")]
    assert "cannot be built: " in errors[("wrong-args", "bare")] and "channels" in errors[("wrong-args", "bare")]
    assert (table.drop([("jpeg", "50"), ("mine", "good")])["status"] == "error").all()


def test_a_model_that_hangs_in_the_rate_probe_costs_its_rows_not_the_run(my_models, monkeypatch):
    import time

    import mymodels
    from bench.codecs import own_model

    monkeypatch.setattr(mymodels.TinyFactorized, "compress", lambda self, x: time.sleep(3600))
    monkeypatch.setattr(own_model, "PROBE_SECONDS", 1.0)
    codec = model_codec(my_models)
    started = time.monotonic()
    with pytest.warns(UserWarning, match="took over 1 s"):
        assert codec.settings == sorted(LAYOUTS)  # every checkpoint unusable: the folder's order
    assert time.monotonic() - started < 30
    with pytest.raises(BenchError, match="mine checkpoint bare: coding a 128 x 128 image took over 1 s"):
        codec.prepare("bare")
