"""The training loop for both model families: PU (or weighted PN) objectives on receptive-field crops
or on patch pixels, per-epoch evaluation on whole micrographs, best-epoch selection, and resumable
checkpoints."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ..errors import TrainingError
from ..io.records import SCRATCH, Minibatch, ModelInit, TrainSummary
from ..models import SEGMENTATION, ModelConfig, modelfile
from ..models.device import native_bf16
from ..models.general import file_sha256, general_model_path
from ..models.modelfile import Network, build_model, load_model
from ..models.topaz import Picker
from ..picking.evaluation import average_precision, match_micrograph, pixel_average_precision, recall_at_count
from ..picking.extract import nms_picks, stamp
from ..picking.scoring import score_image
from ..progress import Progress
from .losses import LossConfig, objective
from .prior import class_prior, observed_prior
from .pseudo import pseudo_label_count, pseudo_labels
from .sampling import CropSampler, PatchSampler

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Everything that determines a training run (saved beside its outputs). A train.* setting has the schema's
    default, or none where the schema requires it (tests/unit/test_schema_defaults.py); keyword arguments only."""

    model: ModelConfig = field(default_factory=ModelConfig)
    loss: str = "auto"  # auto: GE-binomial for resnet/conv, PN (weighted cross-entropy) for unet
    slack: float = -1.0
    l2: float = 0.0
    expected_particles: float  # per micrograph; required, as in the schema
    label_radius: float = 3.0
    class_weights: bool | None = None  # None: on for PN only
    minibatch_size: int | None = None  # None: 256 crops (resnet/conv) or 1 patch (unet)
    positive_fraction: float = 0.0625
    patch_size: int = 128  # unet: training patch side (preprocessed pixels)
    epoch_size: int = 1000
    epochs: int = 10
    learning_rate: float = 2e-4
    final_learning_rate: float | None = None
    seed: int = 0
    selection_metric: str = "ap"
    particle_radius: float = 10.0  # preprocessed px: NMS and matching radius for particle AP
    eval_stride: int = 2
    candidate_threshold: float = -6.0
    max_train_eval_micrographs: int = 4
    keep_epoch: str = "best"  # best: highest selection_metric on the held-out set; last: the final epoch
    precision: str = "auto"  # auto | fp32 | bf16 (bfloat16 autocast for the updates; evaluation stays fp32)
    compile: bool = False  # torch.compile the network for the training updates
    init: str = "scratch"  # scratch | general (the shipped general model of the family) | path of a model.pt
    init_sha256: str | None = None  # of the init file: part of the fingerprint, so a changed file retrains
    self_training_rounds: int = 0  # rounds of pseudo-labels after the first training (pickflow.training.pseudo)
    self_training_epochs: int = 5  # epochs of each round
    self_training_fraction: float = 0.5  # of the particles a training micrograph lacks, added as pseudo-labels

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        values = dict(values)
        model = ModelConfig(**values.pop("model", {}))
        return cls(model=model, **values)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    @property
    def segmentation(self) -> bool:
        return self.model.name in SEGMENTATION

    @property
    def batch_size(self) -> int:
        return self.minibatch_size or (1 if self.segmentation else 256)

    @property
    def total_epochs(self) -> int:
        """The epochs of the first training and of every self-training round."""
        return self.epochs + self.self_training_rounds * self.self_training_epochs

    def round_of(self, epoch: int) -> int:
        """The self-training round an epoch belongs to (0: the first training)."""
        return 0 if epoch <= self.epochs else 1 + (epoch - self.epochs - 1) // self.self_training_epochs

    @property
    def requested_loss(self) -> str:
        if self.loss != "auto":
            return self.loss
        return "PN" if self.segmentation else "GE-binomial"


