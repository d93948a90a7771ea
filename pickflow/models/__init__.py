"""The picking networks in one place.

- ``architecture``: :class:`ModelConfig` (the ``train.*`` architecture settings), the families' model names,
  the combinations that are not allowed and each architecture's receptive field. No torch, so the
  workflow's config checks stay cheap; this package re-exports it.
- ``base``: :class:`~pickflow.models.base.DenseScorer`, what both families share (whole-micrograph logits).
- ``topaz``: the resnet/conv family (Topaz's resnet8, resnet16, conv31, conv63, conv127): ``Picker``.
- ``unet``: the segmentation family (cryoSPARC Deep Picker's kind): ``UNet``.
- ``modelfile``: ``build_model``, ``save_model``, ``load_model``, and the model and checkpoint files, read
  with ``torch.load(weights_only=True)`` so that loading a file never runs code.
- ``general``: the general models shipped in ``pickflow/general/`` (no torch).

Where the networks compute (device, bfloat16, threads) is :mod:`pickflow.models.device`; scoring whole micrographs
in tiles is :mod:`pickflow.picking.scoring`.
"""

from .architecture import (
    CONVNETS,
    MODELS,
    RESNETS,
    SEGMENTATION,
    ModelConfig,
    architecture_receptive_field,
    config_errors,
)

__all__ = [
    "CONVNETS",
    "MODELS",
    "RESNETS",
    "SEGMENTATION",
    "ModelConfig",
    "architecture_receptive_field",
    "config_errors",
]
