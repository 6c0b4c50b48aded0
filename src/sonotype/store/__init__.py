"""The project store: configuration, database, recordings index, events, artifacts, runs."""

from sonotype.store.artifacts import ArtifactCache, artifact_key
from sonotype.store.config import CONFIG_NAME, ConfigError, ProjectConfig, load_config
from sonotype.store.database import DB_NAME, Database, DatabaseError
from sonotype.store.event_store import Edit
from sonotype.store.project import ImportReport, Project, ProjectNotFoundError, find_project
from sonotype.store.scan import ScanReport

__all__ = [
    "CONFIG_NAME",
    "DB_NAME",
    "ArtifactCache",
    "ConfigError",
    "Database",
    "DatabaseError",
    "Edit",
    "ImportReport",
    "Project",
    "ProjectConfig",
    "ProjectNotFoundError",
    "ScanReport",
    "artifact_key",
    "find_project",
    "load_config",
]