@dataclass
class Dataset:
    """Preprocessed micrographs with their labeled particle centres (preprocessed pixels)."""

    names: list[str]
    images: list[np.ndarray]
    centres: list[np.ndarray]  # (n, 2) arrays of (y, x)

    def positives(self, radius: float) -> list[np.ndarray]:
        masks = []
        for image, yx in zip(self.images, self.centres, strict=True):
            mask = np.zeros(image.shape, dtype=bool)
            ij = np.rint(yx).astype(np.int64)
            stamp(mask, ij[:, 0], ij[:, 1], radius, value=True)
            masks.append(mask)
        return masks

    @property
    def total_pixels(self) -> int:
        return int(sum(img.size for img in self.images))

    @property
    def n_labels(self) -> int:
        return int(sum(len(c) for c in self.centres))

    def with_extra_labels(self, extra: list[np.ndarray]) -> Dataset:
        """The same micrographs with ``extra`` centres added to each one's labels."""
        centres = [np.concatenate([c, e]) for c, e in zip(self.centres, extra, strict=True)]
        return Dataset(self.names, self.images, centres)

    def digests(self) -> dict[str, str]:
        """Content digests of the micrograph names (``split``), the pixels and the label positions."""
        names = hashlib.sha256("\n".join(self.names).encode())
        pixels, labels = hashlib.sha256(), hashlib.sha256()
        for image, centres in zip(self.images, self.centres, strict=True):
            pixels.update(repr(image.shape).encode() + np.ascontiguousarray(image, np.float32).tobytes())
            labels.update(repr(len(centres)).encode() + np.ascontiguousarray(centres, np.float64).tobytes())
        return {"split": names.hexdigest(), "micrographs": pixels.hexdigest(), "labels": labels.hexdigest()}


EvalSets = list[tuple[str, Dataset, list[np.ndarray]]]  # (split name, micrographs, label discs) evaluated


def resume_fingerprint(cfg: TrainConfig, train_data: Dataset, eval_data: Dataset | None) -> dict[str, str]:
    """What a resume state must have been written with: the settings and the content of the inputs
    (which micrographs train and evaluate, their pixels, their labels)."""
    train_parts, eval_parts = train_data.digests(), (eval_data or Dataset([], [], [])).digests()
    return {
        "configuration": cfg.fingerprint(),
        **{part: f"{train_parts[part]}/{eval_parts[part]}" for part in train_parts},
    }


def resume_mismatch(saved: object, current: dict[str, str]) -> str | None:
    """Why a resume state with fingerprint ``saved`` does not fit, or None when it does."""
    if not isinstance(saved, dict) or saved.keys() != current.keys():
        return "written by another pickflow version"
    changed = [part for part in current if saved[part] != current[part]]
    if not changed:
        return None
    if "configuration" in changed:
        return "written by a different configuration"
    return f"written for other training inputs ({', '.join(changed)} changed)"


def priors(cfg: TrainConfig, data: Dataset) -> tuple[float, float, bool]:
    """(pi, p_obs, fell_back_to_pn) for the training set."""
    pi = class_prior(cfg.expected_particles, cfg.label_radius, len(data.images), data.total_pixels)
    p_obs = observed_prior(data.n_labels, cfg.label_radius, data.total_pixels)
    return pi, p_obs, cfg.requested_loss != "PN" and pi <= p_obs


def _lr_lambda(cfg: TrainConfig):
    total = max(1, cfg.epochs * cfg.epoch_size - 1)
    if not cfg.final_learning_rate:
        return lambda step: 1.0
    ratio = cfg.final_learning_rate / cfg.learning_rate
    return lambda step: ratio ** (min(step, total) / total)


