"""Feature tables of simulated studies, without writing recordings.

:func:`simulate_features` draws the same participants and planted parameters
as :func:`~neuromark.simulation.simulate_study` (same preset, same
``_plan``) and turns them into the markers the pipeline would report, with
measurement noise of the size the pipeline shows on simulated recordings.
It is thousands of times faster than simulating and processing recordings,
so calibration studies (error rates, coverage, power) and power analyses for
planning a trial can use hundreds of studies.

Markers (vocabulary of ``features_long.tsv``):

==========================  ============================================
``eeg alpha_logpower``      ``occipital`` and ``frontal`` regions, log10(µV²)
``eeg beta_logpower``       ``central`` region, log10(µV²)
``eeg paf``                 ``occipital``, Hz; NaN without an alpha peak
``fmri fc``                 every edge of the PAG-ACC-PFC circuit, Fisher z
==========================  ============================================
"""

import numpy as np
import pandas as pd

from ..atlases import read_roi_registry
from ..features import edge_name
from ._eeg import ALPHA_RMS_UV, BETA_RMS_UV, FRONTAL_ALPHA_RMS_UV
from .presets import DEFAULT_ARMS, PRESETS
from .study import _participants, _plan

# Measurement model, fitted to the whole pipeline's output on a realistic study
# (16 participants, 120-s EEG, 150 volumes at 3 mm; planted vs measured):
# band power of the 1/f background under the rhythm (µV²); per-session error
# SD of log10 band power (0.053 measured) and of the PAF (0.07 Hz); Fisher-z
# error of an edge (0.09-0.12) and the attenuation of measured correlations by
# voxel noise (cortex 0.77-0.86; PAG 0.64 with the traced PAG at 3 mm, partial
# volume and pulsation: calibration table 4 of 2026-12-02, session 6; it was
# 0.41 with the 3 mm sphere).
BACKGROUND_POWER = {"alpha": 12.0, "beta": 6.0}
LOGPOWER_NOISE = 0.053
PAF_NOISE_HZ = 0.07
FC_NOISE_Z = 0.11
FC_ATTENUATION = {"cortex": 0.8, "PAG": 0.64}


def simulate_features(
    n_participants,
    *,
    seed=0,
    preset="realistic",
    effect_size=1.0,
    baseline_effect=None,
    interventions=None,
    responder_rate=None,
):
    """Simulate the long feature table of a study from its planted parameters.

    Parameters
    ----------
    n_participants : int
        Number of participants.
    seed : int
        Seed of every draw.
    preset : "realistic" | "idealised" | Preset
        Generative model (:mod:`neuromark.simulation.presets`), by name or
        as a :class:`~neuromark.simulation.presets.Preset` (e.g. a variant
        made with :func:`dataclasses.replace`).
    effect_size, baseline_effect : float
        Scales of the planted changes and prognostic differences
        (``baseline_effect=None``: 1 for standardised presets, else 0.5).
    interventions : sequence of str | None
        Arms (default: the preset's).
    responder_rate : float | dict | None
        Responder fraction, overall or per arm (default: the preset's).

    Returns
    -------
    long : pandas.DataFrame
        ``participant_id, session, modality, feature, location, value, unit``.
    participants : pandas.DataFrame
        As :func:`neuromark.io.read_participants` returns it
        (``intervention``, ``site``, ``age``, ``sex``, pain ratings,
        ``responder``).
    """
    model = PRESETS[preset] if isinstance(preset, str) else preset
    if baseline_effect is None:
        baseline_effect = 1.0 if model.standardised else 0.5
    if responder_rate is None:
        responder_rate = model.response_rates or 0.5
    arms = tuple(
        interventions or DEFAULT_ARMS.get(model.name, DEFAULT_ARMS["realistic"])
    )
    rng = np.random.default_rng(seed)
    table, responder = _participants(rng, n_participants, arms, responder_rate)
    rois = read_roi_registry().query("set == 'core'").reset_index(drop=True)
    plans = _plan(rng, table, responder, rois, effect_size, baseline_effect, model)
    labels = list(rois["label"])
    pairs = [(i, j) for i in range(len(labels)) for j in range(i + 1, len(labels))]
    attenuation = np.array(
        [
            FC_ATTENUATION["PAG"]
            if "PAG" in (labels[i], labels[j])
            else FC_ATTENUATION["cortex"]
            for i, j in pairs
        ]
    )
    rows = []
    for pid, plan in zip(table["participant_id"], plans):
        for session in ("pre", "post"):
            eeg, matrix = plan[session]["eeg"], plan[session]["fmri"]
            peak = not eeg.get("no_alpha_peak", False)
            values = {
                ("eeg", "alpha_logpower", "occipital", "log10(µV²)"): _logpower(
                    rng, ALPHA_RMS_UV * eeg["alpha_gain"], "alpha"
                ),
                ("eeg", "alpha_logpower", "frontal", "log10(µV²)"): _logpower(
                    rng, FRONTAL_ALPHA_RMS_UV * eeg["frontal_alpha_gain"], "alpha"
                ),
                ("eeg", "beta_logpower", "central", "log10(µV²)"): _logpower(
                    rng, BETA_RMS_UV * eeg["beta_gain"], "beta"
                ),
                ("eeg", "paf", "occipital", "Hz"): (
                    eeg["paf_hz"] + rng.normal(0, PAF_NOISE_HZ) if peak else np.nan
                ),
            }
            r = np.array([matrix[i, j] for i, j in pairs]) * attenuation
            z = np.arctanh(np.clip(r, -0.99, 0.99))
            z += rng.normal(0, FC_NOISE_Z, len(pairs))
            for (i, j), value in zip(pairs, z):
                edge = edge_name(labels[i], labels[j])
                values[("fmri", "fc", edge, "Fisher z")] = value
            rows += [
                {
                    "participant_id": pid,
                    "session": session,
                    "modality": modality,
                    "feature": feature,
                    "location": location,
                    "value": float(value),
                    "unit": unit,
                }
                for (modality, feature, location, unit), value in values.items()
            ]
    participants = table.assign(
        pain_reduction=(table["pain_pre"] - table["pain_post"]) / table["pain_pre"],
        responder=pd.array(responder, dtype="boolean"),
        responder_source="pain",
    )
    return pd.DataFrame(rows), participants


def _logpower(rng, rms_uv, band):
    """log10 band power of a rhythm of ``rms_uv`` over its 1/f background."""
    power = rms_uv**2 + BACKGROUND_POWER[band]
    return np.log10(power) + rng.normal(0, LOGPOWER_NOISE)
