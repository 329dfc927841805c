"""Resolving --device: auto, a valid device, or a one-line error."""
from __future__ import annotations

import pytest
import torch

from bench.device import DeviceError, resolve_device


@pytest.fixture
def one_gpu(monkeypatch):
    """torch as on a machine with one CUDA device."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.accelerator, "current_accelerator", lambda *args, **kwargs: torch.device("cuda"))
    monkeypatch.setattr(torch.accelerator, "device_count", lambda: 1)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.accelerator, "current_accelerator", lambda *args, **kwargs: None)
    monkeypatch.setattr(torch.accelerator, "device_count", lambda: 0)


@pytest.mark.parametrize("name", ["auto", None, ""])
def test_auto_is_cuda_when_torch_sees_it_else_cpu(name, one_gpu):
    assert resolve_device(name) == "cuda"


def test_auto_without_cuda_is_cpu(no_gpu):
    assert resolve_device() == "cpu"


@pytest.mark.parametrize("name", ["cpu", "cuda", "cuda:0"])
def test_usable_devices_pass_unchanged(name, one_gpu):
    assert resolve_device(name) == name


def test_a_name_torch_does_not_know_is_refused():
    with pytest.raises(DeviceError, match=r"^--device 'bogus' is not a torch device; use auto, cpu, cuda or cuda:N$"):
        resolve_device("bogus")


def test_cuda_without_a_gpu_is_refused(no_gpu):
    with pytest.raises(DeviceError, match=r"^--device cuda: torch sees no cuda device here; use --device auto or cpu$"):
        resolve_device("cuda")


def test_a_gpu_index_beyond_the_count_is_refused(one_gpu):
    with pytest.raises(DeviceError, match=r"^--device cuda:1: torch sees only 1 cuda device\(s\), numbered from 0$"):
        resolve_device("cuda:1")
