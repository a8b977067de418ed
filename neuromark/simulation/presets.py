"""Generative settings of simulated studies: ``idealised`` and ``realistic``.

``idealised`` plants large, clean effects so that unit tests can check that a
marker recovers exactly what was planted. ``realistic`` plants what trials of
non-drug pain treatments report, so that inference can be calibrated on it:

* **Test-retest noise.** Resting EEG band power is reliable (ICC of log power
  about 0.8-0.9 over days to weeks; Näpflin et al. 2007, Clin Neurophysiol
  118:2519); peak alpha frequency varies by about 0.2-0.3 Hz between sessions
  (Furman et al. 2018, NeuroImage 167:203). Edge-level fMRI functional
  connectivity is much less reliable (mean ICC about 0.3-0.5; Noble et al.
  2019, NeuroImage 203:116157). The preset's between-participant and session
  spreads reproduce these ICCs (``eeg_between_sd`` / ``eeg_session_sd``: ICC
  of log alpha power 0.86; ``fc_between_sd`` / ``fc_session_sd``: ICC 0.5).
* **Change effects.** Effects are given as standardised change (d of the
  pre->post difference, d_z) in responders: 0.3-0.5, the range of neural
  change reported for TENS, NIBS and mindfulness, with 40 % of it in
  non-responders of the same arm (mechanism and response only partly
  coupled). The planted raw change is ``d x SD(change)``.
* **Response.** Response rates differ by arm and a sham arm responds too
  (placebo response of sham TENS/rTMS about 20-30 %; active arms 35-50 %).
* **Prognosis.** Future responders have a higher baseline peak alpha
  frequency (d about 0.5; slower PAF goes with higher pain sensitivity,
  Furman et al. 2018, 2020) and slightly stronger PAG-pgACC coupling.
* **Nuisance.** Sites differ in EEG amplitude (location) and spread (scale)
  and in fMRI connectivity offset and noise; a share of participants have
  no clear alpha peak; blinks, muscle bursts and movement segments occur at
  rates that differ by session; motion differs between sessions and acts on
  the BOLD signal partly outside the six written parameters; the PAG carries
  CSF pulsation at low tSNR; CompCor columns come as CSF, WM and combined
  decompositions labelled in the confounds JSON as fMRIPrep writes them.
"""

import dataclasses

import numpy as np

from ..features import edge_name

ACC = ("sgACC", "pgACC", "dACC")


