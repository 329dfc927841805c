"""The local backends' processes: devices per worker (CUDA mocked), threads, and workers that die with their parent."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from bench.core import execution
from bench.core.plan import ImageSource, RunPlan
from bench.codecs.jpeg import JPEG
from bench.core.rundir import results_table
from bench.core.store import ResultStore
from cli_helpers import bench_command, bench_env


class DeviceReporting(JPEG):
    """JPEG that reports the device and torch threads of the worker that ran it."""

    name = "reporting"
    device = "unset"

    def use_device(self, device):
        self.device = device

    def analyse(self, image, setting, encoded):
        return {"worker_device": self.device, "worker_threads": torch.get_num_threads(), "worker_pid": os.getpid()}


@pytest.fixture
def two_mocked_gpus(monkeypatch):
    """torch reports two CUDA devices; initialising CUDA (which would break forking) fails the test."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)

    def no_cuda_init(*args, **kwargs):
        raise AssertionError("CUDA was initialised")

    monkeypatch.setattr(torch.cuda, "_lazy_init", no_cuda_init)
    monkeypatch.setattr(torch.cuda, "init", no_cuda_init)


def test_with_cuda_one_worker_per_gpu_by_default(two_mocked_gpus):
    assert execution.default_jobs("cuda") == 2 and execution.worker_devices("cuda") == ["cuda:0", "cuda:1"]
    assert execution.worker_devices("cuda:1") == ["cuda:1"] and execution.default_jobs("cuda:1") == 1
    assert execution.default_jobs("cpu") == os.cpu_count()


def test_each_worker_gets_its_own_gpu_and_cuda_stays_uninitialised_here(two_mocked_gpus, kodak_dir, tmp_path):
    images = [ImageSource("kodak", name, kodak_dir / name) for name in ("kodim01.png", "kodim02.png", "kodim03.png", "kodim04.png")]
    plan = RunPlan(images=images, codecs={"reporting": DeviceReporting()}, metrics=[], settings={"reporting": [20]}, device="cuda")
    assert execution._start_method() == "fork"
    with ResultStore(tmp_path / "results.sqlite") as store:
        execution.execute(plan, store, backend=execution.local_backend(2))
        table = results_table(list(store.rows()))
    assert (table["status"] == "ok").all()
    devices_by_worker = table.groupby("worker_pid")["worker_device"].agg(set)
    assert sorted(set.union(*devices_by_worker)) == ["cuda:0", "cuda:1"]
    assert all(len(devices) == 1 for devices in devices_by_worker)
    assert not torch.cuda.is_initialized()


