"""The report's "Human preference" section, from a study with stored human answers."""
from __future__ import annotations

import re

from bench.report.html import build_report
from bench.report.sections import SECTIONS, comparisons
from bench.study.design import GOLD, ORIGINAL
from bench.study.report import human_preference_section
from bench.study.store import AnswerStore

from cli_helpers import run_bench


def answer_as_psnr_says(study, raters: int, simulated: bool = False) -> None:
    """Store each rater's answers: the side with the higher PSNR, the original on gold trials."""
    with AnswerStore(study.path) as store:
        for index, _ in store.add_raters(raters, simulated=simulated):
            for slot in study.sequence(index):
                trial = study.trial(slot.trial)
                if slot.kind == GOLD:
                    want = ORIGINAL
                else:
                    a, b = trial["values"]["psnr"]
                    want = trial["b"] if b > a else trial["a"]
                store.record(index, simulated, slot, "left" if slot.left == want else "right", 700.0)


def test_the_section_shows_the_human_ranking_verdicts_and_agreement(make_study, study_run, tmp_path):
    study = make_study(pairs=[("jpeg/5", "jpeg/20")], repeats=1, golds=1)
    answer_as_psnr_says(study, 3)
    answer_as_psnr_says(study, 2, simulated=True)
    run_dir, originals = study_run
    at = SECTIONS.index(comparisons.SECTION) + 1
    sections = [*SECTIONS[:at], human_preference_section(study.path, n_boot=50), *SECTIONS[at:]]
    html = build_report(run_dir, tmp_path / "report.html", originals=originals, sections=sections).read_text()
    shown = re.findall(r'<section id="([a-z_-]+)"', html)
    assert shown[shown.index("compare") + 1] == "human"
    section = html[html.index('<section id="human">'):]
    section = section[:section.index("</section>")]
    assert "People preferred jpeg/20 to jpeg/5" in section
    n_trials = len(study.trials)
    assert f"{3 * n_trials} answers of 3 raters" in section  # the simulated raters are left out
    assert "<td>PSNR</td>" in section and 'href="#human"' in html


def test_bench_report_study_adds_the_section_and_says_when_there_are_no_answers(make_study, study_run, tmp_path):
    study = make_study(repeats=1, golds=1)
    run_dir, originals = study_run
    # The run's images are crops: the viewer must not look for the data set's full-size originals.
    folder = str(next(iter(originals.values())).parent)
    done = run_bench("report", str(run_dir), "-o", str(tmp_path / "report.html"), "--originals", folder, "--study", str(study.path))
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "report.html").read_text()
    assert "Human preference" in html and "no human" in html
    plain = run_bench("report", str(run_dir), "-o", str(tmp_path / "plain.html"), "--originals", folder)
    assert plain.returncode == 0 and 'id="human"' not in (tmp_path / "plain.html").read_text()
    wrong = run_bench("report", str(run_dir), "-o", str(tmp_path / "x.html"), "--originals", folder, "--study", str(tmp_path))
    assert wrong.returncode == 2 and wrong.stderr.startswith("bench: error: ") and "not a study folder" in wrong.stderr
    assert "Traceback" not in wrong.stderr