@dataclasses.dataclass(frozen=True)
class Preset:
    """Every constant of the generative model of a simulated study.

    Attributes
    ----------
    name : str
        ``"idealised"`` or ``"realistic"``.
    standardised : bool
        Whether the effect tables are in d units (multiplied by the SD of the
        pre->post change) or in raw units (gain fractions, Hz, correlation).
    eeg_effects : dict
        Arm -> marker -> change of responders: ``alpha_gain``,
        ``frontal_alpha_gain``, ``beta_gain`` (log amplitude in d units, or
        a fractional gain), ``paf_shift_hz`` (Hz or d), ``coupling`` (lagged
        frontal-posterior alpha coupling).
    fc_effects : dict
        Arm -> ``(ROI, ROI)`` -> change of the latent correlation.
    nonresponder_fraction : float
        Share of the responder change that non-responders of the arm show.
    response_rates : dict | None
        Arm -> responder fraction (``None``: ``responder_rate`` for all).
    baseline_paf : float
        Responders' baseline PAF advantage (Hz, or d of ``paf_between_sd``).
    baseline_fc : dict
        ``(ROI, ROI)`` -> responders' baseline correlation advantage.
    eeg_between_sd, eeg_session_sd : float
        SD of log amplitude gains between participants and between sessions.
    paf_between_sd, paf_session_sd : float
        SD of PAF (Hz) between participants and between sessions.
    fc_between_sd, fc_session_sd : float
        SD of latent correlations between participants and sessions.
    site_eeg_log_gain, site_eeg_scale : dict
        Site -> log amplitude offset, and multiplier of the between-
        participant spread of log gains.
    site_fc_offset, site_fc_noise : dict
        Site -> offset of every latent correlation, and multiplier of the
        voxel noise.
    no_peak_fraction : float
        Share of participants whose alpha rhythm is too weak to show a peak.
    coupling, coupling_lag_s : float
        Baseline share of the frontal alpha source that is a delayed copy of
        the posterior one, and the delay (s).
    blink_rate_hz, muscle_bursts_per_min, movement_per_min : tuple of float
        Ranges (low, high) of per-session artefact rates.
    motion_sd_mm : tuple of float
        Range of per-session motion step SD (mm per volume).
    unmodelled_motion : float
        Loading (percent) of spin-history motion effects (absolute volume-to-volume
        displacement) that the written confounds do not hold.
    pag_pulsation_percent : float
        SD (percent) of the aqueduct CSF pulsation in a voxel full of CSF;
        voxels next to the aqueduct carry it in proportion to their CSF share.
    pag_partial_volume : bool
        Whether a voxel carries the PAG signal in proportion to the traced
        PAG tissue it holds (else fully, in every voxel the trace touches).
    brainstem_noise_scale : float
        Multiplier of the voxel noise around the PAG (low brainstem tSNR).
    spatial_smoothness_mm : float
        FWHM of the spatial smoothness of the voxel noise (0: independent).
    compcor_layout : str
        ``"combined"`` (every column labelled combined) or ``"fmriprep"``
        (CSF, then WM, then combined decompositions).
    """

    name: str
    standardised: bool
    eeg_effects: dict
    fc_effects: dict
    nonresponder_fraction: float = 0.0
    response_rates: dict | None = None
    baseline_paf: float = 0.6
    baseline_fc: dict = dataclasses.field(
        default_factory=lambda: {("PAG", "pgACC"): 0.15, ("PAG", "dACC"): 0.10}
    )
    eeg_between_sd: float = 0.25
    eeg_session_sd: float = 0.08
    paf_between_sd: float = 0.6
    paf_session_sd: float = 0.1
    fc_between_sd: float = 0.05
    fc_session_sd: float = 0.03
    site_eeg_log_gain: dict = dataclasses.field(default_factory=dict)
    site_eeg_scale: dict = dataclasses.field(default_factory=dict)
    site_fc_offset: dict = dataclasses.field(default_factory=dict)
    site_fc_noise: dict = dataclasses.field(default_factory=dict)
    no_peak_fraction: float = 0.0
    coupling: float = 0.0
    coupling_lag_s: float = 0.015
    blink_rate_hz: tuple = (0.05, 0.05)
    muscle_bursts_per_min: tuple = (1.0, 1.0)
    movement_per_min: tuple = (0.0, 0.0)
    motion_sd_mm: tuple = (0.02, 0.02)
    unmodelled_motion: float = 0.0
    pag_pulsation_percent: float = 0.0
    pag_partial_volume: bool = False
    brainstem_noise_scale: float = 1.0
    spatial_smoothness_mm: float = 0.0
    compcor_layout: str = "combined"

    def eeg_change(self, arm, marker, responder, scale=1.0):
        """Planted pre->post change of one EEG marker in raw units.

        Parameters
        ----------
        arm, marker : str
            Intervention and marker (a key of ``eeg_effects``).
        responder : bool
            Responders get the full change, non-responders
            ``nonresponder_fraction`` of it.
        scale : float
            Multiplier of every effect (``effect_size``).

        Returns
        -------
        change : float
            Additive change of the log amplitude gain (``*_gain``), of the
            PAF (Hz, ``paf_shift_hz``) or of the coupling share.
        """
        effect = scale * self.eeg_effects.get(arm, {}).get(marker, 0.0)
        effect *= 1.0 if responder else self.nonresponder_fraction
        if not self.standardised:
            return np.log1p(effect) if marker.endswith("_gain") else effect
        sd = {"paf_shift_hz": self.paf_session_sd, "coupling": 0.1}.get(
            marker, self.eeg_session_sd
        )
        return effect * np.sqrt(2) * sd

    def fc_change(self, arm, responder, scale=1.0):
        """Planted change of the latent correlations, ``{(ROI, ROI): change}``."""
        scale *= 1.0 if responder else self.nonresponder_fraction
        if self.standardised:
            scale *= np.sqrt(2) * self.fc_session_sd
        return {edge: scale * v for edge, v in self.fc_effects.get(arm, {}).items()}

    def baseline_paf_hz(self):
        """Responders' baseline PAF advantage (Hz)."""
        if self.standardised:
            return self.baseline_paf * self.paf_between_sd
        return self.baseline_paf

    def to_dict(self):
        """JSON-serialisable description (edges as ``"A~B"``)."""

        def edges(table):
            return {edge_name(*e): v for e, v in table.items()}

        out = dataclasses.asdict(self)
        out["fc_effects"] = {arm: edges(t) for arm, t in self.fc_effects.items()}
        out["baseline_fc"] = edges(self.baseline_fc)
        return out