@torch.no_grad()
def evaluate(
    model: Network,
    data: Dataset,
    positives: list[np.ndarray],
    cfg: TrainConfig,
    pi: float,
    p_obs: float,
    device: torch.device,
) -> dict:
    """Pixel metrics (Topaz's definitions) and particle-level AP on whole micrographs."""
    model.eval()
    s = cfg.eval_stride
    sums = dict.fromkeys(("bce", "correct", "pos_sigma", "sigma", "neg_sigma", "n_pos", "n", "picks"), 0.0)
    all_scores, all_truth, pick_scores, pick_hits = [], [], [], []
    for image, truth_full, centres in zip(data.images, positives, data.centres, strict=True):
        logits = score_image(model, image, device, stride=s)
        truth = truth_full[::s, ::s]
        t = torch.from_numpy(logits)
        y = torch.from_numpy(truth.astype(np.float32))
        sig = torch.sigmoid(t)
        sums["bce"] += float(F.binary_cross_entropy_with_logits(t, y, reduction="sum"))
        sums["correct"] += float(((t > 0) == (y > 0)).sum())
        sums["pos_sigma"] += float(sig[y > 0].sum())
        sums["neg_sigma"] += float(sig[y == 0].sum())
        sums["sigma"] += float(sig.sum())
        sums["n_pos"] += float(truth.sum())
        sums["n"] += float(truth.size)
        all_scores.append(logits.ravel())
        all_truth.append(truth.ravel())
        picks_yx, sc = nms_picks(logits, cfg.particle_radius, s, cfg.candidate_threshold)
        sums["picks"] += float(np.count_nonzero(sc > 0))
        pick_scores.append(sc)
        pick_hits.append(match_micrograph(picks_yx, sc, centres, cfg.particle_radius))
    model.train()
    n, n_pos = sums["n"], sums["n_pos"]
    precision = sums["pos_sigma"] / max(sums["sigma"], 1e-12)
    est_max_precision = p_obs / pi if pi > 0 else 1.0
    return {
        "loss": sums["bce"] / n,
        "accuracy": sums["correct"] / n,
        "precision": precision,
        "adjusted_precision": precision / est_max_precision,
        "tpr": sums["pos_sigma"] / max(n_pos, 1),
        "fpr": sums["neg_sigma"] / max(n - n_pos, 1),
        "auprc": pixel_average_precision(np.concatenate(all_scores), np.concatenate(all_truth)),
        "ap": average_precision(np.concatenate(pick_scores), np.concatenate(pick_hits), data.n_labels),
        "recall_at_expected": recall_at_count(
            np.concatenate(pick_scores),
            np.concatenate(pick_hits),
            data.n_labels,
            round(cfg.expected_particles * len(data.images)),
        ),
        "picks_per_micrograph": sums["picks"] / max(len(data.images), 1),
    }


def init_path(cfg: TrainConfig) -> Path | None:
    """The model file training starts from (None: random weights)."""
    if cfg.init == "scratch":
        return None
    return general_model_path(cfg.model.name) if cfg.init == "general" else Path(cfg.init)


def initial_weights(cfg: TrainConfig, device: torch.device) -> tuple[dict, ModelInit]:
    """Weights of the init model file and what to record about it; the file must hold the same
    family and architecture settings as ``cfg.model``."""
    path = init_path(cfg)
    if path is None:
        raise ValueError("initial_weights: train.init is scratch, so there is no init file")
    loaded, _ = load_model(path, device)
    if loaded.config != cfg.model:
        raise TrainingError(
            f"train.init: {path} holds a {loaded.config} but training builds a {cfg.model}; "
            "set the architecture settings as the file has them"
        )
    return loaded.state_dict(), ModelInit(cfg.init, str(path), file_sha256(path))


def _sampler(
    cfg: TrainConfig, model: Network, images: list[np.ndarray], positives: list[np.ndarray], exclude_positives: bool
) -> CropSampler | PatchSampler:
    """Patches with label windows for the unet, receptive-field crops for the others."""
    if cfg.segmentation:
        return PatchSampler(images, positives, cfg.patch_size, cfg.batch_size)
    return CropSampler(
        images, positives, model.receptive_field, cfg.positive_fraction, cfg.batch_size, exclude_positives
    )


def select_best_epoch(metrics: pd.DataFrame, metric: str, split: str = "test") -> int:
    """Epoch with the highest ``metric`` on ``split`` (ties: the earliest; loss: the lowest).
    Without rows for ``split`` (no held-out micrographs), the last epoch."""
    rows = metrics[metrics["split"] == split].sort_values("epoch")
    if rows.empty:
        return int(metrics["epoch"].max())
    values = rows[metric].to_numpy(float)
    if metric in ("loss", "fpr"):
        values = -values
    values = np.where(np.isnan(values), -np.inf, values)
    return int(rows["epoch"].to_numpy()[int(np.argmax(values))])


