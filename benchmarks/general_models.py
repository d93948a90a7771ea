"""Rebuild the general pretrained models shipped in pickflow/general/ (see pickflow/general/MODEL_CARD.md).

1. ``simulate``: draws a broad distribution of simulated micrographs with pickflow.simulate, one parameter draw
   per micrograph (particle shape and diameter, pixel size, SNR, defocus, B-factor, dose, ice thickness and
   gradient, junk, contamination, carbon, crowding, aggregates), preprocesses each to the general scale
   (pickflow.general_models.PARTICLE_PIXELS pixels per particle diameter, GMM normalization) and stores it with
   EVERY particle centre under WORK/sim/{train,val}/. Nothing from data/ is used: the bundled demo stays an
   unseen benchmark set.
2. ``train FAMILY``: trains FAMILY (resnet8 or unet, default architecture) with full truth labels (PN: resnet8
   with the true class prior, unet with class weights), keeps the epoch with the best particle AP on the
   validation micrographs (scored against every particle), and writes pickflow/general/FAMILY.pt and
   FAMILY.json (scale, normalization, architecture, sha256, budget, seed, commit).
3. ``evaluate FAMILY``: scores the model without any training on held-out sets it never saw: a fresh
   low-SNR simulated set (2048² at 2 Å/px, 150 Å particles, SNR 0.025, junk, contamination, carbon; another
   seed) against every particle, and the bundled EMPIAR-10028 demo against its partial expert labels.
   Writes WORK/evaluate_FAMILY.json.

    nice .venv/bin/python -m benchmarks.general_models simulate --seed 0
    nice .venv/bin/python -m benchmarks.general_models train resnet8 --seed 0 --threads 1
    nice .venv/bin/python -m benchmarks.general_models evaluate resnet8
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import multiprocessing
import time
from pathlib import Path

import numpy as np

from benchmarks.common import DEMO_PIXEL_SIZE, WORK, demo_labels
from pickflow.io.micrographs import read_micrograph
from pickflow.models import ModelConfig
from pickflow.models.device import set_threads
from pickflow.models.general import GENERAL_DIR, NORMALIZE, PARTICLE_PIXELS, file_sha256
from pickflow.models.modelfile import save_model
from pickflow.preprocess.image import preprocess_image
from pickflow.report.provenance import collect
from pickflow.simulate import SimulationConfig, preset, simulate_micrograph
from pickflow.training.loop import Dataset, TrainConfig, evaluate, train
from tests.workflow.helpers import DEMO

LABEL_RADIUS = 3.0  # preprocessed px: the default train.label_radius, so fine-tuning keeps the same target
PREPROCESSED_SIZE = 320  # preprocessed px: every training micrograph is about this large
log = logging.getLogger("general_models")

# Training budget per family (fixed, so a rebuild is reproducible from the seed).
BUDGETS = {
    "resnet8": {"minibatch_size": 128, "epoch_size": 250, "epochs": 15, "learning_rate": 1e-3},
    "unet": {"minibatch_size": 4, "epoch_size": 250, "epochs": 6, "learning_rate": 1e-3},
}
FINAL_LEARNING_RATE = 5e-5


def draw_config(rng: np.random.Generator, seed: int) -> SimulationConfig:
    """One micrograph's simulation settings, drawn from the broad training distribution."""
    diameter = float(np.exp(rng.uniform(np.log(100), np.log(320))))  # Å
    factor = float(np.exp(rng.uniform(np.log(2), np.log(6))))  # raw px per preprocessed px
    pixel = float(np.clip(diameter / (PARTICLE_PIXELS * factor), 0.7, 4.5))
    factor = diameter / (PARTICLE_PIXELS * pixel)
    size = int(2 * round(PREPROCESSED_SIZE * factor / 2))
    crowding = rng.uniform(0.08, 0.6)  # particles per (diameter)^2 of area
    particles = int(crowding * (size * pixel / diameter) ** 2)
    defocus = rng.uniform(0.8, 3.0)
    elongated = rng.random() < 0.5
    return SimulationConfig(
        image_size=size,
        pixel_size=pixel,
        micrographs=1,
        particles_per_micrograph=particles,
        particle_radius=diameter / 2,
        particle_components=int(rng.integers(24, 80)),
        particle_shape="ellipsoid" if elongated else "ribosome",
        particle_aspect=float(rng.uniform(1.0, 3.0)) if elongated else 1.0,
        defocus_range=(defocus, defocus),
        b_factor=float(rng.uniform(40, 160)),
        dose=float(rng.uniform(20, 60)),
        snr=float(np.exp(rng.uniform(np.log(0.008), np.log(0.12)))),
        ice_thickness=float(rng.uniform(250, 700)),
        ice_gradient=float(rng.uniform(0, 300)),
        ice_texture=float(rng.uniform(0.1, 0.5)),
        contamination_count=float(rng.uniform(0, 4)),
        carbon_probability=0.35,
        junk_per_micrograph=int(rng.uniform(0, 0.6) * particles),
        junk_radius_range=(0.3, float(rng.uniform(0.8, 2.5))),
        min_separation=float(rng.uniform(0.85, 1.3)),
        aggregate_probability=float(rng.uniform(0, 0.1)),
        seed=seed,
    )


