"""Held-out measures against partial labels vs the truth, and what the extraction method leaves reachable.

On simulated micrographs (`pickflow simulate`, full ground truth, partial labels) this trains each model family
on the labels of the first micrographs and evaluates every epoch on the last ones twice: against their partial
labels (what a user has) and against every simulated particle (the truth). It reports, per epoch, AP and
``recall_at_expected`` both ways, which epoch each partial-label measure would select and the true AP of that
epoch. With the final model it compares the extraction methods on the held-out micrographs: candidate recall
(the fraction of true particles with a candidate within the particle radius, the most any threshold can reach)
and AP against the truth.

    .venv/bin/python -m benchmarks.heldout benchmarks/work/hard1 benchmarks/work/hard2 \
        --models resnet8 unet --epochs 8 --epoch-size 40 --out benchmarks/work/heldout.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import torch

from benchmarks import tables
from pickflow.io.micrographs import read_micrograph
from pickflow.picking.evaluation import summarize
from pickflow.picking.extract import blob_centroids, nms
from pickflow.picking.scoring import score_image
from pickflow.preprocess.image import preprocess_image
from pickflow.training import loop as training
from pickflow.training.loop import Dataset, TrainConfig

MEASURES = ("ap", "recall_at_expected")


def load_set(folder: Path, downsample: int) -> tuple[list[str], list[np.ndarray], dict[str, pd.DataFrame], float]:
    """Preprocessed micrographs, labels and truth (preprocessed pixels, (y, x)), and the particle radius there."""
    sim = json.loads((folder / "simulation.json").read_text())["config"]
    names, images = [], []
    params = {"pixel_size": sim["pixel_size"], "downsample": downsample, "normalize": "gmm", "seed": 0}
    for path in sorted((folder / "micrographs").glob("*.mrc")):
        image, _ = preprocess_image(read_micrograph(path), path.stem, params)
        names.append(path.stem)
        images.append(image)
    tables = {kind: pd.read_csv(folder / f"{kind}.csv") for kind in ("labels", "ground_truth")}
    return names, images, tables, sim["particle_radius"] / sim["pixel_size"] / downsample


def dataset(names: list[str], images: list[np.ndarray], table: pd.DataFrame, downsample: int) -> Dataset:
    centres = [table[table["micrograph"] == n][["y", "x"]].to_numpy(float) / downsample for n in names]
    return Dataset(list(names), list(images), centres)


def with_truth(truth: Dataset):
    """``training.evaluate`` that also evaluates the held-out micrographs against the truth (columns true_*)."""
    original = training.evaluate

    def evaluate(model, data, positives, cfg, pi, p_obs, device):
        values = original(model, data, positives, cfg, pi, p_obs, device)
        if data.names == truth.names:
            full = original(model, truth, truth.positives(cfg.label_radius), cfg, pi, p_obs, device)
            values.update({f"true_{k}": full[k] for k in MEASURES})
        return values

    return evaluate


def extraction(model, images, truth: Dataset, radius: float, candidate_threshold: float) -> dict:
    """Candidate recall and true AP of NMS (at the candidate threshold) and blobs (at logit 0)."""
    results = {}
    model.eval()  # as pickflow.models.modelfile.load_model gives it to the score rule
    scores = [score_image(model, image, torch.device("cpu"), stride=1) for image in images]
    methods = {
        "nms": lambda s: nms(s, radius, candidate_threshold),
        "blob": lambda s: blob_centroids(s, 0.0),
    }
    truth_table = pd.concat(
        [
            pd.DataFrame({"micrograph": n, "x": c[:, 1], "y": c[:, 0]})
            for n, c in zip(truth.names, truth.centres, strict=True)
        ]
    )
    for method, extract in methods.items():
        picks = []
        for name, score in zip(truth.names, scores, strict=True):
            ys, xs, sc = extract(score)
            picks.append(pd.DataFrame({"micrograph": name, "x": xs, "y": ys, "score": sc}))
        table = pd.concat(picks, ignore_index=True)
        stats, curve = summarize(table, truth_table, radius)
        results[method] = {
            "candidate_recall": float(curve["recall"].max()) if len(curve) else 0.0,
            "true_ap": stats["average_precision"],
            "candidates_per_micrograph": len(table) / len(images),
        }
    return results


def selection(metrics: pd.DataFrame) -> dict:
    """Epoch each partial-label measure selects, and the true AP there, against the true-AP-best epoch."""
    test = metrics[metrics["split"] == "test"].set_index("epoch")
    best_true = float(test["true_ap"].max())
    out = {"best_true_ap": best_true, "best_true_epoch": int(cast(int, test["true_ap"].idxmax()))}
    for measure in MEASURES:
        epoch = training.select_best_epoch(metrics, measure)
        out[measure] = {"epoch": epoch, "true_ap": float(cast(float, test.loc[epoch, "true_ap"]))}
        out[measure]["regret"] = best_true - out[measure]["true_ap"]
    return out


def run_one(folder: Path, model: str, args: argparse.Namespace) -> dict:
    names, images, tables, radius = load_set(folder, args.downsample)
    n_train = len(names) - args.test
    train_data = dataset(names[:n_train], images[:n_train], tables["labels"], args.downsample)
    partial = dataset(names[n_train:], images[n_train:], tables["labels"], args.downsample)
    truth = dataset(names[n_train:], images[n_train:], tables["ground_truth"], args.downsample)
    expected = len(tables["ground_truth"]) / len(names)
    cfg = TrainConfig.from_dict(
        {
            "model": {"name": model, "units": 32},
            "expected_particles": expected,
            "minibatch_size": 64 if model != "unet" else None,
            "patch_size": 64,
            "epoch_size": args.epoch_size,
            "epochs": args.epochs,
            "learning_rate": 0.002 if model != "unet" else 0.001,
            "particle_radius": radius,
            "eval_stride": 1,
            "seed": args.seed,
        }
    )
    original = training.evaluate
    training.evaluate = with_truth(truth)
    try:
        result = training.train(cfg, train_data, partial, torch.device("cpu"))
        net, metrics = result.model, result.metrics
    finally:
        training.evaluate = original
    return {
        "set": str(folder),
        "model": model,
        "expected_particles": expected,
        "per_epoch": metrics[metrics["split"] == "test"][["epoch", *MEASURES, *(f"true_{m}" for m in MEASURES)]]
        .round(4)
        .to_dict("records"),
        "selection": selection(metrics),
        "extraction_at_best_ap_epoch": extraction(net, partial.images, truth, radius, cfg.candidate_threshold),
    }


def markdown(results: list[dict]) -> str:
    """Two tables: extraction (candidate recall, true AP) and epoch selection (true AP of the chosen epoch)."""
    regrets = {m: np.mean([r["selection"][m]["regret"] for r in results]) for m in MEASURES}
    regret = "Mean regret (best true AP - true AP of the selected epoch): " + ", ".join(
        f"{m} {v:.4f}" for m, v in regrets.items()
    )
    return f"{tables.heldout_extraction(results)}\n{tables.heldout_selection(results, MEASURES)}\n{regret}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sets", nargs="+", type=Path, help="folders written by pickflow simulate")
    p.add_argument("--models", nargs="+", default=["resnet8", "unet"])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--epoch-size", type=int, default=40)
    p.add_argument("--downsample", type=int, default=4)
    p.add_argument("--test", type=int, default=2, help="held-out micrographs (the last ones)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="JSON results (the markdown tables go beside it, .md)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    results = []
    for folder in args.sets:
        for model in args.models:
            results.append(run_one(folder, model, args))
            print(json.dumps({k: results[-1][k] for k in ("set", "model", "selection", "extraction_at_best_ap_epoch")}))
            args.out.write_text(json.dumps(results, indent=1))
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
