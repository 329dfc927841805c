"""A study's design: which pairs of conditions each rater judges on which images (``study.json``).

A *condition* is a codec at an operating point (``codec/point``, e.g. ``jpeg/20``). A *trial*
shows the original and two reconstructions of one image and asks which of the two is closer to
the original (2AFC with the reference shown, HiFiC's protocol). The trials are

* matched-bpp pairs: each point of a codec against the nearest point (by mean bpp over the
  study's images) of every other codec, kept when the two mean bpps differ by at most
  ``tolerance`` (relative to the lower one, default 20 %);
* explicit pairs (``--pairs A:B``);

each on every chosen image. Every rater also gets the *gold* trials (the original against a
visibly damaged copy: blurred and noisy, the original is the right answer) and ``repeats`` of
their own trials again with left and right swapped. Each rater's order and sides come from a
seed of their own (the study's seed and the rater's index), so a sequence is the same on every
visit. The study folder holds copies of every image under opaque names (their content's hash), so
the server reads nothing outside it. The format is documented in ``docs/study.md``.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image, ImageFilter

from bench.errors import BenchError
from bench.report.html import find_originals
from bench.report.rundata import RunData, load_run

STUDY_FILE = "study.json"
IMAGES_DIR = "images"
SCHEMA_VERSION = 1
QUESTION = "Which of the two images is closer to the original?"
#: Gold trials' conditions: they are never ranked.
ORIGINAL, DAMAGED = "original", "damaged"
MAIN, GOLD, REPEAT = "main", "gold", "repeat"


class StudyError(BenchError):
    """A study folder or design option that cannot be used, with a one-line reason and a fix."""


@dataclass(frozen=True)
class Slot:
    """One trial as one rater sees it: which file is on the left and which on the right."""

    id: str
    trial: str
    kind: str
    image: str
    left: str
    right: str
    left_file: str
    right_file: str
    reference_file: str


@dataclass
class Study:
    """A study folder's design, as read from its ``study.json``."""

    path: Path
    spec: dict[str, Any]

    @property
    def trials(self) -> list[dict[str, Any]]:
        return self.spec["trials"]

    @property
    def golds(self) -> list[dict[str, Any]]:
        return self.spec["golds"]

    @property
    def conditions(self) -> dict[str, dict[str, Any]]:
        return {condition["id"]: condition for condition in self.spec["conditions"]}

    @property
    def images(self) -> dict[str, dict[str, Any]]:
        return {image["name"]: image for image in self.spec["images"]}

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return self.spec["metrics"]

    @property
    def images_dir(self) -> Path:
        return self.path / IMAGES_DIR

    def trial(self, trial_id: str) -> dict[str, Any]:
        return {trial["id"]: trial for trial in self.trials + self.golds}[trial_id]

    def sequence(self, rater_index: int) -> list[Slot]:
        """The slots of rater ``rater_index`` (0, 1, ...) in the order they are shown."""
        settings = self.spec["settings"]
        rng = np.random.default_rng([settings["seed"], rater_index])
        trials = self.trials
        per_rater = settings.get("trials_per_rater") or len(trials)
        if per_rater < len(trials):
            # Consecutive raters take consecutive blocks of one seeded order: every trial is judged equally often.
            order = np.random.default_rng(settings["seed"]).permutation(len(trials))
            trials = [trials[order[(rater_index * per_rater + k) % len(trials)]] for k in range(per_rater)]
        shown = [trials[k] for k in rng.permutation(len(trials))] + list(self.golds)
        shown = [shown[k] for k in rng.permutation(len(shown))]
        swapped = {trial["id"]: bool(rng.integers(2)) for trial in shown}
        gold_ids = {trial["id"] for trial in self.golds}
        slots = [_slot(trial, trial["id"], GOLD if trial["id"] in gold_ids else MAIN, swapped[trial["id"]], self.images)
                 for trial in shown]
        repeated = rng.choice(len(trials), size=min(settings["repeats"], len(trials)), replace=False)
        for k in sorted(repeated):
            trial = trials[k]
            first = next(index for index, slot in enumerate(slots) if slot.trial == trial["id"])
            # Later than the first showing, and not right after it where possible.
            at = int(rng.integers(min(first + 2, len(slots)), len(slots) + 1))
            slots.insert(at, _slot(trial, f"{trial['id']}-r", REPEAT, not swapped[trial["id"]], self.images))
        return slots


def _slot(trial: dict[str, Any], slot_id: str, kind: str, swapped: bool, images: Mapping[str, dict[str, Any]]) -> Slot:
    sides = [(trial["a"], trial["files"][0]), (trial["b"], trial["files"][1])]
    (left, left_file), (right, right_file) = reversed(sides) if swapped else sides
    return Slot(slot_id, trial["id"], kind, trial["image"], left, right, left_file, right_file,
                images[trial["image"]]["original"])


