"""The HiFiC training loop: stage 1 (rate-distortion), stage 2 (with the GAN), checkpoints, resume.

Files written under the output folder::

    log.csv                         losses and bpp, means over each ``log_every`` window
    checkpoints/step-0000500.pt     codec checkpoint (``bench.models.hific.checkpoint`` format, with card)
    checkpoints/step-0000500.state  everything else needed to resume exactly: optimizers,
                                    discriminator, step, wall time, RNG states
    <name>.pt, card.json            the final codec checkpoint and its card

``--resume`` restores the newest checkpoint pair; with the same config, data and device
the resumed run then computes exactly what the uninterrupted run would have (on the CPU,
bit for bit).
"""
from __future__ import annotations

import csv
import json
import math
import platform
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from bench.models.hific.checkpoint import load_checkpoint, load_state_into, read_checkpoint_file, save_checkpoint
from bench.models.hific.config import preset
from bench.models.hific.discriminator import Discriminator
from bench.models.hific.model import HiFiC, bpp_from_likelihoods
from bench.metrics.lpips import load_lpips
from bench.train import losses
from bench.train.config import ConfigError, TrainConfig
from bench.train.data import CropSampler, training_sampler
from bench.weights import weights_file

LOG_COLUMNS = (
    "step", "stage", "loss", "bpp", "rate_lambda", "mse", "lpips", "sparsity",
    "zero_fraction", "generator_gan", "discriminator", "aux", "wall_seconds",
)
STATE_SUFFIX = ".state"
#: Channels-last convolutions: 8 % faster steps on the 2-core CPU (docs/training.md), and the
#: layout tensor cores want on CUDA.
MEMORY_FORMAT = torch.channels_last


