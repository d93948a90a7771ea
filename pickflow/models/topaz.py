"""The resnet/conv family: fully convolutional pickers with Topaz's architectures (resnet8/resnet16/
conv31/conv63/conv127), implemented here in PyTorch (no Topaz code).

Each network is trained on crops the size of its receptive field (one logit per crop, with
strided layers) and scores whole micrographs densely: strides beyond the requested output
stride become dilations of the layers after them (the "a trous" trick), so the score at each
output pixel equals the crop-mode logit of the crop centred there. Output stride 1 gives one
logit per pixel; stride 2 or 4 gives the same values on every 2nd/4th pixel for far less work.

Layers thread a ``(step, keep)`` state: ``step`` multiplies dilations (the product of strides
turned into dilations so far) and ``keep`` is the product of strides still allowed to run as
real strides (crop mode: unlimited).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .architecture import RESNETS, ModelConfig, require_valid
from .base import DenseScorer

_CONV_KERNELS = {"conv31": [7, 5, 5], "conv63": [7, 5, 5, 5], "conv127": [7, 5, 5, 5, 5]}


_CROP_MODE = 1 << 30  # "keep every stride"


def _split_stride(stride: int, step: int, keep: int) -> tuple[int, int, int]:
    """Decide whether a layer's stride runs as a real stride or becomes a dilation."""
    if stride > 1 and keep >= stride:
        return stride, step, keep // stride
    return 1, step * stride, keep


def _crop(x: Tensor, start: int, step: int, shape: torch.Size) -> Tensor:
    """``x[:, :, start::step, start::step]`` cut to ``shape`` (H, W), as negative padding and a 1x1
    pooling: their gradients keep a channels-last tensor channels-last (slicing's gradient is a fresh
    standard-layout tensor, which slows every later op of the backward pass)."""
    h, w = ((n - 1) * step + 1 for n in shape)
    x = F.pad(x, (-start, start + w - x.shape[3], -start, start + h - x.shape[2]))
    return F.avg_pool2d(x, 1, step) if step > 1 else x


class _Layer(nn.Module):
    """A feature layer: runs on a ``(step, keep)`` state and knows its (kernel, dilation, stride) geometry."""

    def forward(self, x: Tensor, step: int, keep: int) -> tuple[Tensor, int, int]:
        raise NotImplementedError

    def geometry(self) -> list[tuple[int, int, int]]:
        raise NotImplementedError


class _Conv(_Layer):
    """Convolution (+ batch norm) (+ activation) that runs strided on crops or dilated when dense."""

    def __init__(
        self, cin: int, cout: int, k: int, stride: int = 1, dilation: int = 1, bn: bool = True, act: str | None = "relu"
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, bias=not bn)
        self.bn = nn.BatchNorm2d(cout) if bn else None
        self.act = {"relu": nn.ReLU(), "prelu": nn.PReLU(cout), None: None}[act]
        self.stride, self.dilation, self.k = stride, dilation, k

    def forward(self, x: Tensor, step: int, keep: int) -> tuple[Tensor, int, int]:
        stride, new_step, keep = _split_stride(self.stride, step, keep)
        return self.apply_conv(x, stride, self.dilation * step), new_step, keep

    def apply_conv(self, x: Tensor, stride: int, dilation: int) -> Tensor:
        """The layer with an explicit stride and dilation."""
        x = F.conv2d(x, self.conv.weight, self.conv.bias, stride=stride, dilation=dilation)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x

    def geometry(self) -> list[tuple[int, int, int]]:
        return [(self.k, self.dilation, self.stride)]


