"""`bench run` on a real Dask cluster on 127.0.0.1 (a scheduler and two workers as separate
processes), `--shard` and `bench merge`, and a scheduler that cannot be reached."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import distributed
import pandas as pd
import pytest

from bench.core.benchmark import run_benchmark
from bench.cli import main
from cli_helpers import REPO_ROOT, bench_command, bench_env, run_bench
from cluster_helpers import kill_process_groups

COMPARED = ["bytes", "bpp", "psnr", "ms_ssim"]
KEY = ["dataset", "image", "codec", "point"]


def _start(command: list[str], log: Path) -> subprocess.Popen:
    env = bench_env(PYTHONPATH=str(REPO_ROOT / "tests"))
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(scheduler file, client, processes): a scheduler and two one-thread workers on loopback."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    processes = [_start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                         "--scheduler-file", str(scheduler_file), "--no-dashboard"], folder / "scheduler.log")]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        for index in range(2):
            processes.append(_start([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
                                     "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
                                     "--name", f"worker-{index}"], folder / f"worker-{index}.log"))
        client = distributed.Client(scheduler_file=str(scheduler_file), timeout=30, set_as_default=False)
        client.wait_for_workers(2, timeout=90)
        yield scheduler_file, client, processes
        client.close()
    finally:
        kill_process_groups(processes)


def _table(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "results.csv").sort_values(KEY).reset_index(drop=True)


RUN = ["run", "--codecs", "jpeg,webp", "--dataset", "kodak", "--limit", "3", "--settings", "jpeg=10,50,90",
       "--settings", "webp=10,50,90", "--metrics", "psnr,ms_ssim"]


def test_a_cluster_run_equals_a_local_run_cell_for_cell(cluster, tmp_path):
    scheduler_file, _, _ = cluster
    remote = run_bench(*RUN, "--scheduler", str(scheduler_file), "--save-recon", "--out", str(tmp_path / "remote"))
    assert remote.returncode == 0, remote.stderr
    assert main([*RUN, "--jobs", "1", "--out", str(tmp_path / "local")]) == 0
    remote_table, local_table = _table(tmp_path / "remote"), _table(tmp_path / "local")
    assert len(remote_table) == 18 and (remote_table["status"] == "ok").all()
    pd.testing.assert_frame_equal(remote_table[KEY + COMPARED], local_table[KEY + COMPARED])
    assert remote_table["host"].notna().all()
    # Reconstructions were written here, by the client, where the rows say.
    assert all((tmp_path / "remote" / path).is_file() for path in remote_table["recon_path"])
    again = run_bench(*RUN, "--scheduler", str(scheduler_file), "--save-recon", "--out", str(tmp_path / "remote"))
    assert "18 already done, 0 to run" in again.stderr


def test_torch_threads_share_each_workers_host_among_the_workers_there(cluster):
    from dask.system import CPU_COUNT

    from bench.core.cluster import _threads_here, check_workers

    _, client, _ = cluster
    hosts = check_workers(client, ["pillow"])
    assert hosts == {"127.0.0.1": 2}
    assert client.submit(_threads_here, hosts, pure=False).result() == max(1, CPU_COUNT // 2)
    assert client.submit(_threads_here, {"10.0.0.9": 5}, pure=False).result() == CPU_COUNT  # alone on its host


def _rows_in(database: Path) -> int:
    try:
        with sqlite3.connect(database, timeout=1) as connection:
            return connection.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_worker_killed_mid_run_loses_and_duplicates_no_row(cluster, tmp_path):
    scheduler_file, client, _ = cluster
    run_dir = tmp_path / "run"
    command = bench_command("run", "--codecs", "jpeg,webp,jpeg2000", "--dataset", "kodak", "--limit", "6",
                            "--metrics", "psnr,ms_ssim", "--scheduler", str(scheduler_file), "--out", str(run_dir))
    process = subprocess.Popen(command, env=bench_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _rows_in(run_dir / "results.sqlite") < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker_pids = client.run(os.getpid)  # the worker processes themselves, not their nannies
    os.kill(next(iter(worker_pids.values())), signal.SIGKILL)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    table = pd.read_csv(run_dir / "results.csv")
    expected = 6 * (8 + 8 + 7)  # default grids: jpeg 8, webp 8, jpeg2000 7 settings
    assert len(table) == expected and not table.duplicated(KEY).any()
    assert (table["status"] == "ok").all()
    client.wait_for_workers(2, timeout=90)  # the nanny restarts the killed worker


def test_a_row_past_the_time_limit_is_an_error_and_the_run_goes_on(cluster, tmp_path, kodak_dir):
    from cluster_helpers import SlowJPEG

    from bench.core.cluster import DaskBackend
    from bench.metrics.psnr import PSNR
    from bench.core.plan import ImageSource, RunPlan

    _, client, _ = cluster
    plan = RunPlan(images=[ImageSource("kodak", "kodim01.png", kodak_dir / "kodim01.png")], codecs={"slow-jpeg": SlowJPEG()},
                   metrics=[PSNR()], settings={"slow-jpeg": [7, 50]})
    started = time.monotonic()
    result = run_benchmark(plan, tmp_path / "run", backend=DaskBackend(client, jobs=2, row_timeout=3))
    assert time.monotonic() - started < 50
    table = result.results.set_index("setting")
    assert table.loc[50, "status"] == "ok"
    assert table.loc[7, "status"] == "error" and "ran past the per-row limit of 3 s" in table.loc[7, "error"]
    client.wait_for_workers(2, timeout=90)


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    started = time.monotonic()
    result = run_bench("run", "--codecs", "jpeg", "--limit", "1", "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout", "2",
                       "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and time.monotonic() - started < 60
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: error: --scheduler tcp://127.0.0.1:9: no Dask scheduler answered within 2 s")


def test_three_shards_merged_equal_the_unsharded_run(tmp_path):
    arguments = ["run", "--codecs", "jpeg,webp", "--dataset", "kodak", "--limit", "3", "--settings", "jpeg=20,80",
                 "--settings", "webp=30,70", "--metrics", "psnr,kid", "--jobs", "1"]
    assert main([*arguments, "--out", str(tmp_path / "whole")]) == 0
    for index in range(3):
        assert main([*arguments, "--shard", f"{index}/3", "--out", str(tmp_path / f"shard-{index}")]) == 0
    sizes = [len(pd.read_csv(tmp_path / f"shard-{index}" / "results.csv")) for index in range(3)]
    assert sum(sizes) == 12 and all(size < 12 for size in sizes)
    assert main(["merge", str(tmp_path / "merged"), *(str(tmp_path / f"shard-{i}") for i in range(3))]) == 0
    merged, whole = _table(tmp_path / "merged"), _table(tmp_path / "whole")
    columns = KEY + ["setting", "bytes", "bpp", "psnr"]
    pd.testing.assert_frame_equal(merged[columns], whole[columns])
    distribution = [pd.read_csv(tmp_path / run / "distribution_metrics.csv").sort_values(["codec", "point"]).reset_index(drop=True)
                    for run in ("merged", "whole")]
    pd.testing.assert_frame_equal(distribution[0][["codec", "point", "kid_mean", "n_patches"]],
                                  distribution[1][["codec", "point", "kid_mean", "n_patches"]])


def test_merge_keeps_a_repeated_row_once_and_refuses_other_metric_settings(tmp_path, capsys):
    base = ["run", "--codecs", "jpeg", "--dataset", "kodak", "--limit", "1", "--settings", "jpeg=50", "--jobs", "1"]
    assert main([*base, "--metrics", "psnr,lpips", "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--metrics", "psnr,lpips", "--out", str(tmp_path / "b")]) == 0
    assert main(["merge", str(tmp_path / "ab"), str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "1 rows, 1 row keys found twice and kept once" in capsys.readouterr().out
    assert main([*base, "--metrics", "psnr,lpips", "--lpips-net", "squeeze", "--out", str(tmp_path / "c")]) == 0
    capsys.readouterr()
    assert main(["merge", str(tmp_path / "ac"), str(tmp_path / "a"), str(tmp_path / "c")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"bench: error: {tmp_path / 'c'} measured lpips under other settings than {tmp_path / 'a'}")