def scale_params(pixel_size: float, diameter: float) -> dict:
    """Preprocessing settings that put a micrograph at the general scale."""
    return {
        "pixel_size": pixel_size,
        "target_pixel_size": diameter / PARTICLE_PIXELS,
        "lowpass": None,
        "normalize": NORMALIZE,
        "seed": 0,
    }


def simulate_one(job: tuple[int, int, Path]) -> None:
    """Simulate, preprocess and store micrograph ``index`` of the draw seeded by ``seed``."""
    seed, index, out = job
    if out.exists():
        return
    cfg = draw_config(np.random.default_rng([seed, index]), seed=seed * 1_000_003 + index)
    image, particles, _ = simulate_micrograph(cfg, 0)
    small, meta = preprocess_image(image, out.stem, scale_params(cfg.pixel_size, 2 * cfg.particle_radius))
    scale_y, scale_x = meta["scale"]
    centres = np.stack([particles["y"].to_numpy() / scale_y, particles["x"].to_numpy() / scale_x], axis=1)
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, image=small, centres=centres, config=json.dumps(cfg.to_dict()))
    tmp.rename(out)


def simulate(work: Path, seed: int, n_train: int, n_val: int, processes: int) -> None:
    jobs = [(seed, i, work / "sim" / "train" / f"{i:04d}.npz") for i in range(n_train)]
    jobs += [(seed + 1, i, work / "sim" / "val" / f"{i:04d}.npz") for i in range(n_val)]
    for folder in ("train", "val"):
        (work / "sim" / folder).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with multiprocessing.Pool(processes) as pool:
        for done, _ in enumerate(pool.imap_unordered(simulate_one, jobs), 1):
            if done % 20 == 0:
                log.info("%d/%d micrographs (%.0f s)", done, len(jobs), time.perf_counter() - started)


def load_set(folder: Path) -> Dataset:
    files = sorted(folder.glob("*.npz"))
    arrays = [np.load(f) for f in files]
    return Dataset([f.stem for f in files], [a["image"] for a in arrays], [a["centres"] for a in arrays])


def train_config(family: str, data: Dataset, seed: int) -> TrainConfig:
    """Full-truth PN training at the family's budget: resnet8 with the true prior, unet with class weights."""
    expected = data.n_labels / len(data.images)
    return TrainConfig(
        model=ModelConfig(name=family),
        loss="PN",
        class_weights=family == "unet",
        expected_particles=expected,
        label_radius=LABEL_RADIUS,
        final_learning_rate=FINAL_LEARNING_RATE,
        seed=seed,
        particle_radius=PARTICLE_PIXELS / 2,
        eval_stride=2,
        max_train_eval_micrographs=2,
        **BUDGETS[family],
    )


def train_family(work: Path, family: str, seed: int, threads: int) -> None:
    import torch

    set_threads(threads)
    train_data, val_data = load_set(work / "sim" / "train"), load_set(work / "sim" / "val")
    cfg = train_config(family, train_data, seed)
    provenance = collect(torch.device("cpu"))  # the code that trains, before any later commit
    started = time.perf_counter()
    result = train(cfg, train_data, val_data, torch.device("cpu"))
    model, metrics, summary = result.model, result.metrics, result.summary
    seconds = time.perf_counter() - started
    metrics.to_csv(work / f"metrics_{family}.csv", index=False)
    info = {
        "family": family,
        "particle_pixels": PARTICLE_PIXELS,
        "normalize": NORMALIZE,
        "label_radius": LABEL_RADIUS,
        "model_config": dataclasses.asdict(cfg.model),
        "training": {
            "command": f"python -m benchmarks.general_models simulate --seed {seed} && "
            f"python -m benchmarks.general_models train {family} --seed {seed} --threads {threads}",
            "seed": seed,
            "commit": provenance["git_commit"],
            "date": provenance["date"],
            "train_micrographs": len(train_data.images),
            "train_particles": train_data.n_labels,
            "val_micrographs": len(val_data.images),
            "loss": summary.loss,
            "class_weights": summary.class_weights,
            "budget": {k: getattr(cfg, k) for k in ("epochs", "epoch_size", "minibatch_size", "learning_rate")}
            | {"final_learning_rate": cfg.final_learning_rate},
            "best_epoch": summary.best_epoch,
            "val_ap": float(metrics[(metrics["split"] == "test")]["ap"].max()),
            "wall_seconds": round(seconds, 1),
            "threads": threads,
        },
    }
    GENERAL_DIR.mkdir(exist_ok=True)
    target = GENERAL_DIR / f"{family}.pt"
    general = {k: info[k] for k in ("family", "particle_pixels", "normalize", "label_radius")}
    save_model(target, model.half(), {"general": general})  # float16 weights: half the file; loading casts back
    info["sha256"] = file_sha256(target)
    info["bytes"] = target.stat().st_size
    (GENERAL_DIR / f"{family}.json").write_text(json.dumps(info, indent=2) + "\n")
    log.info("wrote %s (%d bytes), best epoch %d, %.0f s", target, info["bytes"], summary.best_epoch, seconds)