def test_pool_workers_share_the_cores_and_one_job_uses_them_all(kodak_dir, tmp_path):
    images = [ImageSource("kodak", name, kodak_dir / name) for name in ("kodim01.png", "kodim02.png")]
    plan = RunPlan(images=images, codecs={"reporting": DeviceReporting()}, metrics=[], settings={"reporting": [20]})
    with ResultStore(tmp_path / "pool.sqlite") as store:
        execution.execute(plan, store, backend=execution.local_backend(2))
        pooled = results_table(list(store.rows()))
    assert set(pooled["worker_threads"]) == {max(1, os.cpu_count() // 2)}
    threads = torch.get_num_threads()
    with ResultStore(tmp_path / "alone.sqlite") as store:
        execution.execute(plan, store, backend=execution.local_backend(1))
        alone = results_table(list(store.rows()))
    assert set(alone["worker_threads"]) == {threads} and set(alone["worker_pid"]) == {os.getpid()}


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_workers_end_when_their_parent_is_killed(tmp_path):
    process = subprocess.Popen(
        bench_command("run", "--codecs", "jpeg,webp", "--dataset", "kodak", "--jobs", "2", "--out", str(tmp_path / "run")),
        env=bench_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [pid for pid in _children(process.pid) if _alive(pid)]
            time.sleep(0.05)
        assert len(workers) >= 2, "the run did not start its two workers"
        os.kill(process.pid, signal.SIGKILL)  # the parent alone, not its process group
        process.wait()
        time.sleep(5)
        assert [pid for pid in workers if _alive(pid)] == []
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class HangingJPEG(JPEG):
    """JPEG whose encode never returns at setting 7 (a stuck codec)."""

    name = "hanging"

    def encode(self, image, setting):
        if setting == 7:
            time.sleep(3600)
        return super().encode(image, setting)


def _hanging_plan(kodak_dir, images=("kodim01.png", "kodim02.png")):
    sources = [ImageSource("kodak", name, kodak_dir / name) for name in images]
    return RunPlan(images=sources, codecs={"hanging": HangingJPEG(), "jpeg": JPEG()}, metrics=[],
                   settings={"hanging": [7], "jpeg": [30, 60]})


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_hung_codec_costs_its_rows_on_every_local_backend_and_leaves_no_process(jobs, kodak_dir, tmp_path):
    plan = _hanging_plan(kodak_dir)
    # Children of this process from earlier tests (a --verify test's fresh decoder) are not this run's.
    earlier = {pid for pid in _children(os.getpid()) if _alive(pid)}
    started = time.monotonic()
    with ResultStore(tmp_path / "results.sqlite") as store:
        execution.execute(plan, store, backend=execution.local_backend(jobs, row_timeout=1.5))
        table = results_table(list(store.rows()))
    assert time.monotonic() - started < 30
    assert [pid for pid in _children(os.getpid()) if _alive(pid) and pid not in earlier] == []
    hung = table[table["codec"] == "hanging"]
    assert len(hung) == 2 and (hung["status"] == "error").all()
    worker = "; its worker process was replaced" if jobs > 1 else ""
    assert set(hung["error"]) == {f"ran past the per-row limit of 1.5 s (--row-timeout){worker}"}
    jpeg = table[table["codec"] == "jpeg"]
    assert len(jpeg) == 4 and (jpeg["status"] == "ok").all() and (jpeg["bytes"] > 0).all()


HANGING_PLUGIN = '''
import time
from bench.codecs.jpeg import JPEG

class Hanging(JPEG):
    name = "hangcodec"
    library = "hang-codec"

    def encode(self, image, setting):
        time.sleep(3600)
'''


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_bench_process_ends_the_run_with_rows_exported_and_no_child_left(signal_number, tmp_path, kodak_dir):
    from cli_helpers import make_plugin

    plugin = make_plugin(tmp_path / "plugin", "hang-codec", "hang_codec", HANGING_PLUGIN, "[codec_bench.codecs]\nhangcodec = hang_codec:Hanging\n")
    run = tmp_path / "run"
    arguments = ["run", "--codecs", "hangcodec,jpeg", "--images", str(kodak_dir / "kodim0[1-4].png"), "--metrics", "psnr",
                 "--settings", "hangcodec=50", "--settings", "jpeg=50", "--jobs", "2", "--out", str(run)]
    process = subprocess.Popen(bench_command(*arguments), env=bench_env(PYTHONPATH=str(plugin)), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [pid for pid in _children(process.pid) if _alive(pid)]
            time.sleep(0.05)
        time.sleep(2)  # both workers now hold a hung task
        assert len(workers) >= 2, "the run did not start its two workers"
        os.kill(process.pid, signal_number)  # the process alone, as a supervisor does
        signalled = time.monotonic()
        _, stderr = process.communicate(timeout=30)
        assert time.monotonic() - signalled < 10
        assert process.returncode == 130 and "interrupted; finished rows are stored and exported" in stderr, stderr
        assert [pid for pid in workers if _alive(pid)] == []
        import pandas as pd

        exported = pd.read_csv(run / "results.csv")
        with ResultStore(run / "results.sqlite") as store:
            assert len(exported) == len(list(store.rows()))
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    resumed = subprocess.run(bench_command(*arguments, "--row-timeout", "1"), env=bench_env(PYTHONPATH=str(plugin)),
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    import pandas as pd

    table = pd.read_csv(run / "results.csv")
    assert len(table) == 8 and not table.duplicated(["image", "codec", "point"]).any()
    assert (table[table["codec"] == "jpeg"]["status"] == "ok").all()
    assert (table[table["codec"] == "hangcodec"]["error"].str.startswith("ran past the per-row limit of 1 s")).all()
