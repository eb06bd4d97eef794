"""The one error type users see: a message, printed on one line, exit code 2."""


class HwgenError(Exception):
    """A problem with the user's input or environment, reported without a traceback."""
