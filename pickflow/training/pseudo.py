"""Self-training: pseudo-labels from a model's confident picks on the training micrographs.

Partial labels leave most particles of a labeled micrograph unlabeled. A round of self-training adds the
model's best-scoring candidates away from the labels as positives, as many per micrograph as a fraction of the
particles it lacks (``expected_particles`` minus its labels), and trains on; the held-out labels, which never get
pseudo-labels, keep the epoch that scores best over every round."""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import cKDTree  # pyright: ignore[reportAttributeAccessIssue]  (exported; scipy's stubs miss it)

from ..models.modelfile import Network
from ..picking.extract import nms_picks
from ..picking.scoring import score_image


def pseudo_label_count(expected_particles: float, n_labels: int, fraction: float) -> int:
    """How many pseudo-labels a micrograph with ``n_labels`` labels gets: ``fraction`` of those it lacks."""
    return int(fraction * max(0.0, expected_particles - n_labels))


def far_from(yx: np.ndarray, labels: np.ndarray, radius: float) -> np.ndarray:
    """Mask of the points of ``yx`` farther than ``radius`` from every point of ``labels``."""
    if len(labels) == 0 or len(yx) == 0:
        return np.ones(len(yx), dtype=bool)
    distance, _ = cKDTree(labels).query(yx, k=1)
    return distance > radius


@torch.no_grad()
def pseudo_labels(
    model: Network,
    images: list[np.ndarray],
    centres: list[np.ndarray],
    counts: list[int],
    radius: float,
    stride: int,
    threshold: float,
    device: torch.device,
) -> list[np.ndarray]:
    """Per micrograph, its ``counts[i]`` best-scoring NMS candidates (radius ``radius``, logit above
    ``threshold``) that lie farther than ``radius`` from its labels ``centres[i]``; (y, x) in preprocessed
    pixels, best first."""
    was_training = model.training
    model.eval()
    added = []
    for image, labels, count in zip(images, centres, counts, strict=True):
        if count == 0:
            added.append(np.empty((0, 2)))
            continue
        logits = score_image(model, image, device, stride=stride)
        yx, scores = nms_picks(logits, radius, stride, threshold)
        keep = far_from(yx, labels, radius)
        order = np.argsort(-scores[keep], kind="stable")[:count]
        added.append(yx[keep][order])
    model.train(was_training)
    return added
