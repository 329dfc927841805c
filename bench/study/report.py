"""The report's "Human preference" section of a study (``bench report RUN_DIR --study STUDY_DIR``).

It shows the human answers only (simulated raters never reach a report): the Bradley-Terry
ranking with its intervals, the verdict of each explicit pair (the sparse-vs-dense question, say),
the per-pair rates, each metric's agreement with people and the excluded raters. A study with no
screened human answer yet, or made from another run, says so in the section instead of failing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report.sections.base import RESULTS, ReportInputs, Section, format_number
from bench.study.analysis import results_of
from bench.study.design import StudyError, load_study

TEMPLATE = "human_preference.html.j2"


def human_preference_section(study_dir: str | Path, n_boot: int = 1000) -> Section:
    """The section showing the study in ``study_dir``; its template is in ``bench/study/templates/sections/``."""
    study_dir = Path(study_dir)

    def data(inputs: ReportInputs) -> dict[str, Any]:
        study = load_study(study_dir)
        notes = []
        if Path(study.spec["run"]).resolve() != inputs.run.path.resolve():
            notes.append(f"This study was made from {study.spec['run']}, not from this report's run.")
        try:
            results = results_of(study.path, n_boot=n_boot)
        except StudyError as exc:
            return {"study": str(study_dir), "results": None, "notes": [*notes, str(exc)]}
        return {
            "study": str(study_dir), "notes": [*notes, *results.notes], "results": True,
            "verdicts": results.verdicts, "n_answers": results.n_answers,
            "n_raters": int((~results.raters["excluded"]).sum()), "excluded": results.raters[results.raters["excluded"]].to_dict("records"),
            "ranking": _table(results.ranking, ["rank", "condition", "bpp", "score", "score_low", "score_high", "answers"]),
            "pairs": _table(results.pairs, ["a", "b", "answers", "rate_b", "rate_b_low", "rate_b_high"]),
            "agreement": _table(results.agreement, ["label", "decided_trials", "agreement", "agreement_low", "agreement_high",
                                                    "kendall_tau"]),
        }

    return Section("human", "Human preference", TEMPLATE, data, RESULTS, package="bench.study")


def _table(frame: Any, columns: list[str]) -> dict[str, Any]:
    return {"columns": columns, "rows": [[format_number(value) for value in row] for row in frame[columns].itertuples(index=False)]}
