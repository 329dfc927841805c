"""A metric installed as a plug-in reaches the report (plot, BD table, comparison) with no change to report code."""
from __future__ import annotations

import re
import textwrap

from bench.cli import main
from cli_helpers import make_plugin, run_bench

SHARPNESS = textwrap.dedent('''
    from dataclasses import dataclass

    import numpy as np
    from bench.metrics.base import Column, Metric

    class EdgeRatio(Metric):
        """Mean gradient magnitude of the reconstruction over that of the reference."""
        name = "edge_ratio"
        columns = (Column("edge_ratio", "Edge ratio", higher_is_better=True, unit="x"),)
        library = "edge-metric"

        def measure(self, reference, reconstruction):
            def edges(image):
                gray = image.astype(np.float64).mean(axis=2)
                return np.abs(np.diff(gray, axis=0)).mean() + np.abs(np.diff(gray, axis=1)).mean()
            return {"edge_ratio": float(edges(reconstruction) / edges(reference))}
''')


def test_a_plugin_metric_is_plotted_bd_rated_and_compared(tmp_path):
    plugin = make_plugin(tmp_path / "plugin", "edge-metric", "edge_metric", SHARPNESS, "[codec_bench.metrics]\nedge_ratio = edge_metric:EdgeRatio\n")
    run_dir = tmp_path / "run"
    result = run_bench(
        "run", "--codecs", "jpeg,webp", "--dataset", "kodak", "--limit", "2", "--settings", "jpeg=10,40,80",
        "--settings", "webp=10,40,80", "--metrics", "psnr,edge_ratio", "--jobs", "1", "--out", str(run_dir),
        PYTHONPATH=str(plugin),
    )
    assert result.returncode == 0, result.stderr
    assert "edge_ratio" in result.stdout  # in the run summary
    # The report is made without the plug-in installed: the run folder describes the metric.
    assert main(["report", str(run_dir), "-o", str(tmp_path / "report.html"), "--compare", "jpeg:webp"]) == 0
    text = (tmp_path / "report.html").read_text()
    assert 'class="plot" id="plot-1" data-label="Edge ratio"' in text
    assert re.search(r"<th>Edge ratio</th>", text.split('<section id="bd-rates">')[1])  # a column of the BD matrix
    assert re.search(r"<tr><td>webp</td><td class=\"num\"[^>]*>[-+]\d+\.\d %[^<]*</td><td class=\"num\"[^>]*>[-+]\d+\.\d %", text)
    assert re.search(r"<td>Edge ratio</td><td>BD-rate</td>", text)
    assert re.search(r"<th class=\"sortable\" data-column=\"\d+\">edge_ratio</th>", text)  # in the per-image table
