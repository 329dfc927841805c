"""Where the bytes of the two HiFiC bitstreams go, for real checkpoints on real images.

For each checkpoint and image, both bitstreams are written (``bench.codecs.hific``) and their
y parts split up:

* rANS (entropy-coded, magic ``HF``): the real y string, and the ideal bits of the Gaussian
  conditional, -log2 P(symbol | mu, sigma), summed separately over the zero and the non-zero
  residual symbols, and over the symbols of "dead" channels (zero at every position);
* sparse matrix (magic ``HS``): the real positions and values streams (run lengths + values,
  zstd).

Both share the same z string. Also printed: the zero fraction, and the share of the zeros that
lie in dead channels, and the ideal size of y for a coder with one static distribution per
channel fitted to the image (what an adaptive coder such as zstd's can approach, and what the
hyperprior has to beat with its per-position scales). Kodak images come from ``$BENCH_DATA_DIR`` as for ``bench run``.

    PYTHONPATH=. python benchmarks/sparse_vs_rans.py baselines/hific-cpu-dense-lo/*.pt --images 4
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from bench import datasets
from bench.codecs.hific import entropy_coded, sparse_matrix
from bench.imageio import read_image
from bench.models.hific.checkpoint import fingerprint, load_checkpoint


def per_channel_entropy_bytes(residual: torch.Tensor) -> float:
    """Ideal bytes of a coder with one static distribution per channel, fitted to this image."""
    total = 0.0
    for channel in residual[0].flatten(1).numpy():
        _, counts = np.unique(channel, return_counts=True)
        total -= float((counts * np.log2(counts / channel.size)).sum())
    return total / 8


def byte_budget(model, image: np.ndarray) -> dict[str, float]:
    """Bytes of both bitstreams of one image, and the ideal bits of rANS on zero / non-zero symbols."""
    model_fingerprint = fingerprint(model)
    rans_bytes, latents = entropy_coded.encode_image(model, image, "analysis", model_fingerprint)
    matrix_bytes, _ = sparse_matrix.encode_image(model, image, "analysis", model_fingerprint)
    _, strings = entropy_coded.unpack(rans_bytes)
    streams = sparse_matrix.stream_sizes(matrix_bytes)
    bits = -torch.log2(model.likelihoods(latents)["y"])
    zeros = latents.residual == 0
    dead = zeros.flatten(2).all(dim=2)[..., None, None].expand_as(zeros)  # channels zero at every position
    return {
        "rans_total": len(rans_bytes), "matrix_total": len(matrix_bytes), "z": len(strings.z_string),
        "rans_y": len(strings.y_string), "ideal_y_zeros": float(bits[zeros].sum()) / 8,
        "ideal_y_nonzeros": float(bits[~zeros].sum()) / 8, "ideal_y_dead": float(bits[dead].sum()) / 8, "positions": streams["positions_bytes"],
        "values": streams["values_bytes"], "per_channel_entropy": per_channel_entropy_bytes(latents.residual), "zero_fraction": float(zeros.float().mean()),
        "zeros_in_dead_channels": float(dead.sum()) / max(1, int(zeros.sum())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--images", type=int, default=4, help="first N Kodak images")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    images = [read_image(path) for path in datasets.resolve("kodak")[: args.images]]
    print(f"mean bytes per image over the first {len(images)} Kodak images (768x512 or 512x768)")
    print(f"{'checkpoint':<28} {'zeros':>6} {'dead':>5} | {'rANS':>6} = {'z':>4} + {'y':>6} (ideal: zeros (dead ch.) non-zeros) "
          f"| {'matrix':>6} = z + {'positions':>9} + {'values':>6} | y per-channel entropy")
    for path in args.checkpoints:
        model, _ = load_checkpoint(path)
        model.update()
        rows = [byte_budget(model, image) for image in images]
        mean = {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
        print(f"{path.parent.name + '/' + path.name:<28} {mean['zero_fraction']:6.3f} {mean['zeros_in_dead_channels']:5.2f} | "
              f"{mean['rans_total']:6.0f} = {mean['z']:4.0f} + {mean['rans_y']:6.0f} ({mean['ideal_y_zeros']:6.0f} ({mean['ideal_y_dead']:6.0f}) {mean['ideal_y_nonzeros']:9.0f}) "
              f"| {mean['matrix_total']:6.0f} = z + {mean['positions']:9.0f} + {mean['values']:6.0f} | {mean['per_channel_entropy']:6.0f}")


if __name__ == "__main__":
    main()
