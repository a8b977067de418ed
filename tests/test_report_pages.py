"""The report's building blocks: tables that never cut silently, contents,
the methods paragraph, the primary result, and the data behind the
participant pages' figures (checked against what the markers used)."""

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest
from neuromark.atlases import read_eeg_regions

from neuromark.eeg import recording_features as eeg_recording_features
from neuromark.features import LONG_COLUMNS
from neuromark.fmri import recording_features as fmri_recording_features
from neuromark.fmri.overview import run_overview
from neuromark.io import discover_study
from neuromark.pipeline import make_config
from neuromark.report.html import format_value, table_html, write_page
from neuromark.report.methods import REFERENCES, methods_html
from neuromark.report.recording import (
    PAG_MNI,
    ZOOM_HALF_WIDTH_MM,
    _zoom,
    plot_band_topomaps,
    plot_channel_psd,
    plot_motion_carpet,
    plot_removed_components,
    plot_roi_overlay,
)
from neuromark.report.study import primary_section

matplotlib.use("Agg")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.123456, "0.123"),
        (12345.6, "12346"),
        (3.0, "3"),
        (np.float64(2.5e-5), "2.5e-05"),
        (np.nan, "n/a"),
        (None, "n/a"),
        (True, "True"),
        (np.inf, "inf"),
        ("Fp1:0.98;Fp2:0.97", "Fp1:0.98; Fp2:0.97"),
    ],
)
def test_cells_are_rounded_to_three_significant_digits(value, text):
    assert format_value(value) == text


def test_a_cut_table_says_how_much_is_shown_and_links_the_whole():
    frame = pd.DataFrame({"a": range(3)})
    html = table_html(frame, total=948, source="stats_prepost.tsv")
    assert "Showing 3 of 948 rows" in html
    assert "href='stats_prepost.tsv'" in html
    whole = table_html(frame, total=3, source="stats_prepost.tsv")
    assert "Showing" not in whole and "href='stats_prepost.tsv'" in whole


def test_pages_have_contents_with_unique_anchors(tmp_path):
    page = tmp_path / "page.html"
    write_page(page, "t", "s", [("QC", "<p>a</p>"), ("QC", "<p>b</p>"), ("Log", "")])
    text = page.read_text()
    for anchor in ("qc", "qc-2", "log"):
        assert f"id='{anchor}'" in text and f"href='#{anchor}'" in text


def _config(tmp_path, **changes):
    (tmp_path / "study").mkdir(exist_ok=True)
    return make_config(
        bids_root=tmp_path / "study", output_dir=tmp_path / "out", **changes
    ).to_dict()


def test_methods_are_written_from_the_run_settings(tmp_path):
    config = _config(tmp_path, fmri={"denoising": {"fd_threshold": 0.3, "compcor": 0}})
    versions = {"mne": "1.9.0", "nilearn": "0.11.1", "scikit-learn": "1.6.1"}
    html = methods_html(
        config, versions, modalities={"eeg", "fmri", "stats", "predict"}
    )
    assert "above 0.3 mm" in html and "CompCor" not in html
    assert "MNE-Python 1.9.0" in html and "nilearn 0.11.1" in html
    assert "5-fold" in html and "200 label permutations" in html
    # references are numbered in order of first use; every number is listed
    listed = html.count("<li>")
    numbers = {
        int(n)
        for group in re.findall(r"\[([\d, ]+)\]", html)
        for n in group.split(", ")
    }
    assert numbers == set(range(1, listed + 1))
    assert html.index(REFERENCES["mne"]) < html.index(REFERENCES["fmriprep"])
    eeg_only = methods_html(config, versions, modalities={"eeg"})
    assert "fMRIPrep" not in eeg_only and REFERENCES["fooof"] in eeg_only
    no_ica = _config(tmp_path, eeg={"preprocessing": {"artifacts": {"ica": False}}})
    assert "ICLabel" not in methods_html(no_ica, {}, modalities={"eeg"})