def load_study(path: str | Path) -> Study:
    """Read the study folder ``path``; a :class:`StudyError` if it holds no readable ``study.json``."""
    path = Path(path)
    file = path / STUDY_FILE
    try:
        spec = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyError(f"{path}: not a study folder (no {STUDY_FILE}); make one with `bench study create RUN_DIR --out {path}`") from None
    except (OSError, ValueError) as exc:
        raise StudyError(f"{file}: cannot be read ({exc}); make the study again with `bench study create`") from None
    if spec.get("schema") != SCHEMA_VERSION:
        raise StudyError(f"{file}: schema {spec.get('schema')!r}, this bench reads schema {SCHEMA_VERSION}; "
                         "make the study again with this version's `bench study create`")
    return Study(path, spec)


def parse_pair(text: str) -> tuple[str, str]:
    """``"jpeg/20:webp/30"`` -> ``("jpeg/20", "webp/30")``; a :class:`StudyError` for anything else."""
    a, separator, b = text.partition(":")
    if not separator or "/" not in a or "/" not in b or ":" in b:
        raise StudyError(f"--pairs {text!r}: expected two conditions as CODEC/POINT:CODEC/POINT, e.g. jpeg/20:webp/30")
    return a, b


def matched_pairs(bpp: Mapping[str, float], tolerance: float, codecs: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """Each point of each of ``codecs`` (default: all) paired with every other codec's point
    nearest in bpp, when the two bpps differ by at most ``tolerance`` of the lower one.

    Parameters
    ----------
    bpp : mapping
        Condition id (``codec/point``) -> its mean bpp.
    tolerance : float
        Largest relative bpp difference of a pair, ``|b - a| / min(a, b)``.
    codecs : sequence of str, optional
        The codecs whose points look for partners.

    Returns
    -------
    list of (str, str)
        Unordered pairs, each once, in the order found.
    """
    by_codec: dict[str, list[str]] = {}
    for condition in bpp:
        by_codec.setdefault(condition.split("/", 1)[0], []).append(condition)
    pairs: list[tuple[str, str]] = []
    for codec in codecs if codecs is not None else by_codec:
        for other, points in by_codec.items():
            if other == codec:
                continue
            for condition in by_codec.get(codec, []):
                nearest = min(points, key=lambda point: abs(math.log(bpp[point] / bpp[condition])))
                gap = abs(bpp[nearest] - bpp[condition]) / min(bpp[nearest], bpp[condition])
                if gap <= tolerance and (condition, nearest) not in pairs and (nearest, condition) not in pairs:
                    pairs.append((condition, nearest))
    return pairs


def damaged(image: np.ndarray, seed: int) -> np.ndarray:
    """A visibly damaged copy of an H x W x 3 uint8 image for gold trials: blurred (radius 1 % of
    the longer side, at least 2 px) and with Gaussian noise of standard deviation 16 grey levels."""
    radius = max(2.0, max(image.shape[:2]) / 100)
    blurred = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius)), dtype=float)
    noise = np.random.default_rng(seed).normal(0.0, 16.0, size=image.shape)
    return np.clip(np.rint(blurred + noise), 0, 255).astype(np.uint8)


