"""User-facing errors: each names the offending file or config key and what to do."""


class InputError(ValueError):
    """Bad input (file, coordinates or config) detected before compute starts."""


class TrainingError(RuntimeError):
    """Training cannot go on (NaN loss, no labels, ...); the message says what to change."""
