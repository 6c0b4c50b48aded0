"""The project's configuration file, ``sonotype.toml``: typed, validated, documented.

Every key has a default except where noted, so an older file that lacks a key still loads
(the default fills it in); a key sonotype does not know is an error that names the key and the
file, because a misspelt key silently ignored is a setting silently lost.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sonotype.audio.readers import AUDIO_EXTENSIONS
from sonotype.errors import SonotypeError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_NAME = "sonotype.toml"
#: Bumped when a key is renamed or its meaning changes; older files are migrated on load.
CONFIG_VERSION = 1


class ConfigError(SonotypeError):
    """``sonotype.toml`` is missing, unreadable or invalid; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ProjectSection(_Section):
    name: str = Field("", description="Name shown in reports.")


class AudioSection(_Section):
    roots: list[str] = Field(
        default_factory=lambda: ["audio"],
        description="Folders holding the recordings, relative to this file or absolute; "
        "searched recursively. Recordings are named by their path inside their root.",
    )
    extensions: list[str] = Field(
        default_factory=lambda: list(AUDIO_EXTENSIONS),
        description="File extensions indexed by `sonotype scan` (case is ignored).",
    )

    @field_validator("extensions")
    @classmethod
    def _dotted_lower_case(cls, value: list[str]) -> list[str]:
        return [e.lower() if e.startswith(".") else f".{e.lower()}" for e in value]


class ScanSection(_Section):
    hash_bytes: int = Field(
        1 << 20,
        gt=0,
        description="Bytes from the start of each file (header and first block) hashed to "
        "recognise a recording that was changed, moved or copied.",
    )


class ProjectConfig(_Section):
    """The whole of ``sonotype.toml``."""

    config_version: int = Field(CONFIG_VERSION, description="Version of this file's layout.")
    project: ProjectSection = Field(default_factory=ProjectSection)
    audio: AudioSection = Field(default_factory=AudioSection)
    scan: ScanSection = Field(default_factory=ScanSection)


def load_config(path: Path) -> ProjectConfig:
    """Read and validate ``path``; errors name the file and the offending key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; create a project with `sonotype init`") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    data = migrate(data)
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{path}: {_describe(error)}") from None


def migrate(data: dict) -> dict:
    """Bring the keys of an older ``sonotype.toml`` up to :data:`CONFIG_VERSION`.

    Version 0 (files without ``config_version``) had the same keys; missing optional keys
    take their defaults in validation, so nothing needs moving yet. Later renames go here.
    """
    version = data.get("config_version", 0)
    if not isinstance(version, int) or version > CONFIG_VERSION:
        raise ConfigError(
            f"config_version={version!r} is newer than this sonotype understands "
            f"({CONFIG_VERSION}); upgrade sonotype"
        )
    return {**data, "config_version": CONFIG_VERSION}


def render_config(config: ProjectConfig) -> str:
    """``config`` as TOML text with every key preceded by a comment saying what it does."""
    lines = [
        "# sonotype project configuration. Every key is documented; unknown keys are errors.",
        "",
        f"# {ProjectConfig.model_fields['config_version'].description}",
        f"config_version = {config.config_version}",
    ]
    for section_name in ProjectConfig.model_fields:
        section = getattr(config, section_name)
        if not isinstance(section, BaseModel):
            continue
        lines += ["", f"[{section_name}]"]
        for key, info in type(section).model_fields.items():
            lines += [f"# {line}" for line in textwrap.wrap(info.description, 96)]
            lines.append(f"{key} = {_toml_value(getattr(section, key))}")
    return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _describe(error: ValidationError) -> str:
    """The first validation problem, as a sentence that names the key."""
    problem = error.errors()[0]
    key = ".".join(str(part) for part in problem["loc"])
    if problem["type"] == "extra_forbidden":
        section = ProjectConfig
        for part in problem["loc"][:-1]:
            section = section.model_fields[str(part)].annotation
        valid = ", ".join(section.model_fields)
        return f"unknown key {key!r}; valid keys here: {valid}"
    return f"{key}: {problem['msg']} (got {problem.get('input')!r})"
