"""``bench train --config CONFIG.yaml --out DIR [--resume] [--device auto|cpu|cuda]``."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bench.commands import HelpFormatter

    parser = subparsers.add_parser(
        "train", help="train a HiFiC model (optionally with the sparsity loss) from a YAML config",
        formatter_class=HelpFormatter,
        description="Train HiFiC: stage 1 (rate + MSE + LPIPS), then stage 2 (with the conditional GAN). "
        "Writes log.csv, checkpoints/ (codec checkpoints + resume state) and the final <name>.pt with "
        "card.json into --out. See docs/training.md.",
    )
    parser.add_argument("--config", required=True, help="training config: a YAML file, or the name of a shipped one (e.g. cpu-base, see configs/)")
    parser.add_argument("--out", type=Path, required=True, help="output folder for logs and checkpoints")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    parser.add_argument("--device", default="auto", help="torch device: auto (cuda when available, else cpu), cpu, cuda, cuda:1 ...")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (log.csv is still written)")
    parser.add_argument(
        "--seed", type=int, default=None,
        help="replace the config's seed (discriminator initialisation, data order, noise): "
        "the same recipe trained again with another seed (default: the config's seed)",
    )
    parser.set_defaults(func=train_command)


def train_command(args: argparse.Namespace) -> int:
    from bench.device import resolve_device
    from bench.train.config import load_config
    from bench.train.trainer import train

    device = resolve_device(args.device)
    config = load_config(args.config)
    if args.seed is not None:
        config = dataclasses.replace(config, seed=args.seed)
    final = train(config, args.out, device=device, resume=args.resume, progress=not args.no_progress)
    print(f"bench train: wrote {final} (card: {final.parent / 'card.json'})")
    return 0
