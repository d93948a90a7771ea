"""Model architecture settings, the families, the combinations that are not allowed and each
architecture's receptive field (no torch needed, so config checks stay cheap)."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import allowed

MODELS = allowed("train.model")  # the schema owns the names; the families below sort them
RESNETS = ("resnet8", "resnet16")
CONVNETS = ("conv31", "conv63", "conv127")
SEGMENTATION = ("unet",)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture settings (names follow Topaz's CLI; defaults are the schema's train.* defaults)."""

    name: str = "resnet8"
    units: int = 32
    unit_scaling: int = 2
    dropout: float = 0.0
    batchnorm: bool = True
    pooling: str = "none"  # none | max | avg
    autoencoder: float = 0.0
    depth: int = 3  # unet: number of 2x downsamplings (units = width of the first level)


def config_errors(cfg: ModelConfig) -> list[str]:
    """The combinations Topaz's wrappers forbid, as messages naming the config keys."""
    errors = []
    if cfg.name not in MODELS:
        errors.append(f"train.model: unknown model '{cfg.name}'; choose one of {', '.join(MODELS)}")
    if cfg.name in RESNETS and cfg.pooling == "avg":
        errors.append("train.pooling: average pooling is not available for ResNet models; use 'none' or 'max'")
    if cfg.name in RESNETS and cfg.autoencoder > 0:
        errors.append(
            "train.autoencoder: the autoencoder term needs a conv model (conv31/conv63/conv127), not a ResNet"
        )
    if cfg.name in CONVNETS and cfg.pooling == "max":
        errors.append("train.pooling: max pooling is not available for conv models; use 'none' or 'avg'")
    if cfg.name in CONVNETS and cfg.dropout > 0:
        errors.append("train.dropout: dropout is not available for conv models; set it to 0 or use a ResNet")
    if cfg.name in SEGMENTATION and cfg.pooling != "none":
        errors.append("train.pooling: the unet downsamples by its own max pooling; set train.pooling to 'none'")
    if cfg.name in SEGMENTATION and cfg.autoencoder > 0:
        errors.append("train.autoencoder: the autoencoder term needs a conv model (conv31/conv63/conv127), not a unet")
    return errors


def require_valid(cfg: ModelConfig) -> None:
    """Raise a ValueError listing ``config_errors`` (a network is never built from a forbidden combination)."""
    errors = config_errors(cfg)
    if errors:
        raise ValueError("; ".join(errors))


# Receptive field (pixels) by (model, pooling): what pickflow.models.topaz builds, kept here so that config
# checks need no torch (tests/unit/test_models.py checks the table against the built networks).
RECEPTIVE_FIELDS = {
    ("resnet8", "none"): 71,
    ("resnet8", "max"): 77,
    ("resnet16", "none"): 91,
    ("resnet16", "max"): 97,
    ("conv31", "none"): 31,
    ("conv31", "avg"): 37,
    ("conv63", "none"): 63,
    ("conv63", "avg"): 77,
    ("conv127", "none"): 127,
    ("conv127", "avg"): 157,
}


def unet_receptive_field(depth: int) -> int:
    """Receptive field of the unet: two 3x3 convolutions per level on both paths, 2x2 pooling
    between levels, two 3x3 convolutions at the bottom (pixels of the input)."""
    per_level = sum(4 * 2**level + 2**level + 4 * 2**level for level in range(depth))
    return 1 + per_level + 4 * 2**depth


def architecture_receptive_field(cfg: ModelConfig) -> int:
    """Receptive field of an allowed architecture, in preprocessed pixels, looked up without building the
    network (:func:`pickflow.models.topaz.layers_receptive_field` measures built layers)."""
    if cfg.name in SEGMENTATION:
        return unet_receptive_field(cfg.depth)
    return RECEPTIVE_FIELDS[(cfg.name, cfg.pooling)]
