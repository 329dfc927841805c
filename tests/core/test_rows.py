"""Every column a job emits is declared: by the run core (``bench/core/rows.py``), by a metric
(its ``columns``) or by the codec (its ``analysis_columns``)."""
from __future__ import annotations

import bench
from bench.core.rows import BASE_COLUMNS, COLUMNS_BY_NAME, ROW_COLUMNS, TRAILING_COLUMNS, undeclared


def declared_by_parts(codecs, metrics) -> set[str]:
    return {name for codec in codecs.values() for name in codec.analysis_columns} | {
        column for metric in metrics for column in metric.column_names()}


def test_every_column_of_every_kind_of_row_is_declared(tmp_path):
    codecs = {name: bench.CODECS.select(name).chosen[name] for name in ("jpeg", "hific-cpu-dense", "hific-cpu-dense-sparse-matrix")}
    metrics = list(bench.METRICS.select("psnr,ms_ssim").chosen.values())
    graded = bench.run(codecs, dataset="sample", limit=1, metrics=metrics, settings={"jpeg": [50], "hific-cpu-dense": ["lo"],
                       "hific-cpu-dense-sparse-matrix": ["lo"]}, save_reconstructions=True, save_bitstreams=True, verify=True,
                       out=tmp_path / "grid", jobs=1)
    targeted = bench.run({"jpeg": codecs["jpeg"]}, dataset="sample", limit=1, metrics=metrics, target_bpp=[0.5],
                         out=tmp_path / "target", jobs=1)
    emitted = [*graded.results.columns, *targeted.results.columns]
    assert {"bpp_estimate", "positions_bytes", "reference_check", "recon_path", "n_encodes", "target_bpp", "host"} <= set(emitted)
    assert undeclared(dict.fromkeys(emitted), declared_by_parts(codecs, metrics)) == []


def test_the_declaration_orders_the_table_and_says_what_each_column_is():
    assert BASE_COLUMNS[:2] == ("dataset", "image") and TRAILING_COLUMNS[-2:] == ("status", "error")
    assert len(COLUMNS_BY_NAME) == len(ROW_COLUMNS)
    assert all(column.type in {"str", "int", "float", "bool"} and column.meaning for column in ROW_COLUMNS)
