"""Opening a file that newsmark reads (an import, a teammate's export, a scheme, a keymap):
only a regular file is read, whatever the path names.

O_NONBLOCK makes opening a FIFO without a writer return at once instead of hanging, and
the decision is taken by fstat on the opened descriptor, so nothing swapped in after an
earlier check (a FIFO, a device) is read. Each caller words the refusal in its own
messages; the rule lives here once.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotRegularFile(OSError):
    """The path names something other than a regular file; `mode` is its st_mode."""

    def __init__(self, mode: int) -> None:
        super().__init__(errno.EINVAL, "not a regular file")
        self.mode = mode


def open_regular(path: str | Path, *, buffering: int = -1) -> BinaryIO:
    """`path` opened for binary reading when it is a regular file (a symlink to one is
    followed); NotRegularFile otherwise, also for a socket (which cannot be opened at all),
    or the OSError of opening it."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):  # a socket: say what it is
            try:
                raise NotRegularFile(os.stat(path).st_mode) from None
            except OSError:
                pass
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(mode)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise
