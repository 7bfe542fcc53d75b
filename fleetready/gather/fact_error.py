"""FactError in a module of its own: the collectors raise it and facts.py, which
lists the collectors, re-exports it, so neither imports the other."""


class FactError(Exception):
    """A fact a check needs could not be gathered: the check ends as `error`, never `pass`."""
