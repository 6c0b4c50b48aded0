"""Help that reads cleanly: click-style value names, and paragraphs wrapped to the terminal.

typer (0.2x) shows Python types in help (``<bool>`` beside every flag, ``<list[Path]>``)
and keeps the line breaks of a docstring's later paragraphs, so they come out hard-wrapped
at the source's width. :func:`tidy_help` gives every command of an app its docstring with
the lines of each paragraph joined, and shows values as ``PATH``, ``TEXT``, ``FLOAT``,
``INTEGER`` (nothing for flags).
"""

from __future__ import annotations

import inspect
import re

import typer
import typer.core

#: Value names shown for typer's type labels.
VALUE_NAMES = {
    "str": "TEXT",
    "path": "PATH",
    "file": "FILE",
    "directory": "FOLDER",
    "int": "INTEGER",
    "float": "FLOAT",
    "bool": "BOOLEAN",
}


def value_name(label: str | None) -> str | None:
    """A typer type label as a click-style value name.

    Examples
    --------
    >>> value_name("<list[Path]>"), value_name("<float>"), value_name("<a|b>")
    ('PATH', 'FLOAT', 'a|b')
    """
    if label is None:
        return None
    match = re.fullmatch(r"<(.*)>(\.\.\.)?", label)
    if match is None:
        return label
    inner = match.group(1)
    listed = re.fullmatch(r"list\[(.*)\]", inner)
    if listed:  # the help of repeatable options and the name of arguments say so already
        inner = listed.group(1)
    if "|" in inner:  # choices, shown as they are typed
        return inner
    return VALUE_NAMES.get(inner.lower(), inner.upper())


def reflow(doc: str) -> str:
    """``doc`` with the lines of each paragraph joined (lists and indented lines kept).

    Examples
    --------
    >>> reflow("One\\nline.\\n\\nTwo\\nlines.")
    'One line.\\n\\nTwo lines.'
    """
    paragraphs = []
    for paragraph in inspect.cleandoc(doc).split("\n\n"):
        lines = paragraph.splitlines()
        if any(line.startswith(("-", "*", " ", "\b")) for line in lines):
            paragraphs.append(paragraph)
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def tidy_help(app: typer.Typer) -> None:
    """Reflow the help of every command of ``app`` (and its sub-apps); show value names."""
    for info in app.registered_commands:
        doc = info.help if info.help is not None else inspect.getdoc(info.callback)
        if doc:
            info.help = reflow(doc)
    for group in app.registered_groups:
        tidy_help(group.typer_instance)
    _install_value_names()


def _install_value_names() -> None:
    for cls in (typer.core.TyperOption, typer.core.TyperArgument):
        original = cls.display_type_rich
        if getattr(original, "_sonotype", False):
            continue

        def display_type_rich(self, ctx, _original=original):
            if getattr(self, "is_flag", False):
                return None
            return value_name(_original(self, ctx))

        display_type_rich._sonotype = True
        cls.display_type_rich = display_type_rich