def hardware(device: torch.device) -> str:
    """One line naming the machine the run used."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}), torch {torch.__version__}"
    return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def keep_float32(module: torch.nn.Module, device_type: str = "cuda") -> None:
    """Run ``module`` outside ``device_type`` autocast, with float32 inputs.

    The entropy models' likelihoods (and the hyperprior that gives their means and scales)
    lose too much in bf16: a rate term off by a few percent steers the rate control wrongly.
    """
    forward = module.forward

    def float32_forward(*args: Any, **kwargs: Any) -> Any:
        args = tuple(a.float() if torch.is_tensor(a) and a.is_floating_point() else a for a in args)
        with torch.autocast(device_type=device_type, enabled=False):
            return forward(*args, **kwargs)

    module.forward = float32_forward


class Trainer:
    """Trains one HiFiC model from a :class:`TrainConfig` into ``out_dir``."""

    def __init__(self, config: TrainConfig, out_dir: str | Path, device: str = "cpu", progress: bool = True) -> None:
        self.config = config
        self.out_dir = Path(out_dir)
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"--device {device}: torch sees no CUDA device here; use --device cpu")
        self.progress = progress
        # Before seeding: building LPIPS draws random numbers the first time only (it is cached).
        self.lpips = load_lpips("alex", weights_file("lpips_alex"), str(self.device)).to(memory_format=MEMORY_FORMAT)
        torch.manual_seed(config.seed)
        self.init_card: dict[str, Any] | None = None
        self.model = self._initial_model().to(self.device, memory_format=MEMORY_FORMAT).train()
        self.discriminator = (
            Discriminator(self.model.config).to(self.device, memory_format=MEMORY_FORMAT) if config.stage2_steps else None
        )
        main_parameters = [p for n, p in self.model.named_parameters() if not n.endswith("quantiles")]
        quantiles = [p for n, p in self.model.named_parameters() if n.endswith("quantiles")]
        self.optimizers = {
            "model": torch.optim.Adam(main_parameters, lr=config.learning_rate),
            "aux": torch.optim.Adam(quantiles, lr=config.aux_learning_rate),
        }
        if self.discriminator is not None:
            self.optimizers["discriminator"] = torch.optim.Adam(self.discriminator.parameters(), lr=config.learning_rate)
        self.autocast = self.device.type == "cuda" and config.mixed_precision
        if self.autocast:
            keep_float32(self.model.hyperprior)
            keep_float32(self.model.hyperprior.y_prior)
        self.step = 0
        self.wall_seconds = 0.0
        self.cpu_seconds = 0.0
        #: One entry per invocation of :meth:`train` (a resume starts a new one).
        self.sessions: list[dict[str, Any]] = []
        self.last_row: dict[str, float] = {}
        self._sampler: CropSampler | None = None
        self.data_facts: dict[str, Any] = {}

    def _initial_model(self) -> HiFiC:
        if not self.config.init_from:
            return HiFiC(preset(self.config.model))
        model, self.init_card = load_checkpoint(self.config.init_from)
        return model

    @property
    def sampler(self) -> CropSampler:
        if self._sampler is None:
            self._sampler, folders, count = training_sampler(self.config.data, self.config.seed)
            self.data_facts = {"folders": [str(f) for f in folders], "images": count}
        return self._sampler

    # -- one step -------------------------------------------------------------------------

    def train_step(self, x: torch.Tensor) -> dict[str, float]:
        """One optimisation step on batch ``x`` (B, 3, H, W) in [0, 1]; returns its losses."""
        config, loss_config = self.config, self.config.loss
        stage = 1 if self.step < config.stage1_steps else 2
        x = x.to(self.device, memory_format=MEMORY_FORMAT)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.autocast else nullcontext()
        with autocast:
            output = self.model(x)
        bpp = bpp_from_likelihoods(output.likelihoods, x.shape[-2] * x.shape[-1], self.model.config.likelihood_epsilon)
        rate_lambda = losses.rate_lambda(bpp.item(), loss_config)
        mse = losses.mse_255(x, output.x_hat)
        lpips = losses.lpips_loss(self.lpips, x, output.x_hat)
        loss = rate_lambda * bpp + loss_config.k_m * mse + loss_config.k_p * lpips
        sparsity = losses.sparsity_loss(losses.sparsity_values(output.y, output.means, loss_config.sparsity), loss_config.sparsity)
        if loss_config.sparsity.weight:
            loss = loss + loss_config.sparsity.weight * sparsity
        row = {"stage": stage, "bpp": bpp.item(), "rate_lambda": rate_lambda, "mse": mse.item(), "lpips": lpips.item(),
               "sparsity": sparsity.item(), "zero_fraction": (output.residual == 0).float().mean().item(),
               "generator_gan": math.nan, "discriminator": math.nan}
        latent = output.y_hat.detach()
        if stage == 2:
            generator_gan = losses.generator_gan_loss(self.discriminator(output.x_hat.float(), latent))
            loss = loss + loss_config.beta * generator_gan
            row["generator_gan"] = generator_gan.item()
        self._apply(self.optimizers["model"], loss)
        aux = self.model.hyperprior.z_prior.loss()
        self._apply(self.optimizers["aux"], aux)
        if stage == 2:
            real = self.discriminator(x, latent)
            fake = self.discriminator(output.x_hat.detach().float(), latent)
            discriminator = losses.discriminator_loss(real, fake)
            self._apply(self.optimizers["discriminator"], discriminator)
            row["discriminator"] = discriminator.item()
        self.step += 1
        return {"loss": loss.item(), "aux": aux.item(), **row}

    @staticmethod
    def _apply(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    # -- the loop -----------------------------------------------------------------------------

    def train(self, resume: bool = False) -> Path:
        """Train to ``total_steps`` (from the newest checkpoint with ``resume``); return the final checkpoint."""
        if resume:
            self.resume()
        elif self.checkpoint_steps():
            raise ConfigError(f"{self.out_dir} already holds checkpoints; pass --resume to continue, or choose another --out")
        sampler = self.sampler
        self.out_dir.mkdir(parents=True, exist_ok=True)
        total = self.config.total_steps
        window: list[dict[str, float]] = []
        started = time.perf_counter() - self.wall_seconds
        cpu_started = time.process_time() - self.cpu_seconds
        self.sessions.append({
            "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "hardware": hardware(self.device),
            "from_step": self.step, "to_step": self.step, "wall_seconds": 0.0, "cpu_seconds": 0.0,
        })
        session_wall, session_cpu = self.wall_seconds, self.cpu_seconds
        with tqdm(total=total, initial=self.step, disable=not self.progress, desc=self.config.name, unit="step") as bar:
            while self.step < total:
                window.append(self.train_step(sampler.next_batch()))
                self.wall_seconds = time.perf_counter() - started
                self.cpu_seconds = time.process_time() - cpu_started
                self.sessions[-1].update(
                    to_step=self.step, wall_seconds=round(self.wall_seconds - session_wall, 1),
                    cpu_seconds=round(self.cpu_seconds - session_cpu, 1),
                )
                bar.update(1)
                if self.step % self.config.log_every == 0 or self.step == total:
                    self.last_row = self._write_log_row(window)
                    window = []
                    bar.set_postfix(
                        bpp=f"{self.last_row['bpp']:.3f}", loss=f"{self.last_row['loss']:.3f}",
                        lpips=f"{self.last_row['lpips']:.3f}", zeros=f"{self.last_row['zero_fraction']:.2f}",
                    )
                if self.step % self.config.checkpoint_every == 0 or self.step == total:
                    self.save()
        final = save_checkpoint(self.model, self.out_dir / f"{self.config.name}.pt", self.card(), self.config.weights_dtype)
        (self.out_dir / "card.json").write_text(json.dumps(self.card(), indent=2, sort_keys=True) + "\n")
        return final

    def _write_log_row(self, window: list[dict[str, float]]) -> dict[str, float]:
        row = {key: sum(r[key] for r in window) / len(window) for key in window[0]}
        row.update(step=self.step, stage=window[-1]["stage"], wall_seconds=round(self.wall_seconds, 3))
        path = self.out_dir / "log.csv"
        new_file = not path.exists()
        with path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
            if new_file:
                writer.writeheader()
            writer.writerow({key: row[key] for key in LOG_COLUMNS})
        return row

    def card(self) -> dict[str, Any]:
        """Facts about the run, stored in each checkpoint and in card.json."""
        return {
            "trained_with": "bench train",
            "target_rate": self.config.loss.target_rate,
            "config": self.config.to_dict(),
            "model_config": json.loads(self.model.config.to_json()),
            "data": self.data_facts,
            "steps": self.step,
            "stage1_steps_done": min(self.step, self.config.stage1_steps),
            "stage2_steps_done": max(0, self.step - self.config.stage1_steps),
            "hardware": hardware(self.device),
            "wall_seconds": round(self.wall_seconds, 1),
            # Process CPU time of all threads: wall time x cores when the machine was otherwise idle.
            "cpu_seconds": round(self.cpu_seconds, 1),
            "sessions": self.sessions,
            "init_from": {"path": self.config.init_from, "card": self.init_card} if self.config.init_from else None,
            # NaN (a loss of the stage not reached) is not JSON: it becomes null.
            "final_losses": {
                k: None if math.isnan(v) else v for k, v in self.last_row.items() if k not in ("step", "wall_seconds")
            },
            "train_bpp": self.last_row.get("bpp"),
        }

    # -- checkpoints --------------------------------------------------------------------

    @property
    def checkpoint_dir(self) -> Path:
        return self.out_dir / "checkpoints"

    def checkpoint_steps(self) -> list[int]:
        """Steps that have both a codec checkpoint and a training state, ascending."""
        if not self.checkpoint_dir.is_dir():
            return []
        return sorted(
            int(path.stem.removeprefix("step-"))
            for path in self.checkpoint_dir.glob("step-*.pt")
            if path.with_suffix(STATE_SUFFIX).is_file()
        )

    def _checkpoint_path(self, step: int) -> Path:
        return self.checkpoint_dir / f"step-{step:07d}.pt"

    def save(self) -> Path:
        """Write the codec checkpoint and the training state of the current step."""
        path = save_checkpoint(self.model, self._checkpoint_path(self.step), self.card())
        state = {
            "step": self.step,
            "wall_seconds": self.wall_seconds,
            "cpu_seconds": self.cpu_seconds,
            "sessions": json.dumps(self.sessions),
            "optimizers": {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()},
            "discriminator": self.discriminator.state_dict() if self.discriminator is not None else {},
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
            "sampler_rng": self.sampler.generator.get_state(),
            "last_row": self.last_row,
        }
        torch.save(state, path.with_suffix(STATE_SUFFIX))
        return path

    def resume(self) -> int:
        """Restore the newest checkpoint in ``out_dir``; return its step."""
        steps = self.checkpoint_steps()
        if not steps:
            raise ConfigError(f"--resume: no checkpoint in {self.checkpoint_dir}; run without --resume to start")
        path = self._checkpoint_path(steps[-1])
        data = read_checkpoint_file(path)
        if data.get("config") != self.model.config.to_json():
            raise ConfigError(f"--resume: {path} holds another model configuration than this config builds")
        load_state_into(self.model, data["state_dict"], source=str(path))
        state = torch.load(path.with_suffix(STATE_SUFFIX), map_location="cpu", weights_only=True)
        for name, optimizer in self.optimizers.items():
            # A run saved without stage 2 has no discriminator: adding stage 2 starts a fresh one.
            if name in state["optimizers"]:
                optimizer.load_state_dict(state["optimizers"][name])
        if self.discriminator is not None and state["discriminator"]:
            self.discriminator.load_state_dict(state["discriminator"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"]:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.sampler.generator.set_state(state["sampler_rng"])
        self.step, self.wall_seconds, self.last_row = state["step"], state["wall_seconds"], state["last_row"]
        # States written before CPU time and sessions were recorded lack them.
        self.cpu_seconds = state.get("cpu_seconds", 0.0)
        self.sessions = json.loads(state.get("sessions", "[]"))
        self._truncate_log(self.step)
        return self.step

    def _truncate_log(self, step: int) -> None:
        """Drop log rows written after ``step`` (the interrupted run's lost steps)."""
        path = self.out_dir / "log.csv"
        if not path.exists():
            return
        with path.open(newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if int(row["step"]) <= step]
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)


def train(config: TrainConfig, out_dir: str | Path, device: str = "cpu", resume: bool = False, progress: bool = True) -> Path:
    """Train ``config`` into ``out_dir``; return the final checkpoint's path."""
    return Trainer(config, out_dir, device=device, progress=progress).train(resume=resume)
