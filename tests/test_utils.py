import logging
import warnings

import pandas as pd
import pytest

from neuromark import set_log_level
from neuromark.exceptions import DataFileError, OutputError
from neuromark.utils._check import check_option, suggest
from neuromark.utils._docs import fill_doc
from neuromark.utils._files import atomic_path, ensure_output_dir, write_tsv
from neuromark.utils._logging import logger, verbose, warn


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "table.tsv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.tsv"]
    write_tsv(target, pd.DataFrame({"a": [1.0, None]}), index=False)
    assert target.read_text() == "a\n1.0\nn/a\n"


def test_ensure_output_dir(tmp_path):
    assert ensure_output_dir(tmp_path / "a" / "b").is_dir()
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="is an existing file"):
        ensure_output_dir(tmp_path / "f")
    with pytest.raises(OutputError, match="is a file"):
        ensure_output_dir(tmp_path / "f" / "sub")


def test_check_option_message():
    with pytest.raises(ValueError) as info:
        check_option("kind", "corr", ["correlation", "tangent"])
    assert str(info.value) == (
        "Invalid value for the 'kind' parameter. Allowed values are 'correlation' and "
        "'tangent', but got 'corr' instead. Did you mean 'correlation'?"
    )
    assert check_option("kind", "tangent", ["correlation", "tangent"]) == "tangent"
    assert suggest("zzz", ["alpha"]) == ""


def test_fill_doc_indents_shared_text():
    @fill_doc
    def func(verbose=None):
        """Do.

        Parameters
        ----------
        %(verbose)s
        """

    assert "        Control the ``neuromark`` logger" in func.__doc__


def test_verbose_switch_is_temporary(caplog):
    @verbose
    def func(*, verbose=None):
        logger.info("inside")
        return logger.level

    set_log_level("WARNING")
    with caplog.at_level(logging.NOTSET, logger="neuromark"):
        logger.setLevel(logging.WARNING)
        assert func(verbose=True) == logging.INFO
        assert logger.level == logging.WARNING
        assert "inside" in caplog.text
    with pytest.raises(ValueError, match="'verbose' parameter"):
        func(verbose="LOUD")


def test_warn_points_at_the_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn("careful")
    assert caught[0].filename == __file__


def test_data_file_error_names_file_and_survives_pickling(tmp_path):
    import pickle

    err = DataFileError(
        tmp_path / "sub-07_ses-post_eeg.edf", "sampling rate 0 Hz in header"
    )
    assert str(err).startswith("sub-07_ses-post_eeg.edf: sampling rate 0 Hz in header")
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err)
