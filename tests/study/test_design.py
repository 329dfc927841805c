"""Making a study from a run folder: its pairs, trials, gold images and each rater's sequence."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from bench.study.design import GOLD, MAIN, REPEAT, StudyError, create_study, damaged, load_study, matched_pairs, parse_pair

from study_helpers import NEIGHBOURS


def test_matched_pairs_take_each_points_nearest_partner_within_the_tolerance():
    bpp = {"a/1": 0.10, "a/2": 0.50, "b/1": 0.11, "b/2": 0.70, "c/1": 0.105}
    # a/2 -> b/2 is 40 % apart (out), b/2's nearest in a is a/2 (out); c/1's partners are a/1 and b/1.
    assert matched_pairs(bpp, 0.2) == [("a/1", "b/1"), ("a/1", "c/1"), ("b/1", "c/1")]
    assert matched_pairs(bpp, 0.5) == [("a/1", "b/1"), ("a/2", "b/2"), ("a/1", "c/1"), ("b/1", "c/1")]
    assert matched_pairs(bpp, 0.2, codecs=["c"]) == [("c/1", "a/1"), ("c/1", "b/1")]


def test_a_study_holds_every_pair_on_every_image_and_its_own_copies(make_study):
    study = make_study(golds=3)
    pairs = [tuple(pair) for pair in study.spec["settings"]["pairs"]]
    # The neighbours first, then the matched pairs the run's bpps give (JPEG and WebP at three settings).
    assert pairs[:4] == NEIGHBOURS and len(pairs) > 4
    assert all(a.split("/")[0] != b.split("/")[0] for a, b in pairs[4:])
    images = [image["name"] for image in study.spec["images"]]
    assert Counter((t["image"], t["a"], t["b"]) for t in study.trials) == Counter((i, a, b) for i in images for a, b in pairs)
    files = {name for trial in study.trials + study.golds for name in trial["files"]} | {i["original"] for i in study.spec["images"]}
    assert files == {path.name for path in study.images_dir.iterdir()}
    assert set(study.spec["metrics"][0]) == {"column", "label", "higher_is_better"}
    assert {m["column"] for m in study.metrics} >= {"psnr", "ms_ssim", "niqe"}
    assert len(study.golds) == 3 and all(g["a"] == "original" and g["b"] == "damaged" for g in study.golds)
    assert load_study(study.path).spec == json.loads((study.path / "study.json").read_text())


def test_gold_images_are_visibly_damaged(kodim01):
    crop = np.ascontiguousarray(kodim01[:192, :192])
    mse = np.mean((damaged(crop, 0).astype(float) - crop) ** 2)
    assert 10 * np.log10(255 ** 2 / mse) < 25
    assert np.array_equal(damaged(crop, 0), damaged(crop, 0)) and not np.array_equal(damaged(crop, 0), damaged(crop, 1))


def test_each_rater_has_a_seeded_balanced_sequence(make_study):
    study = make_study(repeats=3, golds=2)
    first, again, other = study.sequence(0), study.sequence(0), study.sequence(1)
    assert first == again and [s.id for s in first] != [s.id for s in other]
    for slots in (first, other):
        kinds = Counter(slot.kind for slot in slots)
        assert kinds == {MAIN: len(study.trials), GOLD: 2, REPEAT: 3}
        assert len({slot.id for slot in slots}) == len(slots)
        for index, slot in enumerate(slots):
            if slot.kind == REPEAT:
                shown = [k for k, s in enumerate(slots) if s.id == slot.trial]
                assert shown and shown[0] < index
                original = slots[shown[0]]
                assert (slot.left, slot.right, slot.left_file) == (original.right, original.left, original.right_file)
    sides = [slot.left == study.trial(slot.trial)["a"] for k in range(8) for slot in study.sequence(k) if slot.kind == MAIN]
    assert 0.35 < np.mean(sides) < 0.65


def test_trials_per_rater_gives_each_trial_to_raters_equally_often(make_study):
    study = make_study(trials_per_rater=5, repeats=1, golds=1)
    n = len(study.trials)
    counts = Counter(slot.trial for k in range(n) for slot in study.sequence(k) if slot.kind == MAIN)
    assert set(counts.values()) == {5} and len(counts) == n


def test_a_run_without_reconstructions_gets_one_line_saying_so(study_run, tmp_path):
    import pandas as pd

    run_dir, originals = study_run
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("results.csv", "metrics.json", "metadata.json"):
        (bare / name).write_bytes((run_dir / name).read_bytes())
    table = pd.read_csv(bare / "results.csv")
    table["recon_path"] = None
    table.to_csv(bare / "results.csv", index=False)
    with pytest.raises(StudyError, match="--save-recon"):
        create_study(bare, tmp_path / "study", originals=originals)


def test_bad_pairs_and_folders_are_one_line_errors(make_study, study_run, tmp_path):
    with pytest.raises(StudyError, match="CODEC/POINT:CODEC/POINT"):
        parse_pair("jpeg:webp")
    with pytest.raises(StudyError, match="no condition 'jpeg/7'.*jpeg/5"):
        make_study(pairs=[("jpeg/7", "webp/5")])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(StudyError, match="not an empty folder"):
        create_study(study_run[0], tmp_path / "full")
    with pytest.raises(StudyError, match="not a study folder"):
        load_study(tmp_path)
    with pytest.raises(StudyError, match="no pair"):
        make_study(pairs=[], tolerance=0.0)
