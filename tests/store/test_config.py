"""sonotype.toml: documented defaults, unknown keys refused, old files migrated."""

import pytest

from sonotype.store.config import (
    CONFIG_VERSION,
    ConfigError,
    ProjectConfig,
    load_config,
    render_config,
)


def test_rendered_config_documents_every_key_and_reads_back(tmp_path):
    config = ProjectConfig()
    config.audio.roots = ["audio", "/data/more audio"]
    text = render_config(config)
    path = tmp_path / "sonotype.toml"
    path.write_text(text)
    assert load_config(path) == config
    for section in ("project", "audio", "scan"):
        for key in type(getattr(config, section)).model_fields:
            line = next(i for i, t in enumerate(text.splitlines()) if t.startswith(f"{key} ="))
            assert text.splitlines()[line - 1].startswith("#"), key


def test_unknown_key_is_named_with_the_file(tmp_path):
    path = tmp_path / "sonotype.toml"
    path.write_text('[audio]\nrots = ["audio"]\n')
    with pytest.raises(ConfigError, match=r"sonotype\.toml: unknown key 'audio\.rots'.*roots"):
        load_config(path)
    path.write_text("[audoi]\n")
    with pytest.raises(ConfigError, match=r"unknown key 'audoi'; valid keys here: .*audio"):
        load_config(path)


def test_bad_value_and_bad_toml(tmp_path):
    path = tmp_path / "sonotype.toml"
    path.write_text("[scan]\nhash_bytes = -4\n")
    with pytest.raises(ConfigError, match=r"scan\.hash_bytes: .*greater than 0 \(got -4\)"):
        load_config(path)
    path.write_text("[scan\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")


def test_old_file_missing_optional_keys_is_migrated(tmp_path):
    # A file written before config_version and [scan] existed.
    path = tmp_path / "sonotype.toml"
    path.write_text('[project]\nname = "old"\n\n[audio]\nroots = ["recordings"]\n')
    config = load_config(path)
    assert config.config_version == CONFIG_VERSION
    assert config.project.name == "old"
    assert config.audio.roots == ["recordings"]
    assert config.scan.hash_bytes == 1 << 20
    assert ".wav" in config.audio.extensions


def test_newer_file_is_refused(tmp_path):
    path = tmp_path / "sonotype.toml"
    path.write_text(f"config_version = {CONFIG_VERSION + 1}\n")
    with pytest.raises(ConfigError, match="newer than this sonotype"):
        load_config(path)


def test_extensions_are_normalised(tmp_path):
    path = tmp_path / "sonotype.toml"
    path.write_text('[audio]\nextensions = ["WAV", ".Flac"]\n')
    assert load_config(path).audio.extensions == [".wav", ".flac"]


def test_detector_tables_round_trip_with_only_the_keys_set(tmp_path):
    from sonotype.store.config import save_config

    config = ProjectConfig()
    config.detect.set_params(
        "amplitude",
        {"low_hz": 31200.0, "high_hz": 112000.0, "threshold_mode": "noise", "min_duration_ms": 0.0},
    )
    config.detect.set_params("time-freq", {"time_sigma": "6,4", "freq_range_hz": [1.0, 900.0]})
    path = tmp_path / "sonotype.toml"
    save_config(config, path)
    text = path.read_text()
    assert "[detect.amplitude]" in text and "[detect.time-freq]" in text
    assert "noise_factor" not in text  # keys not set are not written
    loaded = load_config(path)
    assert loaded == config
    assert loaded.detect.params("amplitude") == {
        "low_hz": 31200.0,
        "high_hz": 112000.0,
        "threshold_mode": "noise",
        "min_duration_ms": 0.0,
    }
    assert loaded.detect.params("time-freq")["freq_range_hz"] == [1.0, 900.0]
    assert ProjectConfig().detect.params("amplitude") == {}
    empty = render_config(ProjectConfig()).splitlines()
    assert not [line for line in empty if line.startswith("[detect")]


def test_detector_tables_refuse_unknown_keys_and_bad_values(tmp_path):
    path = tmp_path / "sonotype.toml"
    path.write_text("[detect.amplitude]\nlow_hz = 500.0\nnoise_factr = 3\n")
    with pytest.raises(
        ConfigError, match=r"unknown key 'detect\.amplitude\.noise_factr'.*noise_factor"
    ):
        load_config(path)
    path.write_text("[detect.amplitud]\nlow_hz = 500.0\n")
    with pytest.raises(ConfigError, match=r"unknown key 'detect\.amplitud'.*amplitude, time-freq"):
        load_config(path)
    path.write_text("[detect.amplitude]\nnoise_quantile = 2.0\n")
    with pytest.raises(
        ConfigError, match=r"detect\.amplitude\.noise_quantile: .*less than or equal to 1"
    ):
        load_config(path)
    config = ProjectConfig()
    with pytest.raises(ConfigError, match=r"\[detect\.amplitude\]: unknown key 'sigma'"):
        config.detect.set_params("amplitude", {"sigma": 3})
    with pytest.raises(ConfigError, match=r"no \[detect\.bat\] table"):
        config.detect.set_params("bat", {})


def test_detector_tables_hold_only_the_detectors_parameters():
    from dataclasses import fields

    from sonotype.detect import DETECTORS
    from sonotype.store.config import DetectSection

    for name, info in DetectSection.model_fields.items():
        detector = DETECTORS.get(info.alias or name)
        model = info.annotation.__args__[0]
        assert set(model.model_fields) <= {f.name for f in fields(detector)}, name
