"""``bench metrics``: every registered metric, its columns and direction, implementation, and cost."""
from __future__ import annotations

import argparse
from typing import Any

from bench.commands.options import add_part_flags, part_options


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.commands import HelpFormatter

    parser = subparsers.add_parser(
        "metrics", help="list metrics, their columns, libraries and cost", formatter_class=HelpFormatter,
        description="List every registered metric: whether it can run on this machine, the library and version "
        "behind it, each column it fills with its unit and direction, its measured seconds per megapixel "
        "(from bench/data/metric_cost.yaml, written by benchmarks/metric_cost_per_mp.py), and the named sets "
        "--metrics accepts (ctc: JPEG AI's common test conditions).",
    )
    from bench.metrics.registry import METRICS

    add_part_flags(parser, METRICS)
    parser.set_defaults(func=metrics_command)


def load_costs() -> dict[str, Any]:
    """The stored cost figures: ``seconds_per_megapixel`` by metric and how they were ``measured``."""
    import yaml

    from bench import resources

    path = resources.DATA_DIR / "metric_cost.yaml"
    return yaml.safe_load(path.read_text()) if path.is_file() else {}


def implementation(metric: Any) -> str:
    """``library version`` of a metric, or what stands for it (an external program)."""
    from bench.metadata import library_version

    if not metric.library:
        return "external program"
    return f"{metric.library} {library_version(metric.library)}"


def describe_column(column: Any) -> str:
    unit = f", {column.unit}" if column.unit else ""
    direction = "higher is better" if column.higher_is_better else "lower is better"
    per = ", one value per set of images" if column.per == "set" else ""
    return f"{column.label}{unit}, {direction}{per}"


def metrics_command(args: argparse.Namespace) -> int:
    from bench.metrics.registry import METRIC_GROUPS, METRICS
    from bench.plugins import BrokenPlugin

    metrics = METRICS.parts(part_options(args, METRICS))
    costs = load_costs()
    seconds = costs.get("seconds_per_megapixel", {})
    width = max(len(name) for name in metrics) + 1
    for name, metric in metrics.items():
        if isinstance(metric, BrokenPlugin):
            print(f"{name:<{width}} UNAVAILABLE: {metric.problem}")
            continue
        cost = f"{seconds[name]:.3g} s/MP" if name in seconds else "cost not measured"
        print(f"{name:<{width}} {implementation(metric)}; {cost}")
        for column in metric.columns:
            print(f"{'':<{width}} {column.name}: {describe_column(column)}")
        problem = METRICS.unavailable(name, metric)
        if problem:
            print(f"{'':<{width}} UNAVAILABLE: {problem.removeprefix(f'{name}: ')}")
    for group, members in METRIC_GROUPS.items():
        print(f"--metrics {group}: {', '.join(members)}")
    measured = costs.get("measured")
    if measured:
        print(f"costs: {measured['workload']}, on {measured['on']}, {measured['date']} ({measured['by']})")
    return 0
