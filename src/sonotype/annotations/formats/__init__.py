"""Annotation file formats, each registered by name in :data:`FORMATS`.

Importing this package registers the built-in formats; plugins add theirs through the
``sonotype.formats`` entry-point group.
"""

# Imported for their registration side effect; `sonotype formats` lists them in this order.
from sonotype.annotations.formats import (  # noqa: F401
    audacity,
    bacpipe,
    das,
    dcase,
    notmat,
    raven,
    simple_csv,
    songexplorer,
    textgrid,
)
from sonotype.annotations.formats.base import (
    FORMATS,
    AnnotationFormat,
    FormatOptions,
    register_format,
)

__all__ = ["FORMATS", "AnnotationFormat", "FormatOptions", "register_format"]
