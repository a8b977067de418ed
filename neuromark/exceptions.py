"""Domain exceptions raised by neuromark.

Every error neuromark raises on purpose derives from :class:`NeuromarkError`,
so a batch runner can tell "this participant's data is bad" from a bug. Each
also derives from the built-in exception a Python user would expect
(``ValueError``, ``FileNotFoundError``...), so ``except ValueError`` keeps working.
"""

from pathlib import Path


class NeuromarkError(Exception):
    """Base class of all errors neuromark raises deliberately."""


class ConfigError(NeuromarkError, ValueError):
    """A pipeline configuration is invalid (unknown key, wrong type, bad value)."""


class BIDSError(NeuromarkError, ValueError):
    """The study folder does not follow the input contract.

    Examples: no ``participants.tsv``, a required column is missing, pain
    ratings outside the 0-10 scale.
    """


class DataFileError(NeuromarkError, ValueError):
    """One data file cannot be used; the message names the file and the problem.

    Parameters
    ----------
    path : path-like
        The offending file.
    problem : str
        What is wrong with it, in words a researcher can act on.
    """

    def __init__(self, path, problem):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem} (file: {self.path})")

    def __reduce__(self):  # keep picklable across joblib workers
        return (type(self), (self.path, self.problem))


class OutputError(NeuromarkError, OSError):
    """An output location cannot be used (e.g. it is an existing file)."""


class RunTerminated(BaseException):
    """The run received SIGTERM or SIGHUP (a scheduler ending the job).

    A ``BaseException``, like ``KeyboardInterrupt``, so that no step's error
    handling swallows it: it unwinds the run, joblib stops its workers and a
    Dask cluster the run started is closed.
    """
