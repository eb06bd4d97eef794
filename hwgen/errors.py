"""The one error type users see: a message, printed on one line, exit code 2; and one-line warnings."""

import sys


class HwgenError(Exception):
    """A problem with the user's input or environment, reported without a traceback."""


_warned = set()


def warn_once(message: str):
    """`hwgen: warning: message` on stderr, once per process."""
    if message not in _warned:
        _warned.add(message)
        print(f"hwgen: warning: {message}", file=sys.stderr)
