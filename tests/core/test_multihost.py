"""`bench run --scheduler` across three "hosts" that share nothing but a network: Linux network
namespaces on a virtual switch (a bridge in a fourth namespace), each with its own address and
host name; the scheduler and the client on one, a worker on each of the others. The workers'
mount namespaces hide the dataset and every folder under /tmp (the run folder), so their rows
can only come from the image bytes the client sends. Needs root (``ip netns``, ``unshare``);
skipped with one line where namespaces cannot be made."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from cli_helpers import bench_command, bench_env
from cluster_helpers import kill_process_groups

pytestmark = pytest.mark.slow  # about 55 s alone, more on a loaded machine

KEY = ["dataset", "image", "codec", "point"]
COMPARED = ["bytes", "bpp", "psnr", "ms_ssim"]
SUBNET = "10.36.0"
SCHEDULER = f"tcp://{SUBNET}.1:8786"
WORKER_HOSTS = ("cb-host1", "cb-host2")
#: The scheduler drops a worker that has not been heard from for this long (Dask's default: 5 minutes).
WORKER_TTL = "6s"
#: Dask's settings on every host: a silent worker is dropped soon, an unreachable one given up soon.
DASK_ENV = {"DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": WORKER_TTL, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "5s"}

RUN = ["run", "--codecs", "jpeg,webp", "--dataset", "kodak", "--limit", "3", "--settings", "jpeg=10,50,90",
       "--settings", "webp=10,50,90", "--metrics", "psnr,ms_ssim"]

#: Run in the client's namespace: what each worker sees (host name, and whether the hidden folders exist).
WORKER_VIEW = """
import json, os, socket, sys
import distributed
client = distributed.Client(sys.argv[1], timeout=30)
client.wait_for_workers(2, timeout=60)
print(json.dumps(list(client.run(lambda paths: [socket.gethostname(), *map(os.path.exists, paths)], sys.argv[2:]).values())))
"""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class Hosts:
    """Three namespaces (``<tag>h0`` .. ``<tag>h2``) with addresses 10.36.0.1-3 on a bridge in ``<tag>sw``."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.switch = f"{tag}sw"
        self.made: list[str] = []

    def namespace(self, index: int) -> str:
        return f"{self.tag}h{index}"

    def port(self, index: int) -> str:
        """The switch side of host ``index``'s link (taking it down cuts the host off)."""
        return f"{self.tag}p{index}"

    def make(self) -> None:
        _ip("netns", "add", self.switch)
        self.made.append(self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for index in range(3):
            namespace, port = self.namespace(index), self.port(index)
            _ip("netns", "add", namespace)
            self.made.append(namespace)
            _ip("link", "add", f"{self.tag}e{index}", "type", "veth", "peer", "name", port)
            _ip("link", "set", f"{self.tag}e{index}", "netns", namespace)
            _ip("link", "set", port, "netns", self.switch)
            _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
            _ip("-n", namespace, "link", "set", f"{self.tag}e{index}", "name", "eth0")
            _ip("-n", namespace, "addr", "add", f"{SUBNET}.{index + 1}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")
            _ip("-n", namespace, "link", "set", "lo", "up")

    def remove(self) -> None:
        for namespace in reversed(self.made):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)

    def command(self, index: int, command: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(index), *command]


def _worker_command(index: int, hidden: list[Path]) -> list[str]:
    """A Dask worker in its own mount and host-name namespace, which sees an empty /tmp and an empty
    folder in place of each of ``hidden``."""
    mounts = " && ".join(f"mount -t tmpfs tmpfs {path}" for path in hidden)
    worker = " ".join([sys.executable, "-m", "distributed.cli.dask_worker", SCHEDULER, "--host", f"{SUBNET}.{index + 1}",
                       "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", WORKER_HOSTS[index - 1]])
    return ["unshare", "--mount", "--uts", "sh", "-c", f"hostname {WORKER_HOSTS[index - 1]} && {mounts} && exec {worker}"]


