"""`bench study` from the command line: create, invite, results, and one-line errors."""
from __future__ import annotations

import re

from cli_helpers import run_bench


def test_create_invite_and_results_from_the_command_line(study_run, tmp_path):
    run_dir, originals = study_run
    folder = str(next(iter(originals.values())).parent)
    study = tmp_path / "study"
    created = run_bench("study", "create", str(run_dir), "--out", str(study), "--pairs", "jpeg/5:jpeg/20",
                        "--matched", "none", "--images", "2", "--golds", "1", "--repeats", "1", "--originals", folder)
    # Only the originals named as in the run are found: the hostile-named first image is skipped.
    assert created.returncode == 0, created.stderr
    assert re.search(r"wrote .*study: 2 conditions, 1 pairs x 2 images = 2 trials, 1 gold; 4 slots per rater", created.stdout)
    invited = run_bench("study", "invite", str(study), "-n", "2", "--base-url", "http://lab:9000/")
    links = invited.stdout.split()
    assert invited.returncode == 0 and len(links) == 2 and len(set(links)) == 2
    assert all(re.fullmatch(r"http://lab:9000/r/[A-Za-z0-9_-]{32}", link) for link in links)
    results = run_bench("study", "results", str(study))
    assert results.returncode == 2 and results.stderr.count("\n") == 1 and "no human" in results.stderr
    again = run_bench("study", "create", str(run_dir), "--out", str(study))
    assert again.returncode == 2 and "not an empty folder" in again.stderr and "Traceback" not in again.stderr
    bad = run_bench("study", "create", str(run_dir), "--out", str(tmp_path / "x"), "--pairs", "jpeg-webp")
    assert bad.returncode == 2 and "CODEC/POINT:CODEC/POINT" in bad.stderr