def heldout_lowsnr(work: Path, n: int) -> Dataset:
    """A fresh low-SNR set like issue 15's (never used in training): every particle is truth."""
    folder = work / "heldout_lowsnr"
    folder.mkdir(parents=True, exist_ok=True)
    cfg = preset("hard", image_size=2048, pixel_size=2.0, particle_radius=75.0, snr=0.025, seed=90_001)
    names, images, centres = [], [], []
    for i in range(n):
        out = folder / f"{i:04d}.npz"
        if not out.exists():
            image, particles, _ = simulate_micrograph(cfg, i)
            small, meta = preprocess_image(image, out.stem, scale_params(cfg.pixel_size, 2 * cfg.particle_radius))
            yx = particles[["y", "x"]].to_numpy() / np.array(meta["scale"])
            np.savez(out, image=small, centres=yx)
        data = np.load(out)
        names.append(out.stem)
        images.append(data["image"])
        centres.append(data["centres"])
    return Dataset(names, images, centres)


def demo_set() -> Dataset:
    """The bundled EMPIAR-10028 demo at the general scale (300 Å particles); truth = partial expert labels."""
    labels = demo_labels()
    names, images, centres = [], [], []
    for png in sorted((DEMO / "micrographs").glob("*.png")):
        small, meta = preprocess_image(read_micrograph(png), png.stem, scale_params(DEMO_PIXEL_SIZE, 300.0))
        rows = labels[labels["micrograph"] == png.stem]
        names.append(png.stem)
        images.append(small)
        centres.append(rows[["y", "x"]].to_numpy(float) / np.array(meta["scale"]))
    return Dataset(names, images, centres)


def evaluate_family(work: Path, family: str, threads: int, n_lowsnr: int) -> dict:
    import torch

    from pickflow.models.general import general_model_path
    from pickflow.models.modelfile import load_model

    set_threads(threads)
    device = torch.device("cpu")
    model, _ = load_model(general_model_path(family), device)
    result = {"family": family, "sha256": file_sha256(general_model_path(family)), "sets": {}}
    for name, data, truth in (
        ("lowsnr", heldout_lowsnr(work, n_lowsnr), "every simulated particle"),
        ("demo", demo_set(), "the expert's partial labels (precision underestimated)"),
    ):
        expected = data.n_labels / len(data.images)  # for recall_at_expected; the AP kept here does not use it
        cfg = TrainConfig(
            model=ModelConfig(name=family),
            expected_particles=expected,
            particle_radius=PARTICLE_PIXELS / 2,
            eval_stride=1,
        )
        values = evaluate(model, data, data.positives(LABEL_RADIUS), cfg, 1.0, 1.0, device)
        result["sets"][name] = {
            "ap": values["ap"],
            "micrographs": len(data.images),
            "particles": data.n_labels,
            "truth": truth,
        }
        log.info("%s on %s: AP %.3f (%d micrographs)", family, name, values["ap"], len(data.images))
    (work / f"evaluate_{family}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["simulate", "train", "evaluate"])
    parser.add_argument("family", nargs="?", choices=sorted(BUDGETS), help="train/evaluate: the model family")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-micrographs", type=int, default=200)
    parser.add_argument("--val-micrographs", type=int, default=12)
    parser.add_argument("--lowsnr-micrographs", type=int, default=6)
    parser.add_argument("--processes", type=int, default=2, help="simulate: parallel processes")
    parser.add_argument("--threads", type=int, default=1, help="train/evaluate: torch threads")
    parser.add_argument("--work", default=str(WORK / "general"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    work = Path(args.work).resolve()
    if args.step == "simulate":
        simulate(work, args.seed, args.train_micrographs, args.val_micrographs, args.processes)
    elif args.family is None:
        parser.error(f"{args.step} needs a model family")
    elif args.step == "train":
        train_family(work, args.family, args.seed, args.threads)
    else:
        evaluate_family(work, args.family, args.threads, args.lowsnr_micrographs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
