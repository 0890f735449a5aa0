"""Writing files and directories so that a failure never costs the old copy.

Every save in this project (saved models, ``tensorframes.ml`` stages,
training checkpoints) goes through here: the new copy is written in full to
a temporary sibling (same parent, so the rename stays on one filesystem),
and only then takes the old one's place. A failure while writing (disk
full, an invalid value found late, Ctrl-C) removes the temporary and leaves
the old copy as it was.

>>> import tempfile
>>> target = os.path.join(tempfile.mkdtemp(), "model")
>>> with replacing_directory(target) as tmp:
...     write_file(os.path.join(tmp, "a.txt"), b"one")
>>> sorted(os.listdir(target))
['a.txt']
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def replacing_directory(path: str | os.PathLike) -> Iterator[str]:
    """Yield an empty temporary sibling of directory ``path`` to fill; on success it becomes ``path``.

    An existing ``path`` is moved aside only once the new copy is complete, and
    moved back if the swap fails; on any exception inside the block the
    temporary is removed and ``path`` is untouched.
    """
    target = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(target)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{name}.tmp-")
    try:
        yield tmp
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(new: str, target: str) -> None:
    """Put directory ``new`` at ``target``, removing what was there only after the rename."""
    if not os.path.lexists(target):
        os.rename(new, target)
        return
    old = tempfile.mkdtemp(dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.old-")
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_file(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to file ``path`` through a temporary sibling and an atomic rename."""
    target = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(target)
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{name}.tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
