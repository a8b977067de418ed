"""Figures of one participant's recordings, for their QC page.

EEG figures are drawn from the tables the EEG step writes (channel spectra,
removed ICA components, channel markers), so a page can be rebuilt from a
finished output folder. fMRI figures need the images: the run is loaded
again with :func:`neuromark.fmri.overview.run_overview`, which applies the
same ROI definition and censoring as the markers.
"""

import numpy as np

# where the PAG sits (MNI mm): the zoom's centre
PAG_MNI = (0.0, -32.0, -10.0)
ZOOM_HALF_WIDTH_MM = 15.0


def montage_info(channels, montage):
    """MNE ``Info`` placing the channels of ``montage`` (others dropped).

    Parameters
    ----------
    channels : sequence of str
        Channel names.
    montage : str
        MNE built-in montage.

    Returns
    -------
    info : mne.Info
        EEG channels found in the montage, in the order given.
    """
    import mne

    names = mne.channels.make_standard_montage(montage).ch_names
    known = {name.lower() for name in names}
    placed = [ch for ch in channels if ch.lower() in known]
    info = mne.create_info(placed, 250.0, "eeg")
    info.set_montage(montage, match_case=False, verbose="error")
    return info


def _bad_channels(cell):
    """Channel names of an ``eeg_qc`` ``bad_channels`` cell (``name:why;...``)."""
    if not isinstance(cell, str) or not cell:
        return []
    return [item.split(":", 1)[0] for item in cell.split(";") if item]


def plot_channel_psd(spectra, qc):
    """Spectrum of every channel per session, interpolated bad channels in red.

    Parameters
    ----------
    spectra : pandas.DataFrame
        The participant's ``eeg_channel_spectra`` rows.
    qc : pandas.DataFrame
        Their ``eeg_qc`` rows (``session``, ``bad_channels``).

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per session, log power against frequency.
    """
    import matplotlib.pyplot as plt

    sessions = list(dict.fromkeys(spectra["session"]))
    bads = {row.session: _bad_channels(row.bad_channels) for row in qc.itertuples()}
    figure, axes = plt.subplots(
        1, len(sessions), figsize=(4.2 * len(sessions), 3.0), squeeze=False
    )
    for ax, session in zip(axes[0], sessions):
        rows = spectra[(spectra["session"] == session) & (spectra["freq"] >= 1.0)]
        psd = rows.pivot_table(index="location", columns="freq", values="psd")
        bad = set(bads.get(session, [])) & set(psd.index)
        is_bad = psd.index.isin(list(bad))
        # every good channel in one call, the bad ones on top in red
        ax.semilogy(psd.columns, psd[~is_bad].T.to_numpy(), color="0.4", lw=0.5)
        if bad:
            ax.semilogy(psd.columns, psd[is_bad].T.to_numpy(), color="tab:red", lw=1.2)
        ax.set(
            xlabel="Frequency (Hz)",
            ylabel="PSD (µV²/Hz)",
            title=f"{session}: {len(psd)} channels"
            + (f", {len(bad)} bad (red, interpolated)" if bad else ", none bad"),
        )
        ax.title.set_fontsize(9)
    figure.tight_layout()
    return figure


def plot_region_spectra(spectra):
    """Spectrum of each electrode region per session.

    Parameters
    ----------
    spectra : pandas.DataFrame
        The participant's ``eeg_spectra`` rows.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One line per session and region, log power against frequency.
    """
    import matplotlib.pyplot as plt

    spectra = spectra[spectra["freq"] >= 1.0]
    figure, ax = plt.subplots(figsize=(6, 3.2))
    for (session, region), rows in spectra.groupby(["session", "location"]):
        ax.semilogy(rows["freq"], rows["psd"], label=f"{session} {region}", lw=1)
    ax.set(xlabel="Frequency (Hz)", ylabel="PSD (µV²/Hz)")
    ax.legend(fontsize=6, ncol=2)
    return figure


def plot_band_topomaps(long, montage, *, bands=("alpha", "beta")):
    """Band power over the scalp per session, with its unit.

    Parameters
    ----------
    long : pandas.DataFrame
        The participant's EEG rows of ``features_long`` (channel rows of
        ``<band>_logpower``).
    montage : str
        MNE built-in montage placing the channels.
    bands : sequence of str
        Bands (rows of the figure).

    Returns
    -------
    figure : matplotlib.figure.Figure | None
        Rows: bands; columns: sessions; one colour scale per band. None when
        no channel can be placed.
    """
    import matplotlib.pyplot as plt
    import mne

    rows = long[long["feature"].isin([f"{band}_logpower" for band in bands])]
    sessions = list(dict.fromkeys(rows["session"]))
    info = montage_info(list(dict.fromkeys(rows["location"])), montage)
    if not info.ch_names or not sessions:
        return None
    figure, axes = plt.subplots(
        len(bands),
        len(sessions),
        figsize=(2.6 * len(sessions) + 0.8, 2.3 * len(bands)),
        squeeze=False,
        layout="constrained",
    )
    for row, band in enumerate(bands):
        values = rows[rows["feature"] == f"{band}_logpower"].pivot_table(
            index="session", columns="location", values="value"
        )
        values = values.reindex(index=sessions, columns=info.ch_names)
        finite = values.to_numpy()[np.isfinite(values.to_numpy())]
        vlim = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        for column, session in enumerate(sessions):
            image, _ = mne.viz.plot_topomap(
                np.nan_to_num(values.loc[session].to_numpy(), nan=np.mean(vlim)),
                info,
                axes=axes[row, column],
                show=False,
                cmap="viridis",
                vlim=vlim,
            )
            axes[row, column].set_title(f"{band} {session}", fontsize=9)
        unit = rows.loc[rows["feature"] == f"{band}_logpower", "unit"].iloc[0]
        figure.colorbar(image, ax=axes[row].tolist(), shrink=0.8, label=unit)
    return figure


