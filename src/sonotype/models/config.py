"""What a network is: its input representation, layers, loss and augmentation, validated.

Torch-free, so that the command line can check a configuration (and print its help) without
loading torch. Every field is saved in the model directory's ``model.json``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sonotype.errors import ParameterError

REPRESENTATIONS = ("waveform", "spectrogram", "mel-cepstrum")
LOSSES = ("exclusive", "overlapped")
NORMALIZATIONS = ("batch", "group", "none")

PerLayer = int | list[int]


class NetworkConfig(BaseModel):
    """A convolutional network over a context window around each time point.

    The defaults work on fly song (2.5 kHz) and birdsong (32 kHz) as they are: a 102.4 ms
    context seen through a 6.4 ms spectrogram at a 1.6 ms stride, four dilated convolutions
    of 16, 16, 32 and 32 feature maps (0.44x the cost of 32 in every layer, and as accurate on
    validation: docs/supervised.md, "A cheaper network?").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    architecture: str = Field("convnet", description="Registered architecture name.")
    representation: Literal["waveform", "spectrogram", "mel-cepstrum"] = Field(
        "spectrogram",
        description="Network input: the raw waveform through a learned filter bank, a log "
        "power spectrogram, or mel-frequency cepstral coefficients.",
    )
    input_channels: int = Field(
        1,
        ge=1,
        description="Audio channels the network reads together (e.g. 2 for a microphone "
        "pair, each channel a feature map); 1 classifies each channel on its own.",
    )
    window_ms: float = Field(6.4, gt=0, description="Spectrogram window (ms).")
    stride_ms: float = Field(1.6, gt=0, description="Spectrogram hop (ms).")
    low_hz: float = Field(0.0, ge=0, description="Lowest frequency kept (Hz).")
    high_hz: float | None = Field(None, gt=0, description="Highest frequency kept (Hz).")
    n_mels: int = Field(40, ge=1, description="Mel bands (mel-cepstrum).")
    n_dct: int = Field(20, ge=1, description="Cepstral coefficients kept (mel-cepstrum).")
    n_filters: int = Field(32, ge=1, description="Learned filters (waveform).")
    context_ms: float = Field(102.4, gt=0, description="Audio seen around each time point (ms).")
    shift_ms: float = Field(
        0.0, ge=0, description="Training jitter: each example moves by up to this much (ms)."
    )
    conv_layers: int = Field(4, ge=1, description="Number of convolutional layers.")
    feature_maps: PerLayer | Literal["tapered"] = Field(
        "tapered",
        description="Feature maps per layer; tapered: 16 in the first two layers, 32 after "
        "(the cost of a layer grows with its input's maps and its frequency bins, both "
        "largest early on).",
    )
    time_kernel: PerLayer = Field(5, description="Kernel size in time (frames) per layer.")
    freq_kernel: PerLayer = Field(3, description="Kernel size in frequency (bins) per layer.")
    time_stride: PerLayer = Field(1, description="Stride in time per layer.")
    time_dilation: PerLayer | Literal["exponential"] = Field(
        "exponential", description="Dilation in time per layer; exponential: 1, 2, 4, ..."
    )
    freq_pool: PerLayer = Field(
        2,
        description="Max-pooling factor in frequency after each layer (skipped when the "
        "frequency axis would become shorter than the factor).",
    )
    dense_layers: list[int] = Field(
        default_factory=list, description="Widths of dense layers before the output."
    )
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout probability.")
    normalization: Literal["batch", "group", "none"] = Field("batch", description="Per layer.")
    residual: bool = Field(False, description="Residual connections where shapes allow.")
    loss: Literal["exclusive", "overlapped"] = Field(
        "exclusive",
        description="exclusive: softmax over labels; overlapped: one sigmoid per label, "
        "trained with not_<label> annotations as negatives.",
    )
    # augmentation, applied to training batches only
    volume_db: float = Field(0.0, ge=0, description="Random gain within +-this (dB).")
    noise_snr_db: float | None = Field(
        None, description="Add white noise at a random SNR down to this (dB)."
    )
    dc_offset: float = Field(0.0, ge=0, description="Random DC offset within +-this (x RMS).")
    polarity: bool = Field(False, description="Randomly invert the waveform.")
    time_reversal: bool = Field(False, description="Randomly reverse examples in time.")
    click_negatives: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Probability that a negative training example (not_<label>, or the "
        "background label) gets a synthetic broadband click near its centre, so that "
        "unannotated clicks are not learnt as pulses; 0 turns it off.",
    )

    @model_validator(mode="after")
    def _per_layer_lengths(self) -> NetworkConfig:
        for name in ("feature_maps", "time_kernel", "freq_kernel", "time_stride", "freq_pool"):
            self.per_layer(name)
        if self.time_dilation != "exponential":
            self.per_layer("time_dilation")
        if self.high_hz is not None and self.high_hz <= self.low_hz:
            raise ValueError(f"high_hz={self.high_hz} must be above low_hz={self.low_hz}")
        return self

    def per_layer(self, name: str) -> list[int]:
        """The value of a per-layer field as one positive int per convolutional layer."""
        value = getattr(self, name)
        if name == "time_dilation" and value == "exponential":
            return [2**i for i in range(self.conv_layers)]
        if name == "feature_maps" and value == "tapered":
            return [16 if i < 2 else 32 for i in range(self.conv_layers)]
        values = [value] * self.conv_layers if isinstance(value, int) else list(value)
        if len(values) != self.conv_layers or min(values) < 1:
            raise ValueError(
                f"{name}={value!r} must be a positive int or a list of {self.conv_layers} "
                f"positive ints (one per layer; conv_layers={self.conv_layers})"
            )
        return values


def network_config(**settings: Any) -> NetworkConfig:
    """A validated :class:`NetworkConfig`; problems raise :class:`ParameterError`.

    Examples
    --------
    >>> network_config(context_ms=50).context_ms
    50.0
    """
    try:
        return NetworkConfig(**settings)
    except ValidationError as error:
        problem = error.errors()[0]
        key = ".".join(str(p) for p in problem["loc"]) or "network"
        if problem["type"] == "extra_forbidden":
            valid = ", ".join(NetworkConfig.model_fields)
            raise ParameterError(f"unknown network setting {key!r}; valid: {valid}") from None
        message = problem["msg"].removeprefix("Value error, ")
        got = f" (got {problem['input']!r})" if key != "network" else ""
        raise ParameterError(f"{key}: {message}{got}") from None
