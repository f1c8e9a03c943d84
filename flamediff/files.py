"""Writing files so that no reader ever sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flamediff.errors import FlamediffError


def write_output(path: Path, content: str | bytes) -> None:
    """Write a report atomically: a reader never sees half a file."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    folder = path.parent if str(path.parent) else Path()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        # mkstemp makes the file private; a report is meant to be read like any other file.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temp).replace(path)
    except OSError as error:
        raise FlamediffError(f"{path}: cannot write: {error.strerror}") from None