def test_the_primary_section_states_the_declared_results():
    treatment = pd.DataFrame(
        {
            "family": ["confirmatory", "confirmatory", "exploratory"],
            "intervention": ["TENS", "NIBS", "TENS"],
            "modality": ["eeg", "eeg", "fmri"],
            "feature": ["alpha_logpower", "paf", "fc"],
            "location": ["occipital", "occipital", "PAG~pgACC"],
            "estimate": [0.21, 0.05, 0.3],
            "ci_low": [0.08, -0.1, 0.1],
            "ci_high": [0.34, 0.2, 0.5],
            "q": [0.01, 0.6, 0.001],
        }
    )
    tables = {"stats_prepost": pd.DataFrame(), "stats_treatment": treatment}
    title, html = primary_section(tables, control="sham", fdr_level=0.05)
    assert title == "Primary results"
    assert "1 of 2 marker-by-arm tests" in html
    assert "TENS: eeg alpha_logpower occipital, +0.21" in html
    assert "PAG~pgACC" not in html  # exploratory results are not primary
    _, html = primary_section({"stats_prepost": pd.DataFrame()}, control=None)
    assert "No control arm" in html


@pytest.fixture(scope="module")
def recordings(study_root):
    study = discover_study(study_root)
    by_modality = {}
    for rec in study.recordings:
        if rec.participant_id == "sub-01" and rec.session == "pre":
            by_modality[rec.modality] = rec
    return by_modality


def test_channel_spectra_average_to_the_region_spectra(recordings):
    _, qc, tables = eeg_recording_features(recordings["eeg"])
    channels = tables["eeg_channel_spectra"].pivot_table(
        index="location", columns="freq", values="psd"
    )
    regions = tables["eeg_spectra"].pivot_table(
        index="location", columns="freq", values="psd"
    )
    assert set(channels.index) == set(qc["channels"])
    for region, members in read_eeg_regions().items():
        present = [ch for ch in members if ch in channels.index]
        np.testing.assert_allclose(
            channels.loc[present].mean().to_numpy(),
            regions.loc[region].to_numpy(),
            rtol=1e-10,
        )
    # ICA is off on this short recording: no component table rows, stated why
    assert tables["eeg_ica_components"].empty and qc["ica"].startswith("off")
    for figure in (
        plot_channel_psd(tables["eeg_channel_spectra"], pd.DataFrame([qc])),
        plot_removed_components(tables["eeg_ica_components"], "colin27_1020"),
    ):
        assert figure is None or figure.axes
    matplotlib.pyplot.close("all")


def test_a_bad_channel_is_drawn_in_red():
    freqs = np.arange(1.0, 5.0)
    spectra = pd.DataFrame(
        {
            "session": "pre",
            "location": np.repeat(["Cz", "Pz"], len(freqs)),
            "freq": np.tile(freqs, 2),
            "psd": 1.0,
        }
    )
    qc = pd.DataFrame({"session": ["pre"], "bad_channels": ["Pz:flat"]})
    figure = plot_channel_psd(spectra, qc)
    colours = [line.get_color() for line in figure.axes[0].lines]
    assert colours == ["0.4", "tab:red"]
    assert "1 bad" in figure.axes[0].get_title()
    matplotlib.pyplot.close(figure)


def test_topomaps_show_each_band_with_its_unit():
    rows = [
        ("sub-01", session, "eeg", f"{band}_logpower", ch, value, "log10(µV²)")
        for session in ("pre", "post")
        for band in ("alpha", "beta")
        for ch, value in (("O1", 1.0), ("Cz", 0.5), ("Fz", 0.2), ("T7", 0.1))
    ]
    long = pd.DataFrame(
        rows,
        columns=LONG_COLUMNS,
    )
    figure = plot_band_topomaps(long, "colin27_1020")
    labels = [ax.get_ylabel() for ax in figure.axes if ax.get_ylabel()]
    assert labels == ["log10(µV²)", "log10(µV²)"]
    assert {ax.get_title() for ax in figure.axes if ax.get_title()} == {
        "alpha pre",
        "alpha post",
        "beta pre",
        "beta post",
    }
    matplotlib.pyplot.close(figure)