@dataclass
class TrainResult:
    """What :func:`train` returns: the network with the kept epoch's weights, the per-epoch metrics,
    the summary record (written as summary.json), and the weights after the last epoch (last.pt)."""

    model: Network
    metrics: pd.DataFrame
    summary: TrainSummary
    last_state: dict


@dataclass(frozen=True)
class LossChoice:
    """The objective a run trains with: the loss (after the PN fallback), the priors and the class weights."""

    name: str
    pi: float
    p_obs: float
    fell_back_to_pn: bool
    class_weights: bool


@dataclass
class TrainState:
    """What an epoch changes, and what the resume checkpoint holds."""

    model: Network
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    rows: list[dict] = field(default_factory=list)  # per-epoch metrics so far
    best: dict = field(default_factory=lambda: {"epoch": 0, "state": None})  # the kept epoch and its weights
    epoch: int = 0  # the last finished epoch
    pseudo: list[np.ndarray] | None = None  # the current self-training round's pseudo-labels, per micrograph
    pseudo_counts: list[int] = field(default_factory=list)  # pseudo-labels added in each round so far


def train(
    cfg: TrainConfig,
    train_data: Dataset,
    eval_data: Dataset | None,
    device: torch.device,
    resume_path: Path | None = None,
) -> TrainResult:
    """Train; return the best-epoch model, the per-epoch metrics, the summary and the last epoch's weights.

    ``resume_path`` holds the state after the last finished epoch; when it exists and was written
    by the same configuration, training continues from there (a preempted job does not restart).
    """
    check_labels(train_data, eval_data)
    model, init = build_network(cfg, device)
    state = TrainState(model, *optimizer_and_schedule(cfg, model))
    loss, sampler, loss_cfg = training_objective(cfg, model, train_data)
    evaluated = evaluation_sets(cfg, train_data, train_data.positives(cfg.label_radius), eval_data)
    fingerprint = resume_fingerprint(cfg, train_data, eval_data)
    if resume_path is not None and resume_path.exists():
        load_checkpoint(resume_path, state, fingerprint, device)
    if state.pseudo is not None:  # resumed inside a self-training round
        _, sampler, loss_cfg = training_objective(cfg, model, train_data.with_extra_labels(state.pseudo))
    precision = cfg.precision if cfg.precision != "auto" else ("bf16" if native_bf16(device) else "fp32")
    log.info(
        "pi=%.5f p_obs=%.5f loss=%s receptive field=%d device=%s precision=%s",
        loss.pi,
        loss.p_obs,
        loss.name,
        model.receptive_field,
        device,
        precision,
    )
    forward = torch.compile(model) if cfg.compile else model  # shares the weights; evaluation uses ``model``
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    if state.epoch == 0 and cfg.init != "scratch":
        evaluate_start(cfg, state, evaluated, loss, device)
    model.train()
    progress = Progress(cfg.total_epochs, done=state.epoch)
    for epoch in range(state.epoch + 1, cfg.total_epochs + 1):
        if cfg.round_of(epoch) > cfg.round_of(epoch - 1):
            state.pseudo = start_round(cfg, state, train_data, device)
            _, sampler, loss_cfg = training_objective(cfg, model, train_data.with_extra_labels(state.pseudo))
        started = time.perf_counter()
        objective_mean = train_epoch(cfg, state, forward, sampler, loss_cfg, autocast, epoch, device)
        common = {
            "epoch": epoch,
            "lr": state.optimizer.param_groups[0]["lr"],
            "train_seconds": time.perf_counter() - started,
            "objective": objective_mean,
        }
        evaluate_epoch(cfg, state, evaluated, loss, device, common)
        state.epoch = epoch
        if cfg.keep_epoch == "last" or select_best_epoch(pd.DataFrame(state.rows), cfg.selection_metric) == epoch:
            state.best = {"epoch": epoch, "state": copy.deepcopy(model.state_dict())}
        log_epoch(progress, common, state.rows[-len(evaluated) :])
        if resume_path is not None:
            save_checkpoint(resume_path, state, fingerprint)
    return finish(cfg, state, loss, init, precision, train_data, eval_data)


