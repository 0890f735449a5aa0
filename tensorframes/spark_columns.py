"""Referring to Spark columns by name: one home for column references and internal names.

Spark parses a column name given as a string (``"a.b"`` is field ``b`` of
``a``), so every reference to a top-level column by its name goes through
:func:`column_ref`. ``mapInArrow`` and ``applyInArrow`` cannot resolve an
input column whose name holds a dot or a backtick, even backquoted (Spark
4.3, measured), so the Arrow paths read the fed columns under internal names
(:func:`fed_columns`, :func:`internal_names`) and declare their output
schema with the user's names (Spark matches the returned batches to it by
position).

>>> internal_names(["x", "a.b", "a b", "a`b"])
{'x': 'x', 'a.b': '_tensorframes_1', 'a b': '_tensorframes_2', 'a`b': '_tensorframes_3'}
"""

from __future__ import annotations

import dataclasses
import re
from typing import Protocol, Sequence, TypeVar

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from tensorframes.program import Feed

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ReadsColumns(Protocol):
    """A program (map, reduce or training) that reads columns through its feeds."""

    feeds: tuple[Feed, ...]


P = TypeVar("P", bound=ReadsColumns)


def column_ref(name: str) -> Column:
    """The top-level column ``name``, even if it holds dots, spaces or backticks."""
    return F.col("`" + name.replace("`", "``") + "`")


def internal_names(names: Sequence[str]) -> dict[str, str]:
    """Each name -> itself if it is a plain identifier, else an internal name none of ``names`` has."""
    taken = set(names)
    mapping = {}
    for i, name in enumerate(names):
        internal = name
        if not _PLAIN.match(name):
            internal = f"_tensorframes_{i}"
            while internal in taken:
                internal += "_"
            taken.add(internal)
        mapping[name] = internal
    return mapping


def select_internal(df: DataFrame, names: Sequence[str]) -> tuple[DataFrame, dict[str, str]]:
    """``df`` narrowed to ``names`` (each once), renamed by :func:`internal_names`, and that renaming."""
    names = list(dict.fromkeys(names))
    mapping = internal_names(names)
    return df.select(*[column_ref(n).alias(mapping[n]) for n in names]), mapping


def fed_columns(df: DataFrame, program: P) -> tuple[DataFrame, P]:
    """Only the columns ``program`` reads, under names the Arrow paths resolve, and the program reading them.

    No other column travels to Python. The returned program's feeds name the
    internal columns; their specs keep the user's column names for errors.
    """
    names = [f.column for f in program.feeds]
    if not names:
        return df, program
    frame, mapping = select_internal(df, names)
    return frame, reading(program, mapping)


def reading(program: P, mapping: dict[str, str]) -> P:
    """``program`` with its feeds reading the columns ``mapping`` renames them to."""
    feeds = tuple(dataclasses.replace(f, column=mapping[f.column]) for f in program.feeds)
    return dataclasses.replace(program, feeds=feeds)
