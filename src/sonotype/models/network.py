"""The networks: an input front end and a fully convolutional classifier, registered by name.

Every network maps raw audio ``(batch, channels, samples)`` at the model's sample rate
(``channels`` is ``config.input_channels``, 1 unless the network reads several channels
together) to label logits ``(batch, labels, frames)``. Convolutions are *valid* in time, so
a window of exactly ``receptive_field`` samples gives one output frame and a longer input
gives one frame every ``output_step`` samples: frame ``j`` sees samples ``[j * output_step,
j * output_step + receptive_field)``, the same numbers it would give on that window alone. A
whole recording is thus classified in one pass over overlapping blocks instead of one window
at a time.

The front end (spectrogram, mel-cepstrum, or a learned filter bank over the waveform) is part
of the network, so an exported model carries its preprocessing with it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sonotype.errors import ParameterError
from sonotype.models.config import NetworkConfig
from sonotype.registry import Registry

#: Architectures by name: callables ``(config, sr, n_labels) -> nn.Module`` whose modules
#: expose ``receptive_field`` and ``output_step`` (samples) and ``probabilities(audio)``.
ARCHITECTURES: Registry = Registry("architecture", entry_point_group="sonotype.architectures")

_LOG_FLOOR = 1e-10


@dataclass(frozen=True)
class Framing:
    """How the front end cuts audio into frames, in samples at the model's rate."""

    window: int
    hop: int

    @classmethod
    def of(cls, config: NetworkConfig, sr: float) -> Framing:
        window = max(2, round(config.window_ms * sr / 1000))
        return cls(window, max(1, round(config.stride_ms * sr / 1000)))

    def context_frames(self, context_ms: float, sr: float) -> int:
        """Frames whose span best matches ``context_ms``."""
        samples = context_ms * sr / 1000
        return max(1, round((samples - self.window) / self.hop) + 1)