def create_study(
    run_dir: str | Path,
    out: str | Path,
    pairs: Sequence[tuple[str, str]] = (),
    matched: Sequence[str] | None = None,
    tolerance: float = 0.2,
    max_images: int | None = None,
    repeats: int = 4,
    golds: int = 4,
    seed: int = 0,
    trials_per_rater: int | None = None,
    originals: Mapping[str, Path] | Path | None = None,
) -> Study:
    """Write a study of the run folder ``run_dir`` (made with ``bench run --save-recon``) to ``out``.

    Parameters
    ----------
    run_dir : path
        The run folder.
    out : path
        The study folder to make; it must not exist or be empty.
    pairs : sequence of (str, str)
        Explicit pairs of conditions (``codec/point``).
    matched : sequence of str, optional
        Codecs whose points are paired at matched bpp with every other codec (default: all codecs;
        an empty sequence: no matched pairs).
    tolerance : float
        Largest relative bpp difference of a matched pair.
    max_images : int, optional
        Use the first ``max_images`` images (by name) that have every reconstruction.
    repeats, golds : int
        Repeated trials per rater, gold trials in the study.
    seed : int
        Seeds the raters' orders and sides and the gold images' noise.
    trials_per_rater : int, optional
        Give each rater a block of this many trials (default: all trials).
    originals : mapping or path, optional
        Image name -> original file, or a folder of originals (default: the run's dataset copy).

    Returns
    -------
    Study
        The study written.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StudyError(f"{out}: exists and is not an empty folder; pass --out a new folder")
    run = load_run(run_dir)
    results = run.results
    if "recon_path" not in results or results["recon_path"].isna().all():
        raise StudyError(f"{run.path}: the run kept no reconstructions; run it again with `bench run --save-recon` to make a study")
    if results.duplicated(["codec", "point", "image"]).any():
        raise StudyError(f"{run.path}: an image name occurs in more than one data set; make a study of a run on one data set")
    if not isinstance(originals, Mapping):
        originals = find_originals(run, originals)
    results = results.assign(condition=results["codec"] + "/" + results["point"])
    conditions = list(dict.fromkeys(results["condition"]))
    for pair in pairs:
        unknown = [name for name in pair if name not in conditions]
        if unknown:
            raise StudyError(f"--pairs {':'.join(pair)}: no condition {unknown[0]!r} in this run; its conditions: {', '.join(conditions)}")
    images = _usable_images(run, results, originals, max_images)
    results = results[results["image"].isin(images)]
    bpp = results.groupby("condition", sort=False)["bpp"].mean().to_dict()
    chosen = [tuple(pair) for pair in pairs]
    if matched is None or matched:
        chosen += [pair for pair in matched_pairs(bpp, tolerance, matched) if pair not in chosen and pair[::-1] not in chosen]
    if not chosen:
        raise StudyError(f"no pair of conditions within {tolerance:.0%} bpp of each other; pass --pairs A:B or a larger --tolerance")
    out.mkdir(parents=True, exist_ok=True)
    (out / IMAGES_DIR).mkdir()
    metrics = [q for q in run.per_image_quantities if not q.db_of and q.column in results]
    rows = results.set_index(["condition", "image"])
    image_entries = [_image_entry(out, name, originals[name]) for name in images]
    trials = []
    for image in images:
        for a, b in chosen:
            row_a, row_b = rows.loc[(a, image)], rows.loc[(b, image)]
            trials.append({
                "id": f"t{len(trials) + 1:04d}", "image": image, "a": a, "b": b,
                "files": [_copy(out, run.reconstruction(row_a)), _copy(out, run.reconstruction(row_b))],
                "bpp": [float(row_a["bpp"]), float(row_b["bpp"])],
                "values": {q.column: [_number(row_a[q.column]), _number(row_b[q.column])] for q in metrics},
            })
    gold_trials = []
    for k in range(golds):
        entry = image_entries[k % len(image_entries)]
        original = np.asarray(Image.open(out / IMAGES_DIR / entry["original"]).convert("RGB"))
        gold_trials.append({"id": f"g{k + 1:03d}", "image": entry["name"], "a": ORIGINAL, "b": DAMAGED,
                            "files": [entry["original"], _store(out, damaged(original, seed + k))]})
    spec = {
        "schema": SCHEMA_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "run": str(run.path.resolve()),
        "protocol": "2afc-reference", "question": QUESTION,
        "settings": {"seed": seed, "repeats": repeats, "golds": golds, "tolerance": tolerance,
                     "trials_per_rater": trials_per_rater, "pairs": [list(pair) for pair in chosen],
                     "explicit_pairs": [list(pair) for pair in pairs]},
        "conditions": [{"id": c, "codec": c.split("/", 1)[0], "point": c.split("/", 1)[1], "bpp": float(bpp[c])}
                       for c in conditions if any(c in pair for pair in chosen)],
        "metrics": [{"column": q.column, "label": q.label, "higher_is_better": q.higher_is_better} for q in metrics],
        "images": image_entries, "trials": trials, "golds": gold_trials,
    }
    (out / STUDY_FILE).write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return Study(out, spec)


def _usable_images(run: RunData, results: Any, originals: Mapping[str, Path], max_images: int | None) -> list[str]:
    """The images (by name) with an original and every condition's reconstruction on disk."""
    n_conditions = results["condition"].nunique()
    usable = []
    for image, rows in results.groupby("image", sort=True):
        present = [row for _, row in rows.iterrows() if (path := run.reconstruction(row)) is not None and path.is_file()]
        if image in originals and Path(originals[image]).is_file() and len(present) == n_conditions:
            usable.append(image)
    if not usable:
        raise StudyError(f"{run.path}: no image has its original and every reconstruction; run with --save-recon and "
                         "pass --originals DIR (the images given to `bench run`)")
    return usable[:max_images]


def _number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _image_entry(out: Path, name: str, original: Path) -> dict[str, Any]:
    with Image.open(original) as picture:
        width, height = picture.size
        if picture.format != "PNG":
            buffer = io.BytesIO()
            picture.convert("RGB").save(buffer, format="PNG")
            return {"name": name, "original": _store_bytes(out, buffer.getvalue()), "width": width, "height": height}
    return {"name": name, "original": _copy(out, Path(original)), "width": width, "height": height}


def _copy(out: Path, source: Path | None) -> str:
    assert source is not None  # _usable_images kept only images with every reconstruction
    name = hashlib.sha256(source.read_bytes()).hexdigest()[:24] + ".png"
    if not (out / IMAGES_DIR / name).exists():
        shutil.copyfile(source, out / IMAGES_DIR / name)
    return name


def _store(out: Path, image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return _store_bytes(out, buffer.getvalue())


def _store_bytes(out: Path, data: bytes) -> str:
    name = hashlib.sha256(data).hexdigest()[:24] + ".png"
    (out / IMAGES_DIR / name).write_bytes(data)
    return name