def test_run_overview_shows_the_voxels_and_volumes_the_markers_used(recordings):
    rec = recordings["fmri"]
    _, qc, tables = fmri_recording_features(rec)
    overview = run_overview(rec)
    assert overview.motion["kept"].sum() == qc["n_kept"]
    assert len(overview.motion) == qc["n_volumes"]
    roi_qc = tables["fmri_roi_qc"]
    main = roi_qc[roi_qc["definition"].isin(["", "traced"])]
    labels = np.asarray(overview.labels_img.dataobj)
    for k, name in enumerate(overview.roi_names):
        row = main[main["roi"] == name].iloc[0]
        assert (labels == k + 1).sum() == row["n_voxels"], name
    carpet = plot_motion_carpet(overview, "pre")
    censored = (~overview.motion["kept"]).sum()
    assert f"{censored} of {qc['n_volumes']} volumes censored" in (
        carpet.axes[0].get_title()
    )
    assert plot_roi_overlay(overview, "pre").axes
    # the zoom is a 1-mm cube centred on the PAG, which it contains
    zoom = _zoom(overview.labels_img, PAG_MNI, ZOOM_HALF_WIDTH_MM, "nearest")
    pag = overview.roi_names.index("PAG") + 1
    assert zoom.shape == (31, 31, 31)
    np.testing.assert_allclose(zoom.affine[:3, :3], np.eye(3))
    assert (np.asarray(zoom.dataobj) == pag).sum() > 0
    matplotlib.pyplot.close("all")


def _one_channel_tables():
    """``eeg_qc`` and ``eeg_channel_spectra`` rows of one channel, one session."""
    qc = pd.DataFrame(
        {"participant_id": ["sub-01"], "session": ["pre"], "bad_channels": [""]}
    )
    spectra = pd.DataFrame(
        {
            "participant_id": "sub-01",
            "session": "pre",
            "location": ["Cz", "Cz"],
            "freq": [1.0, 2.0],
            "psd": [1.0, 0.5],
        }
    )
    return qc, spectra


def test_pages_without_recording_figures_keep_tables_and_log(tmp_path):
    from neuromark.report.participant import write_participant_page

    qc, spectra = _one_channel_tables()
    pages = {}
    for figures in (True, False):
        path = tmp_path / f"{figures}.html"
        write_participant_page(
            path,
            "sub-01",
            tables={"eeg_qc": qc, "eeg_channel_spectra": spectra},
            errors=pd.DataFrame(columns=["participant_id"]),
            log_lines=["a line"],
            figures=figures,
        )
        pages[figures] = path.read_text()
    assert "<img" in pages[True] and "<img" not in pages[False]
    for page in pages.values():
        assert "bad_channels" in page and "a line" in page
    matplotlib.pyplot.close("all")


def test_drawn_figures_are_kept_until_their_data_change(tmp_path, monkeypatch):
    from neuromark.report import recording
    from neuromark.report.participant import write_participant_page

    qc, spectra = _one_channel_tables()

    def page(spectra):
        path = tmp_path / "page.html"
        write_participant_page(
            path,
            "sub-01",
            tables={"eeg_qc": qc, "eeg_channel_spectra": spectra},
            errors=pd.DataFrame(columns=["participant_id"]),
            log_lines=[],
            figure_cache=tmp_path / "figures",
        )
        return path.read_text()

    first = page(spectra)
    assert "<img" in first and len(list((tmp_path / "figures").glob("*.html"))) == 1

    def fail(*args):
        raise AssertionError("redrawn")

    # the same data: read back, not drawn
    monkeypatch.setattr(recording, "plot_channel_psd", fail)
    assert page(spectra) == first
    # other data: drawn again (and a drawing that fails is one line, not stored)
    changed = page(spectra.assign(psd=[2.0, 1.0]))
    assert "could not be drawn: AssertionError: redrawn" in changed
    assert len(list((tmp_path / "figures").glob("*.html"))) == 1
    matplotlib.pyplot.close("all")
