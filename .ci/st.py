"""`st` (schemathesis) with ast.parse serialised between threads.

With `--workers 2` schemathesis draws in two threads, and hypothesis describes filter
lambdas by parsing their source with `ast.parse`. CPython 3.11 before 3.11.9 keeps the AST
validator's recursion counter in interpreter-wide state (gh-106905), so two parses at once
can fail with "SystemError: AST constructor recursion depth mismatch" — a crash of the
fuzzer, not an answer of our API. One lock around ast.parse removes the race."""

import ast
import sys
import threading

_lock = threading.Lock()
_parse = ast.parse


def _serialised_parse(*args, **kwargs):  # type: ignore[no-untyped-def]
    with _lock:
        return _parse(*args, **kwargs)


ast.parse = _serialised_parse

from schemathesis.cli import schemathesis  # noqa: E402  (after the patch, on purpose)

if __name__ == "__main__":
    sys.argv[0] = "st"
    sys.exit(schemathesis())
