"""The exceptions `scaling` raises: one base class, and `InputError` (also a `ValueError`)
whenever the input or a setting is at fault. Messages name the file (or "<DataFrame>"), the
1-based row, the column and the value, exactly as the command line prints them."""


class ScalingError(Exception):
    """Base class of every error raised by `scaling`."""


class InputError(ScalingError, ValueError):
    """The data or a setting cannot be used (the command line exits with code 2)."""


class NumericalError(ScalingError, RuntimeError):
    """A numerical failure that is not the input's fault (the command line exits with 1)."""
