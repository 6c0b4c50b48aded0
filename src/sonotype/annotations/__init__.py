"""The Events annotation table and its file formats."""

from sonotype.annotations.events import (
    EXTRA_LABEL_PREFIX,
    KINDS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    concat_events,
    empty_events,
    extra_label_columns,
    is_point,
    make_events,
    validate_events,
)
from sonotype.annotations.formats import FORMATS, AnnotationFormat, FormatOptions
from sonotype.annotations.io import (
    infer_format,
    infer_format_from_name,
    iter_annotation_files,
    read_event_parts,
    read_events,
    write_event_parts,
    write_event_stream,
    write_events,
    write_joined_events,
)

__all__ = [
    "EXTRA_LABEL_PREFIX",
    "FORMATS",
    "KINDS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "AnnotationFormat",
    "FormatOptions",
    "concat_events",
    "empty_events",
    "extra_label_columns",
    "infer_format",
    "infer_format_from_name",
    "is_point",
    "iter_annotation_files",
    "make_events",
    "read_event_parts",
    "read_events",
    "validate_events",
    "write_event_parts",
    "write_event_stream",
    "write_events",
    "write_joined_events",
]