def _namespaces_unavailable() -> str | None:
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("unshare") is None:
        return "needs root with ip and unshare to make network and mount namespaces"
    probe = f"cbprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot make a network namespace here ({made.stderr.strip()})"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, data_dir):
    reason = _namespaces_unavailable()
    if reason:
        pytest.skip(f"multi-host test skipped: {reason}")
    logs = tmp_path_factory.mktemp("hosts")
    network = Hosts(f"cb{os.getpid() % 100000}")
    processes: list[subprocess.Popen] = []
    env = bench_env(**DASK_ENV)

    def start(index: int, command: list[str], name: str) -> None:
        processes.append(subprocess.Popen(network.command(index, command), env=env, stdout=(logs / name).open("w"),
                                          stderr=subprocess.STDOUT, start_new_session=True))

    try:
        network.make()
        start(0, [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", f"{SUBNET}.1", "--port", "8786",
                  "--no-dashboard"], "scheduler.log")
        for index in (1, 2):
            start(index, _worker_command(index, [Path("/tmp"), data_dir.resolve()]), f"worker-{index}.log")
        view = subprocess.run(network.command(0, [sys.executable, "-c", WORKER_VIEW, SCHEDULER, str(data_dir / "kodak" / "kodim01.png"), str(logs)]),
                              env=env, capture_output=True, text=True, timeout=120)
        assert view.returncode == 0, view.stderr + "".join(path.read_text() for path in logs.iterdir())
        yield network, env, json.loads(view.stdout)
    finally:
        kill_process_groups(processes)
        network.remove()


def _table(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "results.csv").sort_values(KEY).reset_index(drop=True)


def test_the_workers_see_neither_the_dataset_nor_the_run_folder(hosts):
    _, _, view = hosts
    # [host name, a Kodak image exists, a folder under /tmp exists] for each worker
    assert sorted(view) == [[name, False, False] for name in WORKER_HOSTS]


def test_a_run_across_hosts_equals_a_local_run_cell_for_cell(hosts, tmp_path):
    network, env, _ = hosts
    remote = subprocess.run(network.command(0, bench_command(*RUN, "--scheduler", SCHEDULER, "--save-recon",
                                                             "--out", str(tmp_path / "remote"))),
                            env=env, capture_output=True, text=True, timeout=300)
    assert remote.returncode == 0, remote.stderr
    assert main([*RUN, "--jobs", "1", "--out", str(tmp_path / "local")]) == 0
    remote_table, local_table = _table(tmp_path / "remote"), _table(tmp_path / "local")
    assert len(remote_table) == 18 and (remote_table["status"] == "ok").all()
    pd.testing.assert_frame_equal(remote_table[KEY + COMPARED], local_table[KEY + COMPARED])
    assert set(remote_table["host"]) == set(WORKER_HOSTS)
    assert all((tmp_path / "remote" / path).is_file() for path in remote_table["recon_path"])


def _count(database: Path, query: str) -> int:
    try:
        with sqlite3.connect(database, timeout=1) as connection:
            return connection.execute(query).fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_host_cut_off_mid_run_loses_and_duplicates_no_row(hosts, tmp_path):
    network, env, _ = hosts
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    database = run_dir / "results.sqlite"
    # Every write of a row is logged (INSERT OR REPLACE of a stored key deletes it and inserts it again).
    with sqlite3.connect(database) as connection:
        connection.executescript(
            "CREATE TABLE results (dataset TEXT NOT NULL, image TEXT NOT NULL, codec TEXT NOT NULL, point TEXT NOT NULL,"
            " status TEXT NOT NULL, row TEXT NOT NULL, PRIMARY KEY (dataset, image, codec, point));"
            "CREATE TABLE writes (dataset TEXT, image TEXT, codec TEXT, point TEXT);"
            "CREATE TRIGGER logged AFTER INSERT ON results BEGIN"
            " INSERT INTO writes VALUES (new.dataset, new.image, new.codec, new.point); END;"
        )
    command = bench_command("run", "--codecs", "jpeg,webp", "--dataset", "kodak", "--limit", "4", "--settings",
                            "jpeg=10,30,50,90", "--settings", "webp=10,30,50,90", "--metrics", "psnr,ms_ssim",
                            "--scheduler", SCHEDULER, "--out", str(run_dir))
    process = subprocess.Popen(network.command(0, command), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _count(database, "SELECT COUNT(*) FROM results") < 4 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    stored_before_cut = _count(database, "SELECT COUNT(*) FROM results")
    _ip("-n", network.switch, "link", "set", network.port(1), "down")  # cb-host1 is cut off
    _, stderr = process.communicate(timeout=240)
    assert process.returncode == 0, stderr
    assert 4 <= stored_before_cut < 32, "the cut came before the first task or after the last"
    table = pd.read_csv(run_dir / "results.csv")
    assert len(table) == 4 * 8 and not table.duplicated(KEY).any() and (table["status"] == "ok").all()
    assert _count(database, "SELECT COUNT(*) FROM writes") == 32  # each row stored once
    assert table["host"].notna().all() and set(table["host"]) <= set(WORKER_HOSTS)