class _Residual(_Layer):
    """Two 3x3 convolutions (the second dilated and maybe strided) plus a cropped identity."""

    def __init__(self, cin: int, cout: int, dilation: int, stride: int, bn: bool, dropout: float) -> None:
        super().__init__()
        self.a = _Conv(cin, cout, 3, bn=bn)
        self.b = _Conv(cout, cout, 3, stride=stride, dilation=dilation, bn=bn, act=None)
        self.proj = nn.Conv2d(cin, cout, 1, bias=False) if cin != cout else None
        self.drop = nn.Dropout(dropout) if dropout > 0 else None
        self.crop = 1 + dilation  # context the two convolutions consume on each side (in steps)

    def forward(self, x: Tensor, step: int, keep: int) -> tuple[Tensor, int, int]:
        s, new_step, new_keep = _split_stride(self.b.stride, step, keep)  # s: the stride really applied
        dilation = self.b.dilation * step
        # A strided second convolution whose dilation is a multiple of its stride reads only every
        # s-th output of the first: compute just those (the first runs strided, the second
        # unstrided). The same logits, and 4x less work for that layer; in training its batch-norm
        # statistics then come from the positions the logits use.
        early = s if dilation % s == 0 else 1
        y = self.a.apply_conv(x, early, step)
        if self.drop is not None:
            y = self.drop(y)
        y = self.b.apply_conv(y, s // early, dilation // early)
        identity = _crop(x, self.crop * step, s, y.shape[2:])
        if self.proj is not None:
            identity = self.proj(identity)
        return F.relu(y + identity), new_step, new_keep

    def geometry(self) -> list[tuple[int, int, int]]:
        return self.a.geometry() + self.b.geometry()


class _Pool(_Layer):
    """3x3 pooling with stride 2 (dilated in dense mode)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def forward(self, x: Tensor, step: int, keep: int) -> tuple[Tensor, int, int]:
        stride, new_step, keep = _split_stride(2, step, keep)
        if self.kind == "max":
            return F.max_pool2d(x, 3, stride=stride, dilation=step), new_step, keep
        kernel = torch.full((x.shape[1], 1, 3, 3), 1 / 9, dtype=x.dtype, device=x.device)
        return F.conv2d(x, kernel, stride=stride, dilation=step, groups=x.shape[1]), new_step, keep

    def geometry(self) -> list[tuple[int, int, int]]:
        return [(3, 1, 2)]


def _resnet_layers(cfg: ModelConfig) -> tuple[list[_Layer], int]:
    u, bn, p = cfg.units, cfg.batchnorm, cfg.dropout
    pool = cfg.pooling == "max"

    def down(cin: int, cout: int, dilation: int) -> list[_Layer]:
        # A strided residual block, or (with max pooling) an unstrided one followed by a pool.
        if pool:
            return [_Residual(cin, cout, dilation, 1, bn, p), _Pool("max")]
        return [_Residual(cin, cout, dilation, 2, bn, p)]

    if cfg.name == "resnet8":
        layers: list[_Layer] = [_Conv(1, u, 7, stride=1 if pool else 2, bn=bn)]
        layers += [_Pool("max")] if pool else []
        layers += [_Residual(u, u, 2, 1, bn, p), *down(u, 2 * u, 2), _Residual(2 * u, 2 * u, 2, 1, bn, p)]
        layers += [_Conv(2 * u, 4 * u, 5, bn=bn)]
    else:  # resnet16
        layers = [_Conv(1, u, 7, bn=bn), *down(u, u, 1)]
        layers += [_Residual(u, u, 1, 1, bn, p) for _ in range(3)]
        layers += [*down(u, 2 * u, 1), *[_Residual(2 * u, 2 * u, 1, 1, bn, p) for _ in range(2)]]
        layers += [_Conv(2 * u, 4 * u, 5, bn=bn)]
    return layers, 4 * u


def _conv_layers(cfg: ModelConfig) -> tuple[list[_Layer], int]:
    kernels = _CONV_KERNELS[cfg.name]
    layers: list[_Layer] = []
    cin, units = 1, cfg.units
    for i, k in enumerate(kernels):
        last = i == len(kernels) - 1
        strided = not last and cfg.pooling == "none"
        layers.append(_Conv(cin, units, k, stride=2 if strided else 1, bn=cfg.batchnorm, act="prelu"))
        if not last and cfg.pooling != "none":
            layers.append(_Pool(cfg.pooling))
        cin = units
        if not last:
            units *= cfg.unit_scaling
    return layers, cin


class Picker(DenseScorer, nn.Module):
    """Feature layers + a 1x1 linear classifier; optional decoder for the autoencoder term."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        require_valid(cfg)
        layers, latent = _resnet_layers(cfg) if cfg.name in RESNETS else _conv_layers(cfg)
        self.config = cfg
        self.features = nn.ModuleList(layers)
        self.classifier = nn.Conv2d(latent, 1, 1)
        self.receptive_field = layers_receptive_field(layers)
        self.margin = self.receptive_field // 2
        self.alignment = 1
        self.decoder = _Decoder(latent, self.receptive_field) if cfg.autoencoder > 0 else None

    def embed(self, x: Tensor, keep: int = _CROP_MODE) -> Tensor:
        step = 1
        for layer in self.features:
            x, step, keep = layer(x, step, keep)
        return x

    def forward(self, crops: Tensor) -> Tensor:
        """Logits for a batch of receptive-field crops, shape (B,)."""
        return self.classifier(self.embed(crops)).flatten()

    def dense(self, window: Tensor, stride: int = 1) -> Tensor:
        """Logits on every ``stride``-th pixel of the window less half a receptive field on each side."""
        return self.classifier(self.embed(window, keep=stride))[:, 0]

    def reconstruction_error(self, crops: Tensor) -> Tensor:
        """The autoencoder term: mean over crops of the summed squared reconstruction error."""
        if self.decoder is None:
            raise ValueError(f"{self.config.name} was built without the autoencoder term (train.autoencoder is 0)")
        return ((self.decoder(self.embed(crops)) - crops) ** 2).sum(dim=(1, 2, 3)).mean()


class _Decoder(nn.Module):
    """Reconstructs the input crop from the latent vector (the autoencoder regularizer)."""

    def __init__(self, latent: int, size: int, width: int = 32) -> None:
        super().__init__()
        self.base = (size + 3) // 4
        self.size, self.width = size, width
        self.fc = nn.Linear(latent, width * self.base * self.base)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(width, width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),
        )

    def forward(self, z: Tensor) -> Tensor:
        x = self.fc(z.flatten(1)).view(-1, self.width, self.base, self.base)
        return self.up(x)[:, :, : self.size, : self.size]


def layers_receptive_field(layers: Iterable[_Layer]) -> int:
    """Receptive field in pixels of built layers, from their (kernel, dilation, stride) geometry (what
    :func:`pickflow.models.architecture.architecture_receptive_field` looks up without building them)."""
    size, jump = 1, 1
    for layer in layers:
        for k, d, s in layer.geometry():
            size += (k - 1) * d * jump
            jump *= s
    return size