def check_labels(train_data: Dataset, eval_data: Dataset | None) -> None:
    """Training needs labels on the training micrographs, and on the held-out ones when there are any."""
    if train_data.n_labels == 0:
        raise TrainingError("no labeled particle on any training micrograph: check labels.coordinates")
    if eval_data is not None and eval_data.n_labels == 0:
        raise TrainingError(
            "the held-out micrographs carry no labels: raise split.test_fraction or label more micrographs"
        )


def training_objective(
    cfg: TrainConfig, model: Network, train_data: Dataset
) -> tuple[LossChoice, CropSampler | PatchSampler, LossConfig]:
    """The loss, the sampler and the loss settings for training on ``train_data``'s labels."""
    loss = choose_loss(cfg, train_data)
    positives = train_data.positives(cfg.label_radius)
    sampler = _sampler(cfg, model, train_data.images, positives, exclude_positives=loss.name != "PU")
    loss_cfg = LossConfig(loss.name, loss.pi, loss.p_obs, cfg.slack, loss.class_weights, sampler.positive_fraction)
    return loss, sampler, loss_cfg


def start_round(cfg: TrainConfig, state: TrainState, train_data: Dataset, device: torch.device) -> list[np.ndarray]:
    """Begin a self-training round: back to the kept epoch's weights with a fresh optimizer, and the pseudo-labels
    that model gives the training micrographs (always counted from the true labels, never from earlier rounds')."""
    state.model.load_state_dict(state.best["state"])
    state.optimizer, state.scheduler = optimizer_and_schedule(cfg, state.model)
    counts = [
        pseudo_label_count(cfg.expected_particles, len(c), cfg.self_training_fraction) for c in train_data.centres
    ]
    added = pseudo_labels(
        state.model,
        train_data.images,
        train_data.centres,
        counts,
        cfg.particle_radius,
        cfg.eval_stride,
        cfg.candidate_threshold,
        device,
    )
    state.pseudo_counts.append(int(sum(len(a) for a in added)))
    log.info(
        "self-training round %d: %d pseudo-labels from the model of epoch %d, added to %d labels",
        len(state.pseudo_counts),
        state.pseudo_counts[-1],
        state.best["epoch"],
        train_data.n_labels,
    )
    return added


def choose_loss(cfg: TrainConfig, train_data: Dataset) -> LossChoice:
    """The priors of the training set and the loss: the requested one, or PN when the expected particles
    are fewer than the labeled ones (as Topaz does)."""
    pi, p_obs, fell_back = priors(cfg, train_data)
    if pi >= 1:
        raise TrainingError(
            f"class prior pi={pi:.3g} >= 1: train.expected_particles ({cfg.expected_particles}) particles of "
            f"train.label_radius {cfg.label_radius} px do not fit in the training micrographs; lower either, "
            "or downsample less (preprocess.downsample / target_pixel_size)"
        )
    name = "PN" if fell_back else cfg.requested_loss
    if fell_back:
        log.warning(
            "expected particles per micrograph (%.1f) is below the labeled average (%.1f): pi=%.5f <= p_obs=%.5f, "
            "so the loss falls back to PN (as Topaz does). Raise train.expected_particles if there are more particles.",
            cfg.expected_particles,
            train_data.n_labels / len(train_data.images),
            pi,
            p_obs,
        )
        pi = p_obs
    class_weights = (name == "PN") if cfg.class_weights is None else cfg.class_weights
    return LossChoice(name, pi, p_obs, fell_back, class_weights)