IDEALISED = Preset(
    name="idealised",
    standardised=False,
    eeg_effects={
        "TENS": {"alpha_gain": 0.5, "beta_gain": 0.4},
        "mindfulness": {"frontal_alpha_gain": 0.6},
        "NIBS": {"paf_shift_hz": 0.4},
    },
    fc_effects={
        "TENS": {("PAG", a): 0.25 for a in ACC}
        | {("PAG", "mPFC"): 0.20, ("PAG", "DLPFC_L"): 0.15, ("PAG", "DLPFC_R"): 0.15},
        "mindfulness": {("mPFC", a): 0.25 for a in ACC},
        "NIBS": {("DLPFC_L", a): 0.25 for a in ACC},
    },
)

REALISTIC = Preset(
    name="realistic",
    standardised=True,
    # d_z of the change in responders (log amplitude, Hz or correlation)
    eeg_effects={
        "TENS": {"alpha_gain": 0.45, "beta_gain": 0.35, "coupling": 0.4},
        "mindfulness": {"frontal_alpha_gain": 0.45},
        "NIBS": {"paf_shift_hz": 0.4},
    },
    fc_effects={
        "TENS": {("PAG", a): 0.45 for a in ACC}
        | {("PAG", "mPFC"): 0.35, ("PAG", "DLPFC_L"): 0.3, ("PAG", "DLPFC_R"): 0.3},
        "mindfulness": {("mPFC", a): 0.45 for a in ACC},
        "NIBS": {("DLPFC_L", a): 0.45 for a in ACC},
    },
    nonresponder_fraction=0.4,
    response_rates={"TENS": 0.45, "NIBS": 0.40, "mindfulness": 0.40, "sham": 0.25},
    baseline_paf=0.5,  # d between future responders and non-responders
    baseline_fc={("PAG", "pgACC"): 0.05},
    eeg_between_sd=0.3,
    eeg_session_sd=0.12,
    paf_between_sd=0.8,
    paf_session_sd=0.25,
    fc_between_sd=0.1,
    fc_session_sd=0.1,
    site_eeg_log_gain={"A": 0.0, "B": 0.15},
    site_eeg_scale={"A": 1.0, "B": 1.3},
    site_fc_offset={"A": 0.0, "B": 0.04},
    site_fc_noise={"A": 1.0, "B": 1.4},
    no_peak_fraction=0.12,
    coupling=0.3,
    coupling_lag_s=0.015,
    blink_rate_hz=(0.03, 0.3),
    muscle_bursts_per_min=(0.5, 6.0),
    movement_per_min=(0.0, 1.5),
    motion_sd_mm=(0.01, 0.05),
    unmodelled_motion=0.3,
    pag_pulsation_percent=6.0,
    pag_partial_volume=True,
    brainstem_noise_scale=2.0,
    spatial_smoothness_mm=6.0,
    compcor_layout="fmriprep",
)

PRESETS = {preset.name: preset for preset in (IDEALISED, REALISTIC)}
DEFAULT_ARMS = {
    "idealised": ("TENS", "NIBS", "mindfulness"),
    "realistic": ("TENS", "NIBS", "mindfulness", "sham"),
}
