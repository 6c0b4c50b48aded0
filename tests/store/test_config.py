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
