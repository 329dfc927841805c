"""LPIPS through bench.metrics.lpips, checked against the lpips package itself."""
from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.device import resolve_device
from bench.metrics.lpips import LPIPS, LPIPSOptions, load_lpips, to_lpips_tensor
from bench.weights import WeightsError, weights_file

BACKBONES = {"alex": "alexnet", "squeeze": "squeezenet1_1"}


def package_lpips_with_weights(net: str, weights_dir) -> torch.nn.Module:
    """lpips.LPIPS whose trunk gets the weights through torchvision's own model, not our loader."""
    import torchvision

    import lpips

    model = lpips.LPIPS(net=net, pnet_rand=True, verbose=False).eval()
    state = torch.load(weights_file(f"lpips_{net}", weights_dir), weights_only=True)
    features = getattr(torchvision.models, BACKBONES[net])().features
    features.load_state_dict({key.removeprefix("features."): value for key, value in state.items()})
    for trunk_slice in model.net.children():
        for index, module in trunk_slice.named_children():
            module.load_state_dict(features[int(index)].state_dict())
    return model


@pytest.mark.parametrize("net", ["alex", "squeeze"])
def test_lpips_equals_package_forward(net, weights_dir, kodim01, jpeg):
    reference, reconstruction = kodim01[:256, :384], jpeg(kodim01, 20)[:256, :384]
    metric = LPIPS(LPIPSOptions(weights_dir=weights_dir, net=net))
    ours = metric.measure(reference, reconstruction)["lpips"]

    package = package_lpips_with_weights(net, weights_dir)
    to_unit = lambda image: torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255.0  # noqa: E731
    with torch.no_grad():
        expected = float(package(to_unit(reference), to_unit(reconstruction), normalize=True))
    assert ours == pytest.approx(expected, abs=1e-5)
    assert 0.05 < ours < 1.0


def test_lpips_of_identical_images_is_zero(weights_dir, kodim01):
    assert LPIPS(LPIPSOptions(weights_dir=weights_dir)).measure(kodim01, kodim01)["lpips"] == 0.0


def test_lpips_grows_as_jpeg_quality_falls(weights_dir, kodim01, jpeg):
    metric = LPIPS(LPIPSOptions(weights_dir=weights_dir))
    scores = [metric.measure(kodim01, jpeg(kodim01, quality))["lpips"] for quality in (90, 50, 10, 2)]
    assert scores == sorted(scores)
    assert scores[0] < 0.1 and scores[-1] > 0.4


def test_lpips_input_scaling_is_minus_one_to_one():
    tensor = to_lpips_tensor(np.array([[[0, 255, 51]]], dtype=np.uint8))
    assert tensor.flatten().tolist() == pytest.approx([-1.0, 1.0, -0.6])


def test_metric_pickles_and_shares_the_model(weights_dir, kodim01):
    metric = LPIPS(LPIPSOptions(weights_dir=weights_dir))
    copy = pickle.loads(pickle.dumps(metric))
    assert copy.model() is metric.model() is load_lpips("alex", metric.backbone_path, "cpu")
    patch = kodim01[:64, :64]
    assert copy.measure(patch, patch[::-1])["lpips"] == metric.measure(patch, patch[::-1])["lpips"]


def test_missing_weights_file_names_it(tmp_path):
    (tmp_path / "lpips_alexnet_features").mkdir()
    with pytest.raises(WeightsError, match=r"lpips_alexnet_features/alexnet_features_imagenet\.pth"):
        LPIPS(LPIPSOptions(weights_dir=tmp_path))


def test_weights_of_the_wrong_network_are_refused(weights_dir, tmp_path):
    from bench.metrics.lpips import load_backbone

    import lpips

    model = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False)
    squeeze = weights_file("lpips_squeeze", weights_dir)
    with pytest.raises(WeightsError, match="does not fit the LPIPS alex backbone.*missing: 10.bias"):
        load_backbone(model, squeeze)


def test_unknown_network_is_refused():
    with pytest.raises(ValueError, match=r"unknown LPIPS net 'vgg' \(--lpips-net\); choose one of alex, squeeze"):
        LPIPS(LPIPSOptions(net="vgg"))


def alex_file_in(weights_dir: Path) -> Path:
    """Where LPIPS alex reads its backbone under ``weights_dir`` (the folder is created)."""
    folder = weights_dir / "lpips_alexnet_features"
    folder.mkdir(parents=True)
    return folder / "alexnet_features_imagenet.pth"


def test_check_refuses_a_corrupt_weights_file_in_one_line(tmp_path):
    path = alex_file_in(tmp_path)
    path.write_bytes(b"<html>404 Not Found</html>\n")
    metric = LPIPS(LPIPSOptions(weights_dir=tmp_path))
    with pytest.raises(WeightsError) as raised:
        metric.check()
    message = str(raised.value)
    assert message.startswith(f"cannot read weights file {path} (UnpicklingError): it is corrupt")
    assert "\n" not in message and "weights_only" not in message


def test_check_loads_the_model_that_measure_uses(weights_dir):
    metric = LPIPS(LPIPSOptions(weights_dir=weights_dir))
    metric.check()
    assert metric.model() is load_lpips("alex", metric.backbone_path, resolve_device("auto"))


def test_signature_names_the_network_and_the_backbone_file(weights_dir, tmp_path):
    alex, squeeze = LPIPS(LPIPSOptions(weights_dir=weights_dir)), LPIPS(LPIPSOptions(weights_dir=weights_dir, net="squeeze"))
    assert alex.signature() == f"lpips-v0.1:alex:{hashlib.sha256(alex.backbone_path.read_bytes()).hexdigest()}"
    assert squeeze.signature().startswith("lpips-v0.1:squeeze:") and squeeze.signature() != alex.signature()

    state = torch.load(alex.backbone_path, weights_only=True)
    state["features.0.bias"] = state["features.0.bias"] + 1e-3
    torch.save(state, alex_file_in(tmp_path))
    retrained = LPIPS(LPIPSOptions(weights_dir=tmp_path))
    assert retrained.signature().startswith("lpips-v0.1:alex:") and retrained.signature() != alex.signature()


def test_signature_without_a_weights_dir_names_the_download(monkeypatch):
    monkeypatch.delenv("BENCH_WEIGHTS_DIR")
    assert LPIPS().signature() == "lpips-v0.1:alex:torchvision-download"
