"""The interactive plot's text: names escaped for plotly, which reads a few HTML tags but shows ``&quot;`` as is."""
from __future__ import annotations

from bench.metrics.psnr import PSNR
from bench.report.plots import PlotData, Series, interactive_figure
from bench.report.rundata import Quantity
from bench.report.styles import Style


def test_a_quote_in_a_name_shows_as_itself_and_markup_stays_text():
    style = Style("#1f77b4", "solid", "circle", True)
    name = 'my "best" <b>codec</b> & co'
    series = Series(name, style, [0.1, 0.2], [30.0, 33.0], ['q"1', "q2"])
    figure = interactive_figure(PlotData(Quantity(PSNR.columns[0]), [series], [], log_x=False))
    trace = figure["data"][0]
    assert trace["name"] == 'my "best" &lt;b&gt;codec&lt;/b&gt; &amp; co'
    assert trace["customdata"] == ['q"1', "q2"]
