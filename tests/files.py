"""Writing the test inputs: files under a tmp dir, dedented."""

import textwrap


def write(base, name, text):
    path = base / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path
