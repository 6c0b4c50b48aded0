"""Network configuration: defaults, per-layer settings and every validation error."""

import subprocess
import sys

import pytest

from sonotype.errors import ParameterError
from sonotype.models.config import LOSSES, NORMALIZATIONS, REPRESENTATIONS, network_config

PER_LAYER = ("feature_maps", "time_kernel", "freq_kernel", "time_stride", "freq_pool")


def test_defaults_are_valid():
    config = network_config()
    assert config.architecture == "convnet"
    assert config.representation == "spectrogram"
    assert config.context_ms == pytest.approx(102.4)
    assert config.conv_layers == 4
    for name in PER_LAYER:
        assert len(config.per_layer(name)) == 4
    assert config.per_layer("time_dilation") == [1, 2, 4, 8]
    assert config.per_layer("feature_maps") == [16, 16, 32, 32]
    assert network_config(conv_layers=3).per_layer("feature_maps") == [16, 16, 32]
    assert config.dense_layers == []
    assert config.loss in LOSSES
    assert config.normalization in NORMALIZATIONS
    assert config.representation in REPRESENTATIONS


def test_constants():
    assert REPRESENTATIONS == ("waveform", "spectrogram", "mel-cepstrum")
    assert LOSSES == ("exclusive", "overlapped")
    assert NORMALIZATIONS == ("batch", "group", "none")


@pytest.mark.parametrize("name", [*PER_LAYER, "time_dilation"])
def test_per_layer_lists(name):
    config = network_config(conv_layers=3, **{name: [1, 2, 3]})
    assert config.per_layer(name) == [1, 2, 3]


@pytest.mark.parametrize("name", PER_LAYER)
def test_per_layer_int_repeats(name):
    assert network_config(conv_layers=3, **{name: 2}).per_layer(name) == [2, 2, 2]


@pytest.mark.parametrize("layers", [1, 2, 5])
def test_exponential_dilation(layers):
    config = network_config(conv_layers=layers, time_dilation="exponential")
    assert config.per_layer("time_dilation") == [2**i for i in range(layers)]


def test_round_trip_through_a_dict():
    config = network_config(
        conv_layers=2, feature_maps=[4, 8], dense_layers=[16], loss="overlapped"
    )
    assert network_config(**config.model_dump()) == config


@pytest.mark.parametrize("name", [*PER_LAYER, "time_dilation"])
def test_wrong_list_length_names_the_key(name):
    with pytest.raises(ParameterError, match=name) as info:
        network_config(conv_layers=3, **{name: [1, 2]})
    assert "3" in str(info.value)


@pytest.mark.parametrize("name", [*PER_LAYER, "time_dilation"])
def test_non_positive_per_layer_value_names_the_key(name):
    with pytest.raises(ParameterError, match=name):
        network_config(conv_layers=2, **{name: [1, 0]})


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(ParameterError, match="unknown network setting 'bogus'") as info:
        network_config(bogus=1)
    message = str(info.value)
    for valid in ("context_ms", "feature_maps", "representation", "time_dilation", "loss"):
        assert valid in message


@pytest.mark.parametrize(("low_hz", "high_hz"), [(200, 100), (500, 500)])
def test_high_hz_must_exceed_low_hz(low_hz, high_hz):
    with pytest.raises(ParameterError, match="high_hz") as info:
        network_config(low_hz=low_hz, high_hz=high_hz)
    assert "low_hz" in str(info.value)


def test_high_hz_above_low_hz_is_fine():
    assert network_config(low_hz=100, high_hz=200).high_hz == 200


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("context_ms", -1),
        ("context_ms", 0),
        ("window_ms", 0),
        ("conv_layers", 0),
        ("dropout", 1.0),
        ("representation", "wavelet"),
        ("loss", "hinge"),
        ("normalization", "layer"),
        ("time_dilation", "linear"),
    ],
)
def test_invalid_values_name_the_key(key, value):
    with pytest.raises(ParameterError, match=key) as info:
        network_config(**{key: value})
    assert repr(value) in str(info.value)


def test_parameter_error_is_a_value_error():
    with pytest.raises(ValueError):
        network_config(conv_layers=0)


def test_torch_free_modules_do_not_import_torch():
    code = (
        "import sys\n"
        "import sonotype.models.config, sonotype.models.groundtruth\n"
        "import sonotype.models.windows, sonotype.models.saved\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
