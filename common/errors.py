"""One exception type for bad user input, printed by ``pipelines/run.py`` as a single line."""


class InputError(ValueError):
    """Bad input from a user: a missing or corrupt file, an unknown name, a wrong shape, NaN values.

    The message is one line and names the file or field, and what was expected.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
