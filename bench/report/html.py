"""Assembling the self-contained HTML report from a run directory.

The page is the list :data:`bench.report.sections.SECTIONS`: each section computes plain values
from the :class:`~bench.report.sections.base.ReportInputs` and renders its own template partial,
and ``templates/report.html.j2`` wraps them with the contents bar, the styles and the scripts
the sections share (plots, sortable tables, the viewer). Jinja2 autoescaping is on everywhere, so
every name from the data (image file names, codec names) reaches the page as text. Plots and
image crops are data URIs and the CSS and JavaScript are inline: the file opens from disk with no
network.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import jinja2
from markupsafe import Markup

from bench.errors import BenchError
from bench.report.published import load_published
from bench.report.rundata import RunData, load_run
from bench.report.sections import DETAILS, RESULTS, SECTIONS, ReportInputs, Section

#: plotly.js's basic bundle (MIT; see bench/report/static/README.md), inlined into every report.
PLOTLY_JS = Path(__file__).resolve().parent / "static" / "plotly-basic.min.js"


def parse_pair(text: str) -> tuple[str, str]:
    """``"A:B"`` -> ``("A", "B")``; a one-line error for anything else."""
    a, separator, b = text.partition(":")
    if not separator or not a or not b or ":" in b:
        raise ValueError(f"--compare {text!r}: expected two codec names as A:B, e.g. hific-dense:hific-sparse")
    return a, b


def find_originals(run: RunData, originals_dir: Path | None = None) -> dict[str, Path]:
    """Image name -> original file: in ``originals_dir`` if given, else the run's dataset copy."""
    if originals_dir is not None:
        return {image: Path(originals_dir) / image for image in set(run.results["image"])}
    from bench import datasets

    found: dict[str, Path] = {}
    for dataset in run.datasets:
        try:
            paths = datasets.resolve(dataset, download=False)
        except Exception:  # noqa: BLE001 - unknown or absent dataset: the viewer says the original is missing
            continue
        found.update({path.name: path for path in paths})
    return found


def build_report(
    run_dir: str | Path,
    output: str | Path,
    anchor: str = "jpeg",
    groups: Sequence[Sequence[tuple[str, str]]] = (),
    originals: Mapping[str, Path] | Path | None = None,
    published_dir: str | Path | None = None,
    viewer_images: int = 24,
    figures_dir: str | Path | None = None,
    via: str | Sequence[str] | None = None,
    sections: Sequence[Section] = SECTIONS,
) -> Path:
    """Write the HTML report of ``run_dir`` to ``output`` (``output/report.html`` when ``output``
    is an existing folder) and return the path written. ``groups``: the comparisons, each one
    pair ``[(A, B)]`` or several pairs compared together (:mod:`bench.report.grouped`).
    ``figures_dir``: also write each plot as SVG and PDF there (matplotlib, for papers). ``via``:
    the codec (or codecs) whose curves single-point codecs are also read against (see :func:`compare`).
    ``sections``: the sections shown, in order (default: :data:`bench.report.sections.SECTIONS`)."""
    run = load_run(run_dir)
    notes = []
    if anchor not in run.codecs:
        notes.append(f"Anchor codec {anchor!r} is not in this run; BD numbers use {run.codecs[0]!r} instead (--anchor).")
        anchor = run.codecs[0]
    if not isinstance(originals, Mapping):
        originals = find_originals(run, originals)
    inputs = ReportInputs(run, anchor, groups, originals, load_published(published_dir), viewer_images,
                          Path(figures_dir) if figures_dir is not None else None, via)
    return _write(render(inputs, sections, notes), Path(output))


def template_environment(package: str = "bench.report") -> jinja2.Environment:
    """The Jinja2 environment of the templates in ``package``'s ``templates/`` folder (autoescaping on)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def render(inputs: ReportInputs, sections: Sequence[Section] = SECTIONS, notes: Sequence[str] = ()) -> str:
    """The report page of ``inputs``: each of ``sections`` that has data, in order, with the contents bar."""
    environment = template_environment()
    environments = {"bench.report": environment}
    shown = []
    for section in sections:
        values = section.data(inputs)
        if values is not None:
            if section.package not in environments:
                environments[section.package] = template_environment(section.package)
            html = environments[section.package].get_template(f"sections/{section.template}").render(**values)
            shown.append({"id": section.id, "contents": section.contents, "group": section.group, "html": Markup(html)})
    contents = [[item for item in shown if item["group"] == group] for group in (RESULTS, DETAILS)]
    return environment.get_template("report.html.j2").render(
        title=f"codec-bench report: {', '.join(inputs.run.datasets)}", notes=notes, sections=shown,
        contents=[group for group in contents if group], plotly_js=PLOTLY_JS.read_text(encoding="utf-8"),
    )


def _write(html: str, output: Path) -> Path:
    if output.is_dir():
        output = output / "report.html"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise BenchError(
            f"{output}: cannot write the report ({exc.filename}: {exc.strerror}); "
            "pass -o a writable path such as reports/kodak.html"
        ) from None
    return output