def plot_removed_components(components, montage):
    """Scalp maps of the ICA components removed, with their ICLabel class.

    Parameters
    ----------
    components : pandas.DataFrame
        The participant's ``eeg_ica_components`` rows.
    montage : str
        MNE built-in montage placing the channels.

    Returns
    -------
    figure : matplotlib.figure.Figure | None
        One map per removed component (None when none was removed).
    """
    import matplotlib.pyplot as plt
    import mne

    groups = list(components.groupby(["session", "component"], sort=False))
    if not groups:
        return None
    figure, axes = plt.subplots(
        1, len(groups), figsize=(2.2 * len(groups), 2.5), squeeze=False
    )
    for ax, ((session, name), rows) in zip(axes[0], groups):
        info = montage_info(list(rows["channel"]), montage)
        weights = rows.set_index("channel")["weight"].reindex(info.ch_names)
        mne.viz.plot_topomap(weights.to_numpy(), info, axes=ax, show=False)
        ax.set_title(
            f"{session} {name}\n{rows['label'].iloc[0]} "
            f"{rows['probability'].iloc[0]:.2f}",
            fontsize=8,
        )
    return figure


def _runs(flags):
    """First and last index of each stretch of True values."""
    edges = np.diff(np.concatenate([[0], flags.astype(int), [0]]))
    return zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1)


def plot_motion_carpet(overview, title):
    """Framewise displacement and DVARS over the carpet plot of the run.

    Parameters
    ----------
    overview : neuromark.fmri.overview.RunOverview
        The run.
    title : str
        Panel title.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Top: FD (mm) and standardised DVARS with their thresholds; censored
        volumes shaded. Bottom: the carpet plot, the detrended, standardised
        signal of brain voxels spread evenly over the mask
        (:func:`neuromark.fmri.overview.carpet`; grey from -2 to 2 SD).
    """
    import matplotlib.pyplot as plt

    motion = overview.motion
    seconds = np.arange(len(motion)) * overview.tr
    figure = plt.figure(figsize=(8, 5.2))
    grid = figure.add_gridspec(3, 1, height_ratios=[1, 1, 3], hspace=0.35)
    traces = [
        ("framewise_displacement", "FD (mm)", overview.fd_threshold, "tab:blue"),
        ("std_dvars", "std DVARS", overview.std_dvars_threshold, "tab:orange"),
    ]
    censored = ~motion["kept"].to_numpy()
    for row, (column, label, threshold, colour) in enumerate(traces):
        ax = figure.add_subplot(grid[row])
        ax.plot(seconds, motion[column].to_numpy(float), color=colour, lw=1)
        if threshold is not None:
            ax.axhline(threshold, color="k", ls="--", lw=0.8)
        for first, last in _runs(censored):
            ax.axvspan(
                seconds[first] - overview.tr / 2,
                seconds[last] + overview.tr / 2,
                color="red",
                alpha=0.2,
            )
        ax.set_ylabel(label, fontsize=8)
        ax.set_xlim(seconds[0], seconds[-1] if len(seconds) > 1 else 1.0)
        ax.tick_params(labelbottom=False, labelsize=7)
        if row == 0:
            ax.set_title(
                f"{title}: {censored.sum()} of {len(censored)} volumes censored (red)",
                fontsize=9,
            )
    ax = figure.add_subplot(grid[2])
    rows = overview.carpet
    ax.imshow(
        rows,
        aspect="auto",
        cmap="gray",
        vmin=-2,
        vmax=2,
        interpolation="nearest",
        extent=(seconds[0], seconds[-1] + overview.tr, len(rows), 0),
    )
    ax.set(xlabel="time (s)", ylabel=f"{len(rows)} voxels")
    return figure


def _zoom(image, centre, half_width, interpolation):
    """``image`` resampled to 1-mm voxels in a cube around ``centre``."""
    from nilearn.image import resample_img

    size = int(2 * half_width) + 1
    affine = np.eye(4)
    affine[:3, 3] = np.asarray(centre) - half_width
    return resample_img(
        image,
        target_affine=affine,
        target_shape=(size, size, size),
        interpolation=interpolation,
        force_resample=True,
        copy_header=True,
    )


def plot_roi_overlay(overview, title):
    """Show the ROIs as used (CSF removed) on the mean image, and a PAG zoom.

    Parameters
    ----------
    overview, title
        As in :func:`plot_motion_carpet`.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Top: ROIs on three orthogonal slices of the mean BOLD. Bottom: a
        30-mm cube around the PAG (MNI 0, -32, -10) at 1-mm resolution.
    """
    import matplotlib.pyplot as plt
    from nilearn.plotting import plot_roi

    mean = overview.mean_img
    figure, axes = plt.subplots(2, 1, figsize=(7.5, 5.4))
    # one colour per ROI label (1..n), the same in both panels
    style = {"colorbar": False, "black_bg": True, "dim": 0, "cmap": "tab10"}
    style |= {"vmin": 0.5, "vmax": 10.5}
    plot_roi(
        overview.labels_img,
        bg_img=mean,
        axes=axes[0],
        title=f"{title}: {', '.join(overview.roi_names)}",
        **style,
    )
    plot_roi(
        _zoom(overview.labels_img, PAG_MNI, ZOOM_HALF_WIDTH_MM, "nearest"),
        bg_img=_zoom(mean, PAG_MNI, ZOOM_HALF_WIDTH_MM, "continuous"),
        cut_coords=PAG_MNI,
        axes=axes[1],
        title="PAG zoom (30 mm)",
        **style,
    )
    return figure
