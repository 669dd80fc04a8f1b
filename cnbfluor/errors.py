"""Errors the user can fix, and how the command line reports them.

Everything a user can correct (a scenario key, a command-line argument, a file
path) raises an `InputError` subclass whose message is one line naming the key,
argument or file and what is allowed; the command line prints it and exits
with status 2 before writing anything. Any other exception is a bug.
"""


class InputError(ValueError):
    """Input the user can fix; the message names the key, argument or file."""


class ScenarioError(InputError):
    """A scenario that cannot be run; the message names the dotted key and the allowed values."""


class ArgumentError(InputError):
    """A command-line argument that cannot be used; the message names the flag."""


class PathError(InputError):
    """A file or folder that cannot be read or written; the message names the argument and the path."""
