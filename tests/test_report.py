import matplotlib
import numpy as np
import pandas as pd
import pytest

from neuromark.features import LONG_COLUMNS
from neuromark.report.eeg import band_change, plot_change_topomaps, plot_region_psd

matplotlib.use("Agg")

PARTICIPANTS = pd.DataFrame(
    {"participant_id": ["sub-01", "sub-02"], "intervention": ["TENS", "sham"]}
)


def _long():
    rows = []
    for pid, gain in (("sub-01", 1.0), ("sub-02", 0.0)):
        for ch, offset in (("O1", 0.5), ("Cz", 0.0), ("Fz", -0.2)):
            for session, delta in (("pre", 0.0), ("post", gain)):
                for band in ("alpha", "beta"):
                    rows.append(
                        (
                            pid,
                            session,
                            "eeg",
                            f"{band}_logpower",
                            ch,
                            offset + delta,
                            "log10(µV²)",
                        )
                    )
    return pd.DataFrame(
        rows,
        columns=LONG_COLUMNS,
    )


def test_band_change_is_post_minus_pre_log_power():
    change = band_change(_long(), "alpha")
    assert change.loc["sub-01"].tolist() == [1.0, 1.0, 1.0]
    assert change.loc["sub-02"].abs().max() == 0.0


def test_figures_draw_the_data():
    figure = plot_change_topomaps(_long(), PARTICIPANTS)
    assert [ax.get_title() for ax in figure.axes[:4]] == [  # rows: arms, cols: bands
        "TENS: alpha",
        "TENS: beta",
        "sham: alpha",
        "sham: beta",
    ]
    freqs = np.arange(0, 46, 0.5)
    spectra = pd.DataFrame(
        [
            (pid, ses, "occipital", f, 1.0 / max(f, 1))
            for pid in ("sub-01", "sub-02")
            for ses in ("pre", "post")
            for f in freqs
        ],
        columns=["participant_id", "session", "location", "freq", "psd"],
    )
    figure = plot_region_psd(spectra, PARTICIPANTS)
    lines = figure.axes[0].get_lines()
    assert len(lines) == 4  # 2 interventions x pre/post
    np.testing.assert_allclose(lines[0].get_xdata()[0], 1.0)  # starts at 1 Hz


def test_change_matrices_are_symmetric_means_of_post_minus_pre():
    from neuromark.report.fmri import change_matrices, session_matrices

    rows = [
        (pid, session, "fmri", "fc", "ACC~PAG", value, "Fisher z")
        for pid, pre, post in (("sub-01", 0.1, 0.5), ("sub-02", 0.2, 0.4))
        for session, value in (("pre", pre), ("post", post))
    ]
    long = pd.DataFrame(
        rows,
        columns=LONG_COLUMNS,
    )
    participants = PARTICIPANTS.assign(intervention="TENS")
    matrix = change_matrices(long, participants)["TENS"]
    assert matrix.loc["ACC", "PAG"] == matrix.loc["PAG", "ACC"] == pytest.approx(0.3)
    assert matrix.loc["PAG", "PAG"] == 0.0
    assert session_matrices(long, participants, "pre")["TENS"].loc[
        "ACC", "PAG"
    ] == pytest.approx(0.15)
