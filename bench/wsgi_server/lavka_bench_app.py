"""Lavka's WSGI application, imported one server process at a time.

Workaround, for the benchmark only: `lavka.config.env.data_dir()` probes the data
directory with a fixed file name (`.write-probe`), so worker processes that import the
settings at the same moment can delete each other's probe and fail with
"data directory ... is not writable (No such file or directory)". Granian starts its
workers simultaneously and does not respawn them, which silently left it with fewer
workers in a first run. A file lock serialises the imports for every server alike.
"""

import fcntl
import os
import tempfile

_LOCK = os.path.join(tempfile.gettempdir(), "lavka-bench-import.lock")

with open(_LOCK, "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    from lavka.config.wsgi import application

__all__ = ["application"]
