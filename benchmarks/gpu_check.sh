#!/usr/bin/env bash
# The GPU check, as one short call on a lent GPU machine (about 5 minutes on one H100): the CUDA
# tests, then encode/decode timings (HiFiC, CompressAI, msillm with random weights of the published sizes) and
# the cross-device decode of benchmarks/gpu_check.py.
# Run from the repository root with the package installed: bash benchmarks/gpu_check.sh [--device cuda]
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python -m pytest -q -m cuda -p no:cacheprovider tests/test_cuda.py
PYTHONPATH=. python benchmarks/gpu_check.py "$@"