def build_network(cfg: TrainConfig, device: torch.device) -> tuple[Network, ModelInit]:
    """The seeded network of ``cfg.model``, with the weights of ``train.init`` when it is not scratch."""
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model)
    # oneDNN's and cuDNN's fast layout; in place. nn.Module.to takes memory_format, but its overloads leave it out.
    model.to(device, memory_format=torch.channels_last)  # pyright: ignore[reportCallIssue]
    if cfg.init == "scratch":
        return model, SCRATCH
    weights, init = initial_weights(cfg, device)
    model.load_state_dict(weights)  # the optimizer starts fresh
    log.info("training starts from %s (%s)", init.path, cfg.init)
    return model, init


def optimizer_and_schedule(
    cfg: TrainConfig, model: Network
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """Adam with the L2 penalty, and the learning rate falling geometrically to ``final_learning_rate``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.l2, fused=True)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(cfg))


def evaluation_sets(
    cfg: TrainConfig, train_data: Dataset, train_pos: list[np.ndarray], eval_data: Dataset | None
) -> EvalSets:
    """What every epoch evaluates: the first ``max_train_eval_micrographs`` training micrographs, and the
    held-out ones."""
    k = min(cfg.max_train_eval_micrographs, len(train_data.images))
    train_eval = Dataset(train_data.names[:k], train_data.images[:k], train_data.centres[:k])
    sets = [("train", train_eval, train_pos[:k])]
    if eval_data:
        sets.append(("test", eval_data, eval_data.positives(cfg.label_radius)))
    return sets


def train_epoch(
    cfg: TrainConfig,
    state: TrainState,
    forward: Callable[[torch.Tensor], torch.Tensor],
    sampler: CropSampler | PatchSampler,
    loss_cfg: LossConfig,
    autocast: torch.autocast,
    epoch: int,
    device: torch.device,
) -> float:
    """``epoch_size`` updates, seeded by (seed, epoch) so a resumed run repeats them; the mean objective."""
    rng = np.random.default_rng([cfg.seed, epoch])
    torch.manual_seed(cfg.seed * 100_003 + epoch)
    objectives = []
    for update in range(cfg.epoch_size):
        inputs, labels = sampler.sample(rng)
        inputs, labels = inputs.to(device, memory_format=torch.channels_last), labels.to(device)
        with autocast:
            logits = forward(inputs).float()  # one logit per label: per crop, or per patch pixel
        loss = objective(loss_cfg, logits[labels], logits[~labels])
        if cfg.model.autoencoder > 0 and isinstance(state.model, Picker):  # only a conv can have it (config_errors)
            loss = loss + cfg.model.autoencoder * state.model.reconstruction_error(inputs)
        if not torch.isfinite(loss):
            raise TrainingError(
                f"training loss became {loss.item()} at epoch {epoch}, update {update + 1}: underfitting - "
                "learning rate too high? Lower train.learning_rate."
            )
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        state.scheduler.step()
        objectives.append(loss.item())
    return float(np.mean(objectives))


def evaluate_epoch(
    cfg: TrainConfig, state: TrainState, evaluated: EvalSets, loss: LossChoice, device: torch.device, common: dict
) -> None:
    """Evaluate the model on each of ``evaluated`` and append a metrics row per split."""
    for split, data, pos in evaluated:
        t0 = time.perf_counter()
        values = evaluate(state.model, data, pos, cfg, loss.pi, loss.p_obs, device)
        state.rows.append({**common, "split": split, **values, "eval_seconds": time.perf_counter() - t0})


def evaluate_start(
    cfg: TrainConfig, state: TrainState, evaluated: EvalSets, loss: LossChoice, device: torch.device
) -> None:
    """Evaluate the starting model (train.init) as epoch 0 and keep it until an epoch beats it on the held-out
    metric, so that fine-tuning that goes astray never ends below where it started."""
    common = {"epoch": 0, "lr": 0.0, "train_seconds": 0.0, "objective": float("nan")}
    evaluate_epoch(cfg, state, evaluated, loss, device, common)
    state.best = {"epoch": 0, "state": copy.deepcopy(state.model.state_dict())}
    log.info(
        "epoch 0 (the start, %s): %s",
        cfg.init,
        " ".join(f"{r['split']}: ap={r['ap']:.3f}" for r in state.rows[-len(evaluated) :]),
    )


def log_epoch(progress: Progress, common: dict, rows: list[dict]) -> None:
    log.info(
        "epoch %s: objective=%.4f %s (%.1f s training)",
        progress.step(),
        common["objective"],
        " ".join(
            f"{r['split']}: loss={r['loss']:.4f} acc={r['accuracy']:.3f} auprc={r['auprc']:.3f} ap={r['ap']:.3f}"
            for r in rows
        ),
        common["train_seconds"],
    )


def save_checkpoint(path: Path, state: TrainState, fingerprint: dict[str, str]) -> None:
    """Write the resume checkpoint (resume.pt) after a finished epoch: the one place that writes it."""
    modelfile.save(
        path,
        {
            "fingerprint": fingerprint,
            "epoch": state.epoch,
            "model": state.model.state_dict(),
            "optimizer": state.optimizer.state_dict(),
            "scheduler": state.scheduler.state_dict(),
            "rows": state.rows,
            "best": state.best,
            "pseudo": None if state.pseudo is None else [torch.from_numpy(a) for a in state.pseudo],
            "pseudo_counts": state.pseudo_counts,
        },
    )


def load_checkpoint(path: Path, state: TrainState, fingerprint: dict[str, str], device: torch.device) -> None:
    """Continue ``state`` from the checkpoint at ``path`` (the one place that reads it), unless it was
    written for other settings or inputs."""
    saved = modelfile.load(path, device)
    mismatch = resume_mismatch(saved.get("fingerprint"), fingerprint)
    if mismatch is not None:
        log.info("ignoring %s: %s; training starts afresh", path, mismatch)
        return
    state.model.load_state_dict(saved["model"])
    state.optimizer.load_state_dict(saved["optimizer"])
    state.scheduler.load_state_dict(saved["scheduler"])
    state.rows, state.best, state.epoch = saved["rows"], saved["best"], saved["epoch"]
    state.pseudo = None if saved["pseudo"] is None else [t.cpu().numpy() for t in saved["pseudo"]]
    state.pseudo_counts = saved["pseudo_counts"]
    log.info("resuming from %s after epoch %d", path, saved["epoch"])


def finish(
    cfg: TrainConfig,
    state: TrainState,
    loss: LossChoice,
    init: ModelInit,
    precision: str,
    train_data: Dataset,
    eval_data: Dataset | None,
) -> TrainResult:
    """The kept epoch's weights loaded into the model, the metrics table and the summary record."""
    model = state.model
    last_state = copy.deepcopy(model.state_dict())
    if not eval_data:
        log.warning(
            "no held-out micrographs: the last epoch is used (set split.test_fraction > 0 to select the best epoch)"
        )
    if state.best["epoch"] == 0 and cfg.keep_epoch == "best":
        log.warning(
            "no epoch beat the starting model (train.init: %s) on the held-out %s: the starting model is kept. "
            "Lower train.learning_rate, or label more particles, for training to help.",
            cfg.init,
            cfg.selection_metric,
        )
    model.load_state_dict(state.best["state"])
    summary = TrainSummary(
        best_epoch=state.best["epoch"],
        init=init,
        selection_metric=cfg.selection_metric if cfg.keep_epoch == "best" else "last epoch",
        pi=loss.pi,
        p_obs=loss.p_obs,
        loss=loss.name,
        loss_fell_back_to_pn=loss.fell_back_to_pn,
        class_weights=loss.class_weights,
        precision=precision,
        minibatch=Minibatch(cfg.batch_size, f"{cfg.patch_size}-px patches" if cfg.segmentation else "crops"),
        receptive_field=model.receptive_field,
        train_micrographs=train_data.names,
        eval_micrographs=eval_data.names if eval_data else [],
        n_train_labels=train_data.n_labels,
        pseudo_labels=state.pseudo_counts,
        config=asdict(cfg),
    )
    return TrainResult(model, pd.DataFrame(state.rows), summary, last_state)
