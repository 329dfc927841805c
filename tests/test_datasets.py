"""The dataset catalogue: local copies, verification, and real downloads (from file:// URLs)."""
from __future__ import annotations

import hashlib
import tarfile

import pytest
import yaml

from bench import datasets


def test_kodak_resolves_from_the_local_copy_with_verified_checksums(data_dir):
    paths = datasets.resolve("kodak", data_dir=data_dir)
    assert [p.name for p in paths[:2]] == ["kodim01.png", "kodim02.png"] and len(paths) == 24
    assert datasets.sha256_of(paths[0]) == "a56e27cbf5f843c048b6af1d6e090760e9c92fadba88b7dee0205918a37523bd"


def test_catalogue_has_the_standard_sets_with_official_urls():
    catalog = datasets.load_catalog()
    assert {"kodak", "bsds500-val", "urban100", "urban100-subset50", "clic2020-professional-valid", "div2k-valid"} <= set(catalog)
    assert catalog["div2k-valid"].download["url"] == "http://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip"
    assert len(catalog["urban100-subset50"].files) == 50


def _catalogue(tmp_path, source, files):
    entry = {
        "toy": {"description": "toy", "license": "none", "local_dir": "toy",
                "download": {"kind": "files", "url_template": f"file://{source}/{{name}}"},
                "files": files},
        "toy-archive": {"description": "toy", "license": "none", "local_dir": "toy",
                        "download": {"kind": "archive", "url": f"file://{source}/bundle.tgz", "members": "images/", "suffixes": [".png"]}},
    }
    path = tmp_path / "datasets.yaml"
    path.write_text(yaml.safe_dump(entry))
    return datasets.load_catalog(path)


def test_fetch_downloads_verifies_and_caches(tmp_path, kodak_dir, monkeypatch):
    monkeypatch.delenv(datasets.DATA_DIR_ENV)
    source = tmp_path / "server"
    source.mkdir()
    payload = (kodak_dir / "kodim03.png").read_bytes()
    (source / "a.png").write_bytes(payload)
    catalog = _catalogue(tmp_path, source, [{"name": "a.png", "sha256": hashlib.sha256(payload).hexdigest()}])
    paths = datasets.resolve("toy", data_dir=None, cache_dir=tmp_path / "cache", catalog=catalog)
    assert paths == [tmp_path / "cache" / "datasets" / "toy" / "a.png"] and paths[0].read_bytes() == payload

    with tarfile.open(source / "bundle.tgz", "w:gz") as bundle:
        bundle.add(source / "a.png", arcname="images/a.png")
        bundle.add(source / "a.png", arcname="other/b.png")
    folder = datasets.fetch("toy-archive", cache_dir=tmp_path / "cache", catalog=catalog)
    assert sorted(p.name for p in folder.iterdir()) == ["a.png"]


def test_a_corrupt_download_is_refused_and_not_cached(tmp_path, kodak_dir):
    source = tmp_path / "server"
    source.mkdir()
    (source / "a.png").write_bytes(b"tampered")
    catalog = _catalogue(tmp_path, source, [{"name": "a.png", "sha256": "0" * 64}])
    with pytest.raises(datasets.DatasetError, match="does not match its sha256"):
        datasets.fetch("toy", cache_dir=tmp_path / "cache", catalog=catalog)
    assert not (tmp_path / "cache" / "datasets" / "toy").exists()


def test_a_local_copy_missing_a_file_says_how_to_fix_it(tmp_path):
    (tmp_path / "kodak").mkdir()
    with pytest.raises(datasets.DatasetError, match="kodim01.png is missing .*bench datasets fetch kodak"):
        datasets.resolve("kodak", data_dir=tmp_path)


def test_fetch_keeps_a_cache_dir_given_before_the_action():
    from bench.cli import build_parser

    args = build_parser().parse_args(["datasets", "--cache-dir", "/somewhere", "fetch", "kodak"])
    assert str(args.cache_dir) == "/somewhere" and args.name == "kodak"
