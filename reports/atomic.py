"""Output files are replaced whole: a run killed mid-write never leaves half a report behind."""

import os
import tempfile


def write_atomic(path, text, mode=0o644):
    """Write `text` (str or bytes) to `path` through a temporary file in the same directory."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".fleetready-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
