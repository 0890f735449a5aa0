"""`tf.gfile` (TensorFlow 1.x's `tf.io.gfile`) on the local file system.

TF 1.x programs read frozen graphs and write logs through it
(`tf.gfile.GFile(path, "rb").read()`); local paths are all the engine
serves, so each function is the matching `os`/`shutil` call with
TensorFlow's name and argument order.
"""
from __future__ import annotations

import glob as _glob
import os
import shutil
from typing import IO, Iterator

__all__ = ["GFile", "FastGFile", "Open", "Exists", "IsDirectory", "MakeDirs", "MkDir", "ListDirectory", "Glob",
           "Remove", "Rename", "DeleteRecursively", "Copy", "Walk"]


def GFile(name: str | os.PathLike, mode: str = "r") -> IO:  # noqa: N802  (TensorFlow's names)
    """The file `name` opened in `mode` ("r", "rb", "w", "wb", "a"); text modes are UTF-8."""
    return open(name, mode) if "b" in mode else open(name, mode, encoding="utf-8")


FastGFile = Open = GFile


def Exists(filename: str | os.PathLike) -> bool:  # noqa: N802
    return os.path.exists(filename)


def IsDirectory(dirname: str | os.PathLike) -> bool:  # noqa: N802
    return os.path.isdir(dirname)


def MakeDirs(dirname: str | os.PathLike) -> None:  # noqa: N802
    """Create `dirname` and its parents; an existing directory is fine."""
    os.makedirs(dirname, exist_ok=True)


def MkDir(dirname: str | os.PathLike) -> None:  # noqa: N802
    os.mkdir(dirname)


def ListDirectory(dirname: str | os.PathLike) -> list[str]:  # noqa: N802
    """The entries of `dirname` (names only, sorted)."""
    return sorted(os.listdir(dirname))


def Glob(filename: str) -> list[str]:  # noqa: N802
    return sorted(_glob.glob(filename))


def Remove(filename: str | os.PathLike) -> None:  # noqa: N802
    os.remove(filename)


def Rename(oldname: str | os.PathLike, newname: str | os.PathLike, overwrite: bool = False) -> None:  # noqa: N802
    """Rename; an existing `newname` is an error unless `overwrite` (as in TensorFlow)."""
    _check_target(newname, overwrite)
    os.replace(oldname, newname)


def DeleteRecursively(dirname: str | os.PathLike) -> None:  # noqa: N802
    shutil.rmtree(dirname)


def Copy(oldpath: str | os.PathLike, newpath: str | os.PathLike, overwrite: bool = False) -> None:  # noqa: N802
    _check_target(newpath, overwrite)
    shutil.copyfile(oldpath, newpath)


def _check_target(path: str | os.PathLike, overwrite: bool) -> None:
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")


def Walk(top: str | os.PathLike, in_order: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802
    """(dirname, subdirectories, files) for `top` and below, parents first unless `in_order=False`."""
    return os.walk(top, topdown=in_order)
