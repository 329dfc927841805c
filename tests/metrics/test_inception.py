"""FID Inception features with the real weights, on a few Kodak images."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.metrics.fid import FID, fid_from_features
from bench.metrics.inception import BATCH_SIZE, InceptionOptions, inception_features, load_inception, read_inception_state
from bench.metrics.kid import KID, kid_from_features
from bench.metrics.patches import extract_patches
from bench.weights import WeightsError, weights_file

KODAK_SUBSET = ("kodim01", "kodim04", "kodim13", "kodim23")  # three landscape, one portrait


@pytest.fixture(scope="module")
def inception(weights_dir):
    return load_inception(weights_file("fid_inception_v3", weights_dir))


@pytest.fixture(scope="module")
def kodak_patches(data_dir):
    from bench.imageio import read_image

    return [extract_patches(read_image(data_dir / "kodak" / f"{name}.png")) for name in KODAK_SUBSET]


def features_of(patch_sets, inception) -> np.ndarray:
    return inception_features(np.concatenate(patch_sets), inception)


def test_fid_of_a_set_against_itself_is_zero(inception, kodak_patches):
    features = features_of(kodak_patches, inception)
    assert features.shape == (32, 2048)
    assert features.min() >= 0.0 and 0.1 < features.mean() < 1.0  # post-ReLU average pool
    assert fid_from_features(features, features) == pytest.approx(0.0, abs=1e-6)


def test_fid_and_kid_grow_as_jpeg_quality_falls(inception, kodak_patches, jpeg):
    reference = features_of(kodak_patches, inception)
    scores = {}
    for quality in (90, 5):
        distorted = features_of([np.stack([jpeg(patch, quality) for patch in patches]) for patches in kodak_patches], inception)
        scores[quality] = (fid_from_features(reference, distorted), kid_from_features(reference, distorted)[0])
    print(f"FID/KID on {len(reference)} Kodak patches: q90 {scores[90]}, q5 {scores[5]}")
    assert scores[5][0] > 2 * scores[90][0] > 0
    assert scores[5][1] > scores[90][1]


def test_batch_size_does_not_change_features(inception, kodak_patches):
    patches = kodak_patches[0]  # 8 patches: two calls at the CPU's default batch size, one at 8
    features = inception_features(patches, inception)
    assert next(inception.parameters()).device.type == "cpu" and len(patches) > BATCH_SIZE["cpu"]
    for batch_size in (1, 8):
        np.testing.assert_allclose(inception_features(patches, inception, batch_size=batch_size), features, rtol=1e-5, atol=1e-6)


def test_weights_missing_more_than_fc_are_refused_with_the_keys(weights_dir, tmp_path):
    state = torch.load(weights_file("fid_inception_v3", weights_dir), weights_only=True)
    del state["Mixed_7c.branch_pool.conv.weight"]
    state["aux.weight"] = torch.zeros(1)
    broken = tmp_path / "broken.pth"
    torch.save(state, broken)
    with pytest.raises(
        WeightsError,
        match=r"broken\.pth is not an FID Inception-v3 state dict \(missing: Mixed_7c\.branch_pool\.conv\.weight; "
        r"unexpected: aux\.weight\); only fc\.\* may be absent",
    ):
        read_inception_state(broken)


def test_missing_fc_is_filled_with_nan_placeholders(weights_dir):
    state = read_inception_state(weights_file("fid_inception_v3", weights_dir))
    assert state["fc.weight"].shape == (1008, 2048) and torch.isnan(state["fc.bias"]).all()


def inception_file_in(weights_dir: Path) -> Path:
    """Where FID/KID read the Inception weights under ``weights_dir`` (the folder is created)."""
    folder = weights_dir / "fid_inception_v3"
    folder.mkdir(parents=True)
    return folder / "pt_inception-2015-12-05_nofc.pth"


@pytest.mark.parametrize("metric_class", [FID, KID])
def test_check_refuses_a_truncated_weights_file_in_one_line(metric_class, weights_dir, tmp_path):
    original = weights_file("fid_inception_v3", weights_dir)
    path = inception_file_in(tmp_path)
    path.write_bytes(original.read_bytes()[: 1 << 20])
    with pytest.raises(WeightsError) as raised:
        metric_class(InceptionOptions(weights_dir=tmp_path)).check()
    assert str(raised.value) == (
        f"cannot read weights file {path} (RuntimeError): it is corrupt or not a PyTorch state dict; "
        "replace it with the file listed under Weights in docs/metrics.md"
    )


def test_check_refuses_weights_with_missing_keys(weights_dir, tmp_path):
    state = torch.load(weights_file("fid_inception_v3", weights_dir), weights_only=True)
    del state["Conv2d_1a_3x3.conv.weight"]
    torch.save(state, inception_file_in(tmp_path))
    with pytest.raises(WeightsError, match=r"is not an FID Inception-v3 state dict \(missing: Conv2d_1a_3x3\.conv\.weight;"):
        FID(InceptionOptions(weights_dir=tmp_path)).check()


def test_signature_is_the_feature_key_with_the_weights_hash(weights_dir):
    path = weights_file("fid_inception_v3", weights_dir)
    fid, kid = FID(InceptionOptions(weights_dir=weights_dir)), KID(InceptionOptions(weights_dir=weights_dir))
    expected = f"inception-2015-12-05-pool3/hific-patches-256/{hashlib.sha256(path.read_bytes()).hexdigest()}"
    assert fid.signature() == kid.signature() == fid.feature_key() == expected
