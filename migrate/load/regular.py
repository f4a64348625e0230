"""Reading a file only when it is a regular file of bounded size: a FIFO would block, a device
such as /dev/zero never ends, and the kernel's file systems (/proc, /sys, /dev) describe the
machine, not a repository."""

from __future__ import annotations

import os
import stat
from pathlib import Path

KERNEL_FILE_SYSTEMS = ("/proc", "/sys", "/dev")


class NotRegular(OSError):
    """The path names something other than a regular file (a FIFO, a device, a socket)."""

    def __init__(self) -> None:
        super().__init__("not a regular file")
        self.strerror = "not a regular file"


class TooLarge(OSError):
    """The file holds more bytes than the limit allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit:,} bytes")
        self.limit = limit


def kernel_file_system(path: Path | str) -> str | None:
    """The kernel file system (`/proc`, `/sys` or `/dev`) `path` lies in once links are
    resolved, None for any other path."""
    real = os.path.realpath(path)
    for top in KERNEL_FILE_SYSTEMS:
        if real == top or real.startswith(top + "/"):
            return top
    return None


def read_regular(path: Path | str, limit: int) -> bytes:
    """The bytes of the regular file at `path`; raises NotRegular for anything else (opened
    without blocking, so a FIFO does not wait for a writer), TooLarge beyond `limit` bytes,
    OSError when it cannot be read."""
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise NotRegular
        if status.st_size > limit:
            raise TooLarge(limit)
        return read_at_most(handle, limit)
    finally:
        os.close(handle)


def read_at_most(handle: int, limit: int) -> bytes:
    """Everything readable from `handle` (a file that grows while read included); raises
    TooLarge once it passes `limit` bytes."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(handle, min(1 << 20, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise TooLarge(limit)
