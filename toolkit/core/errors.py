"""The one error hierarchy the CLI catches and prints as a single line."""


class ToolkitError(Exception):
    """A user-facing problem: bad input, a missing model, a wrong option.

    ``message`` says what is wrong, ``hint`` says what to do about it.
    """

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(ToolkitError):
    """An input file cannot be used: unreadable, binary, empty, wrong language."""


class FormatError(ToolkitError):
    """A file that should be in one of our formats (.align, JSONL, TMX) is not."""


class ModelError(ToolkitError):
    """A model is unknown, missing, or cannot be loaded here."""