class Frontend(nn.Module):
    """Raw audio ``(batch, channels, samples)`` to standardised features ``(batch, channels,
    bins, frames)``: each channel through the same transform, standardised apart.

    Spectrograms are a convolution with a Hann-windowed Fourier basis (no padding in time);
    the mel-cepstrum multiplies their power by mel filters and a DCT matrix. Each feature bin is
    standardised with the mean and standard deviation of the training windows
    (:meth:`fit_standardization`), which are stored with the weights.
    """

    def __init__(self, config: NetworkConfig, sr: float) -> None:
        super().__init__()
        self.representation = config.representation
        self.channels = config.input_channels
        framing = Framing.of(config, sr)
        self.window, self.hop = framing.window, framing.hop
        high_hz = sr / 2 if config.high_hz is None else min(config.high_hz, sr / 2)
        if config.representation == "waveform":
            self.filters = nn.Conv1d(1, config.n_filters, self.window, stride=self.hop)
            bins = config.n_filters
        else:
            freqs = np.arange(self.window // 2 + 1) * sr / self.window
            keep = np.flatnonzero((freqs >= config.low_hz) & (freqs <= high_hz))
            if config.representation == "spectrogram" and keep.size == 0:
                raise ParameterError(
                    f"no spectrogram bin lies within low_hz={config.low_hz:g} - "
                    f"high_hz={high_hz:g} at window_ms={config.window_ms:g} (bins are "
                    f"{sr / self.window:g} Hz apart); widen the range or lengthen the window"
                )
            if config.representation == "mel-cepstrum":
                keep = np.arange(self.window // 2 + 1)
            self.register_buffer("basis", _fourier_basis(self.window, keep))
            bins = keep.size
            if config.representation == "mel-cepstrum":
                if config.n_dct > config.n_mels:
                    raise ParameterError(
                        f"n_dct={config.n_dct} must not exceed n_mels={config.n_mels}"
                    )
                from scipy.fft import dct

                from sonotype.spectral import mel_filterbank

                mel = mel_filterbank(
                    sr=sr,
                    n_fft=self.window,
                    n_mels=config.n_mels,
                    fmin_hz=config.low_hz,
                    fmax_hz=high_hz,
                )
                dct_matrix = dct(np.eye(config.n_mels), type=2, norm="ortho", axis=0)
                self.register_buffer("mel", torch.from_numpy(np.asarray(mel, np.float32)))
                self.register_buffer(
                    "dct", torch.from_numpy(dct_matrix[: config.n_dct].astype(np.float32))
                )
                bins = config.n_dct
        self.bins = bins
        # One mean and deviation per channel and bin, flat (a mono model's are per bin).
        self.register_buffer("mean", torch.zeros(self.channels * bins))
        self.register_buffer("std", torch.ones(self.channels * bins))

    def channel_features(self, audio: torch.Tensor) -> torch.Tensor:
        """Unstandardised features ``(batch, channels, bins, frames)`` of each channel."""
        if self.channels == 1:  # the common case, without reshaping
            return self.raw(audio).unsqueeze(1)
        b, c, n = audio.shape
        features = self.raw(audio.reshape(b * c, 1, n))
        return features.reshape(b, c, *features.shape[1:])

    def raw(self, audio: torch.Tensor) -> torch.Tensor:
        """Unstandardised features ``(batch, bins, frames)`` of one channel ``(batch, 1,
        samples)``."""
        if self.representation == "waveform":
            return self.filters(audio)
        spectrum = nn.functional.conv1d(audio, self.basis, stride=self.hop)
        half = spectrum.shape[1] // 2
        power = spectrum[:, :half] ** 2 + spectrum[:, half:] ** 2
        if self.representation == "spectrogram":
            return torch.log(power + _LOG_FLOOR)
        mel = torch.log(torch.matmul(self.mel, power) + _LOG_FLOOR)
        return torch.matmul(self.dct, mel)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        shape = (self.channels, self.bins, 1)
        return (self.channel_features(audio) - self.mean.view(shape)) / self.std.view(shape)

    @torch.no_grad()
    def fit_standardization(self, windows: torch.Tensor) -> None:
        """Set the per-channel, per-bin mean and standard deviation from training windows
        ``(n, channels, samples)``."""
        features = self.channel_features(windows).permute(1, 2, 0, 3)
        features = features.reshape(self.channels * self.bins, -1)
        self.mean.copy_(features.mean(dim=1))
        self.std.copy_(features.std(dim=1).clamp_min(1e-6))


def _fourier_basis(window: int, bins: np.ndarray) -> torch.Tensor:
    """Hann-windowed cosine and sine kernels ``(2 * bins, 1, window)``."""
    n = np.arange(window)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / window)  # periodic, as in scipy/librosa
    phase = 2 * np.pi * np.outer(bins, n) / window
    kernels = np.concatenate([np.cos(phase) * hann, -np.sin(phase) * hann])
    return torch.from_numpy(kernels[:, None, :].astype(np.float32))


class FrameGroupNorm(nn.Module):
    """Group normalisation over channels and frequency, separately at each time frame.

    torch's GroupNorm pools statistics over time too, which would make a frame's output
    depend on how long the input is; normalising each frame on its own keeps the network
    fully convolutional (a whole recording gives the same numbers as one window at a time).
    """

    def __init__(self, groups: int, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.groups, self.eps = groups, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, f, t = x.shape
        grouped = x.reshape(b, self.groups, c // self.groups, f, t)
        mean = grouped.mean(dim=(2, 3), keepdim=True)
        var = ((grouped - mean) ** 2).mean(dim=(2, 3), keepdim=True)
        normed = ((grouped - mean) / torch.sqrt(var + self.eps)).reshape(b, c, f, t)
        return normed * self.weight[:, None, None] + self.bias[:, None, None]


class FrequencyMaxPool(nn.MaxPool2d):
    """Max-pooling by ``factor`` along frequency (dimension 2), as ``MaxPool2d((factor, 1))``.

    At inference it takes the elementwise maximum of ``factor`` strided slices instead:
    the same numbers (a maximum is exact) in a seventh of the time on channels-last tensors
    (measured, torch 2.13 CPU), since torch's pooling kernel also computes the indices of the
    maxima. Training keeps torch's kernel and its gradient.
    """

    def __init__(self, factor: int) -> None:
        super().__init__((factor, 1))
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            return super().forward(x)
        p = self.factor
        end = x.shape[2] // p * p  # floor mode, as MaxPool2d
        pooled = x[:, :, 0:end:p]
        for i in range(1, p):
            pooled = torch.maximum(pooled, x[:, :, i:end:p])
        return pooled


class ConvBlock(nn.Module):
    """Convolution (same in frequency, valid in time), normalisation, ReLU, dropout, pooling."""

    def __init__(self, c_in, c_out, *, kf, kt, stride, dilation, norm, dropout, pool, residual):
        super().__init__()
        self.conv = nn.Conv2d(
            c_in, c_out, (kf, kt), stride=(1, stride), dilation=(1, dilation), padding=(kf // 2, 0)
        )
        if norm == "batch":
            self.norm = nn.BatchNorm2d(c_out)
        elif norm == "group":
            self.norm = FrameGroupNorm(math.gcd(8, c_out), c_out)
        else:
            self.norm = nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.pool = FrequencyMaxPool(pool) if pool > 1 else nn.Identity()
        self.residual = residual and c_in == c_out and stride == 1 and kf % 2 == 1
        self.trim = dilation * (kt - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.residual:
            y = torch.relu(self.normalized(x))
            left = self.trim // 2
            y = y + x[..., left : x.shape[-1] - (self.trim - left)]
            return self.pool(self.dropout(y))
        # Max-pooling commutes with ReLU, so pool first: ReLU and dropout then touch a
        # fraction of the values (the first layer's output is the largest tensor by far).
        return self.dropout(torch.relu(self.pool(self.normalized(x))))

    def normalized(self, x: torch.Tensor) -> torch.Tensor:
        """Convolution then normalisation; at inference, batch normalisation is folded into
        the convolution's weights so that the largest tensors are traversed once."""
        if self.training or not isinstance(self.norm, nn.BatchNorm2d):
            return self.norm(self.conv(x))
        norm, conv = self.norm, self.conv
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        bias = (conv.bias - norm.running_mean) * scale + norm.bias
        return nn.functional.conv2d(
            x,
            conv.weight * scale[:, None, None, None],
            bias,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
        )


@ARCHITECTURES.register("convnet")
class ConvNet(nn.Module):
    """Front end, ``conv_layers`` convolution blocks, then a head that spans what is left of
    the context window (the dense layer of a per-window classifier, written as a convolution)
    and optional dense layers as 1 x 1 convolutions.
    """

    def __init__(self, config: NetworkConfig, sr: float, n_labels: int) -> None:
        super().__init__()
        if n_labels < 1:
            raise ParameterError("a network needs at least one label")
        self.loss = config.loss
        self.input_channels = config.input_channels
        self.frontend = Frontend(config, sr)
        framing = Framing(self.frontend.window, self.frontend.hop)
        frames = framing.context_frames(config.context_ms, sr)
        bins, channels = self.frontend.bins, config.input_channels
        blocks, step = [], framing.hop
        layers = zip(
            *(
                config.per_layer(name)
                for name in (
                    "feature_maps",
                    "time_kernel",
                    "freq_kernel",
                    "time_stride",
                    "time_dilation",
                    "freq_pool",
                )
            ),
            strict=True,
        )
        for i, (maps, kt, kf, stride, dilation, pool) in enumerate(layers):
            frames = (frames - dilation * (kt - 1) - 1) // stride + 1
            if frames < 1:
                raise ParameterError(
                    f"context_ms={config.context_ms:g} is too short for convolution layer "
                    f"{i + 1} (time kernel {kt}, dilation {dilation}, stride {stride}); "
                    "lengthen context_ms, or use fewer or smaller layers"
                )
            bins = bins + 2 * (kf // 2) - kf + 1
            pool = pool if bins >= pool else 1
            bins //= pool
            blocks.append(
                ConvBlock(
                    channels,
                    maps,
                    kf=kf,
                    kt=kt,
                    stride=stride,
                    dilation=dilation,
                    norm=config.normalization,
                    dropout=config.dropout,
                    pool=pool,
                    residual=config.residual,
                )
            )
            channels, step = maps, step * stride
        self.blocks = nn.Sequential(*blocks)
        widths = [*config.dense_layers, n_labels]
        head: list[nn.Module] = [nn.Conv2d(channels, widths[0], (bins, frames))]
        for c_in, c_out in itertools.pairwise(widths):
            head += [nn.ReLU(), nn.Dropout(config.dropout), nn.Conv2d(c_in, c_out, 1)]
        self.head = nn.Sequential(*head)
        self.output_step = step
        # Samples seen by one output frame: the front end's frames of the context, plus what
        # the strides skip between them.
        self.receptive_field = self._receptive_field(config, framing)

    def _receptive_field(self, config: NetworkConfig, framing: Framing) -> int:
        strides = config.per_layer("time_stride")
        kernels = config.per_layer("time_kernel")
        dilations = config.per_layer("time_dilation")
        # Walk back from one output frame through the head and each layer.
        reach = self.head[0].kernel_size[1]
        for kt, stride, dilation in reversed(list(zip(kernels, strides, dilations, strict=True))):
            reach = (reach - 1) * stride + dilation * (kt - 1) + 1
        return framing.window + (reach - 1) * framing.hop

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, labels, frames)`` of audio ``(batch, input_channels, samples)``."""
        return self.head(self.blocks(self.frontend(audio))).squeeze(2)

    def probabilities(self, audio: torch.Tensor) -> torch.Tensor:
        """Softmax (exclusive labels) or sigmoid (overlapped labels) of the logits."""
        logits = self.forward(audio)
        return torch.softmax(logits, dim=1) if self.loss == "exclusive" else torch.sigmoid(logits)


def build_network(config: NetworkConfig, *, sr: float, n_labels: int) -> nn.Module:
    """The registered architecture of ``config``, built for audio at ``sr`` Hz."""
    return ARCHITECTURES.get(config.architecture)(config, sr, n_labels)


class Probabilities(nn.Module):
    """A network whose forward pass returns probabilities, as exported models do."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.network.probabilities(audio)
