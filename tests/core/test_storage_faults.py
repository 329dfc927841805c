"""File-system faults of a run folder: each is one line that says what to do, and loses no stored row."""
from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest

from cli_helpers import bench_command, bench_env, run_bench

KEY = ["dataset", "image", "codec", "point"]


def run_limited(arguments: list[str], file_size_limit: int | None) -> subprocess.CompletedProcess:
    """``bench`` with every file it writes capped at ``file_size_limit`` bytes (RLIMIT_FSIZE: a full disk)."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(bench_command(*arguments), env=bench_env(), capture_output=True, text=True, timeout=300,
                          preexec_fn=cap if file_size_limit else None)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("bench: error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder this process cannot write: chmod, or, as root (whom chmod does not stop), a read-only tmpfs."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("as root, a read-only folder needs a tmpfs mount, which this machine refuses")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_run_folder_or_parent_is_refused_before_any_work(read_only_folder):
    line = one_error_line(run_bench("run", "--codecs", "jpeg", "--limit", "1", "--out", str(read_only_folder)))
    assert line == (f"bench: error: --out {read_only_folder}: the run folder is not writable; make it writable "
                    "(chmod u+w, or a file system mounted read-write) or give another --out")
    line = one_error_line(run_bench("run", "--codecs", "jpeg", "--limit", "1", "--out", str(read_only_folder / "run")))
    assert f"--out {read_only_folder / 'run'}: cannot be made: {read_only_folder} is not writable" in line


def test_a_full_disk_at_the_database_is_one_line_and_the_same_command_resumes(tmp_path):
    arguments = ["run", "--codecs", "jpeg,webp", "--dataset", "kodak", "--limit", "6", "--metrics", "psnr", "--jobs", "1",
                 "--out", str(tmp_path / "run")]
    line = one_error_line(run_limited(arguments, 100_000))
    assert line.startswith(f"bench: error: {tmp_path / 'run' / 'results.sqlite'}: disk I/O error: the disk is full (or a file-size limit is set)")
    assert "run the same command again to resume" in line
    with sqlite3.connect(tmp_path / "run" / "results.sqlite") as connection:
        stored = {tuple(row) for row in connection.execute("SELECT dataset, image, codec, point FROM results")}
    resumed = run_limited(arguments, None)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(stored)} already done" in resumed.stderr
    table = pd.read_csv(tmp_path / "run" / "results.csv", dtype={"point": str})
    assert len(table) == 6 * (8 + 8) and not table.duplicated(KEY).any() and (table["status"] == "ok").all()
    assert stored <= set(map(tuple, table[KEY].to_numpy().tolist()))


EXPORT_UNDER_A_LIMIT = """
import resource, sys
from bench.core.rows import Measured
from bench.core.rundir import RunDir
from bench.core.storage_faults import storage_errors
from bench.core.store import ResultStore
from bench.errors import BenchError
run_dir = RunDir(sys.argv[1])
with ResultStore(run_dir.path / "results.sqlite") as store:
    store.write(Measured({"dataset": "d", "image": f"{i}.png", "codec": "c", "point": "1", "setting": 1, "status": "ok",
                          "error": "", "bytes": i, "bpp": 0.5}) for i in range(2000))
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    try:
        with storage_errors(run_dir.path):
            run_dir.write_results(store, [])
    except BenchError as exc:
        print(exc)
"""


def test_a_full_disk_at_the_export_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-c", EXPORT_UNDER_A_LIMIT, str(tmp_path)], env=bench_env(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"{tmp_path}: File too large: the disk is full (or a file-size limit is set); free space, then run the "
        f"same command again to resume (the rows stored so far are kept in {tmp_path / 'results.sqlite'})"
    )


def test_a_partly_overwritten_database_names_the_recovery_command_which_rebuilds_it(tmp_path):
    run = tmp_path / "run"
    arguments = ["run", "--codecs", "jpeg", "--dataset", "kodak", "--limit", "6", "--metrics", "psnr", "--jobs", "1", "--out", str(run)]
    assert run_bench(*arguments).returncode == 0
    original = pd.read_csv(run / "results.csv", dtype={"point": str}).set_index(KEY).sort_index()
    database = run / "results.sqlite"
    data = bytearray(database.read_bytes())
    page = 4096
    assert len(data) >= 12 * page  # the schema's 9 pages, then the results table's leaves
    data[-3 * page:-2 * page] = b"\x5a" * page  # one leaf page of rows
    database.write_bytes(bytes(data))
    line = one_error_line(run_bench(*arguments))
    assert "database disk image is malformed" in line and f"`bench recover {run}`" in line
    recovered = run_bench("recover", str(run))
    assert recovered.returncode == 0, recovered.stderr
    assert "rows read from the damaged database" in recovered.stdout
    assert len([path for path in run.glob("results.sqlite.damaged-*") if not path.name.endswith(("-wal", "-shm"))]) == 1
    resumed = run_bench(*arguments)
    assert resumed.returncode == 0, resumed.stderr
    table = pd.read_csv(run / "results.csv", dtype={"point": str}).set_index(KEY).sort_index()
    assert len(table) == 48 and table.index.equals(original.index)
    pd.testing.assert_series_equal(table["bytes"], original["bytes"])  # JPEG is deterministic: the same bitstreams
