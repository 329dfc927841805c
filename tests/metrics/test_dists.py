import copy
import urllib.error
from types import SimpleNamespace

import pytest
import torch
import torchvision.models
from piq import DISTS as PiqDISTS

from bench.metrics.dists import DISTS, DISTSOptions, load_dists
from bench.metrics.registry import select_metrics
from bench.weights import WeightsError
from ctc_reference import rgb10


@pytest.fixture(scope="module")
def trunk_weights(tmp_path_factory):
    """A weights folder with a VGG16 features file (random, seeded: the ImageNet one is not available offline)."""
    folder = tmp_path_factory.mktemp("weights")
    (folder / "dists_vgg16_features").mkdir()
    torch.manual_seed(0)
    features = torchvision.models.vgg16(weights=None).features
    torch.save(features.state_dict(), folder / "dists_vgg16_features" / "vgg16_features_imagenet.pth")
    return folder, features


def test_dists_equals_piqs_implementation_on_the_same_weights(trunk_weights, kodim01_crop, jpeg, monkeypatch):
    folder, features = trunk_weights
    reference, reconstruction = kodim01_crop[:128, :192], jpeg(kodim01_crop[:128, :192], 20)
    metric = DISTS(DISTSOptions(weights_dir=folder))
    metric.check()
    value = metric.measure(reference, reconstruction)["dists"]

    # piq's DISTS (its own L2 pooling and pooling of statistics) on the same trunk and the same
    # alpha / beta, which piq would otherwise download; below 256 px piq does not resize.
    model = load_dists(metric.backbone_path(), "cpu")
    alpha_beta = {"alpha": model.alpha.data, "beta": model.beta.data}
    monkeypatch.setattr("piq.perceptual.vgg16", lambda **_: SimpleNamespace(features=copy.deepcopy(features)))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", lambda *args, **kwargs: alpha_beta)
    as_tensor = lambda image: torch.from_numpy(rgb10(image) / 1023).permute(2, 0, 1)[None].float()  # noqa: E731
    with torch.no_grad():
        expected = float(PiqDISTS()(as_tensor(reconstruction), as_tensor(reference)))
    # DISTS is 1 minus a weighted sum near 1, so float32 leaves about 1e-7 of absolute error each.
    assert value == pytest.approx(expected, abs=1e-6)
    assert value > 1e-3
    assert metric.measure(reference, reference)["dists"] == pytest.approx(0.0, abs=1e-6)
    assert metric.signature().startswith("dists-pytorch:")


def test_a_weights_folder_without_the_trunk_names_the_file_to_put_there(tmp_path):
    metric = DISTS(DISTSOptions(weights_dir=tmp_path))
    with pytest.raises(WeightsError, match=r"missing weights file .*dists_vgg16_features/vgg16_features_imagenet\.pth"):
        metric.check()
    # Only DISTS is affected: every other metric is still listed and chosen.
    selection = select_metrics("all", [DISTSOptions(weights_dir=tmp_path)])
    assert "dists" in selection.unavailable and "psnr" in selection.chosen


def test_offline_without_a_weights_folder_says_where_the_trunk_goes(monkeypatch):
    monkeypatch.delenv("BENCH_WEIGHTS_DIR", raising=False)

    def offline(weights=None):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.models, "vgg16", offline)
    load_dists.cache_clear()
    with pytest.raises(WeightsError, match=r"dists_vgg16/vgg16_features_imagenet\.pth .*--weights-dir") as error:
        DISTS(DISTSOptions()).check()
    assert "\n" not in str(error.value)


def test_a_file_that_is_not_a_vgg16_trunk_is_refused(tmp_path):
    (tmp_path / "dists_vgg16_features").mkdir()
    torch.save({"weight": torch.zeros(1)}, tmp_path / "dists_vgg16_features" / "vgg16_features_imagenet.pth")
    with pytest.raises(WeightsError, match="not a VGG16 features state dict"):
        DISTS(DISTSOptions(weights_dir=tmp_path)).check()


def test_the_reference_trunk_outputs_once_give_the_same_values(trunk_weights, kodim01_crop, jpeg):
    folder, _ = trunk_weights
    reference = kodim01_crop[:128, :192]
    metric = DISTS(DISTSOptions(weights_dir=folder))
    prepared = metric.prepare_reference(reference)
    for quality in (20, 60, 20):
        reconstruction = jpeg(reference, quality)
        assert metric.measure_prepared(prepared, reconstruction) == metric.measure(reference, reconstruction)
    # The model answers its own first pass again afterwards.
    assert "forward_once" not in vars(load_dists(metric.backbone_path(), "cpu"))
