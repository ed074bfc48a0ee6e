"""Writing a command's output to the file a user named (`-o PATH`) without ever replacing
something that is not a regular file.

- a regular file, or a path that does not exist yet, is written to a temporary file in the
  same folder and renamed into place at the end: an interrupted run never leaves half a
  file under the real name, and the file keeps its mode (and, for root, its owner); a
  file the user may not write is refused, as `>` would refuse it;
- a symlink is followed: its target is written that way, and the link stays a link;
- a FIFO or a character device (`/dev/null`, a terminal) is opened and written through,
  as a shell's `>` would; so is anything named through `/dev/fd`, `/dev/stdout` or `/proc`,
  which names a descriptor already open, not a file to replace;
- a Unix socket is connected to and written through;
- a folder or a block device (a disk) is refused.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import fail

# The temporary file's name is `.NAME.XXXXXXXX.tmp`; NAME is cut so that the whole stays
# within the 255 bytes a file name may have even when the target's name is that long.
_TEMP_NAME_BYTES = 200

Writer = Callable[[BinaryIO], int]


def write_output(target: str, write: Writer) -> int:
    """Run `write(stream)` against the file `target` names (see the module's docstring for
    what each kind of file gets) and return what it returns. Failures are `Error:` lines."""
    path = Path(target)
    shown = for_terminal(target)
    try:
        status = os.stat(path)  # follows symlinks: the kind of what will receive the bytes
    except FileNotFoundError:
        status = None  # a new file, or a symlink whose target does not exist yet
    except OSError as exc:
        fail(f"cannot write {shown}: {exc.strerror or exc}")
    if status is not None and stat.S_ISDIR(status.st_mode):
        fail(f"cannot write {shown}: it is a folder")
    if status is not None and stat.S_ISBLK(status.st_mode):
        fail(f"cannot write {shown}: it is a block device (a disk), not a file")
    if status is not None and stat.S_ISSOCK(status.st_mode):
        return _through_socket(path, shown, write)
    if status is None or stat.S_ISREG(status.st_mode):
        if not _names_open_descriptor(path):
            # A file we may not write stays as it is, though its folder would let us replace it.
            if status is not None and not os.access(path, os.W_OK):
                fail(f"cannot write {shown}: Permission denied")
            return _replace_atomically(Path(os.path.realpath(path)), shown, write, status)
    return _write_through(path, shown, write)


def same_file(target: str, path: str | os.PathLike[str]) -> bool:
    """Whether `target` (after symlinks) is the very file `path` names."""
    try:
        return os.path.samefile(target, path)
    except OSError:
        return False


def _names_open_descriptor(path: Path) -> bool:
    """Whether `path` or a symlink on the way to its file lives under /proc or /dev/fd
    (`/dev/stdout` -> `/proc/self/fd/1`): such a name reaches an open descriptor, whose
    file must be written, not swapped for another."""
    seen = 0
    current = os.path.abspath(path)
    while seen < 40:  # the kernel's own limit on symlinks followed
        if current.startswith(("/proc/", "/dev/fd/")):
            return True
        try:
            link = os.readlink(current)
        except OSError:
            return False  # not a symlink (or gone): the walk ends here
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))
        seen += 1
    return False


def _replace_atomically(real: Path, shown: str, write: Writer, status: os.stat_result | None) -> int:
    """Write through a temporary file beside `real`, renamed over it at the end."""
    directory = real.parent
    name = real.name.encode("utf-8", "surrogateescape")[:_TEMP_NAME_BYTES].decode("utf-8", "ignore")
    try:
        handle = tempfile.NamedTemporaryFile("wb", dir=directory, prefix=f".{name}.", suffix=".tmp", delete=False)
    except OSError as exc:
        fail(f"cannot write {shown}: {exc.strerror or exc}")
    temp = Path(handle.name)
    try:
        with handle:
            count = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if status is not None:
            _keep_owner(temp, status)
        os.chmod(temp, _file_mode(status))
        os.replace(temp, real)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        fail(f"cannot write {shown}: {exc.strerror or exc}")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return count


def _write_through(path: Path, shown: str, write: Writer) -> int:
    """Open what `path` names (a FIFO, a device, a descriptor) and write into it."""
    try:
        with open(path, "wb") as stream:
            count = write(stream)
            stream.flush()
    except OSError as exc:
        fail(f"cannot write {shown}: {exc.strerror or exc}")
    return count


def _through_socket(path: Path, shown: str, write: Writer) -> int:
    """Connect to the Unix socket at `path` and send the output through it."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(os.fspath(path))
            with connection.makefile("wb") as stream:
                count = write(stream)
                stream.flush()
    except OSError as exc:
        fail(f"cannot write {shown}: {exc.strerror or exc}")
    return count


def _file_mode(status: os.stat_result | None) -> int:
    """The replaced file's mode, else what a plain open() would give (0666 less umask);
    temporary files are created 0600."""
    if status is not None:
        return status.st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _keep_owner(temp: Path, status: os.stat_result) -> None:
    """Give the new file the replaced file's owner and group where we may (as root, a
    user's file must not become root's because root exported over it)."""
    if (status.st_uid, status.st_gid) == (os.geteuid(), os.getegid()):
        return
    try:
        os.chown(temp, status.st_uid, status.st_gid)
    except PermissionError:
        pass  # an ordinary user cannot give files away; the file is theirs, as with open()
