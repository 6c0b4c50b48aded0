"""Annotation file formats, each registered by name in :data:`FORMATS`.

Importing this package registers the built-in formats; plugins add theirs through the
``sonotype.formats`` entry-point group.
"""

from sonotype.annotations.formats.base import (
    FORMATS,
    AnnotationFormat,
    FormatOptions,
    register_format,
)

# Imported for their registration side effect, in the order `sonotype formats` lists them.
from sonotype.annotations.formats import (  # noqa: E402, F401, I001
    songexplorer,
    raven,
    audacity,
    notmat,
    textgrid,
    das,
    bacpipe,
    dcase,
    simple_csv,
)

__all__ = ["FORMATS", "AnnotationFormat", "FormatOptions", "register_format"]
