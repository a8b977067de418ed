"""Find the recordings of a BIDS study: resting EEG and fMRIPrep derivatives.

Discovery only looks at file names (cheap, no data read). Reading headers is
:mod:`neuromark.io.checks`' job.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..exceptions import BIDSError
from ..utils._check import check_option
from ..utils._docs import fill_doc
from ..utils._logging import logger, verbose
from .participants import is_participant_id, read_participants

EEG_EXTENSIONS = (".edf", ".bdf", ".vhdr", ".set", ".fif")
MODALITIES = ("eeg", "fmri")
DEFAULT_SPACE = "MNI152NLin2009cAsym"
# fMRIPrep >= 20.2, 1.4-20.1, and < 1.4 confounds names, newest first
CONFOUNDS_SUFFIXES = (
    "_desc-confounds_timeseries.tsv",
    "_desc-confounds_regressors.tsv",
    "_bold_confounds.tsv",
)
_ENTITY = r"(?:_[a-zA-Z]+-[a-zA-Z0-9]+)"


# the columns naming a recording (unit of work) in every output table
UNIT_COLUMNS = ("participant_id", "session", "modality")


@dataclass
class Recording:
    """One resting recording of one participant in one session.

    Attributes
    ----------
    participant_id : str
        ``sub-<label>``.
    session : str
        BIDS session label (without ``ses-``).
    modality : str
        ``"eeg"`` or ``"fmri"``.
    path : pathlib.Path
        The EEG file, or the preprocessed BOLD image.
    companions : dict of str to pathlib.Path
        Related files found next to it: ``channels`` and ``sidecar`` for EEG;
        ``confounds``, ``mask`` and ``sidecar`` for fMRI.
    """

    participant_id: str
    session: str
    modality: str
    path: Path
    companions: dict = field(default_factory=dict)

    @property
    def key(self):
        """Tuple ``(participant_id, session, modality)`` naming the unit."""
        return (self.participant_id, self.session, self.modality)

    @property
    def ids(self):
        """The unit's columns in output tables (``participant_id``, ``session``...)."""
        return dict(zip(UNIT_COLUMNS, self.key))

    def __str__(self):
        unit = f"{self.participant_id} ses-{self.session} {self.modality}"
        return f"{unit} ({self.path.name})"


@dataclass
class Study:
    """A discovered BIDS study.

    Attributes
    ----------
    root : pathlib.Path
        The BIDS root.
    participants : pandas.DataFrame
        Validated ``participants.tsv`` with responder labels.
    recordings : list of Recording
        Every usable recording found, sorted by participant, session, modality.
    problems : pandas.DataFrame
        What is missing or unusable: ``participant_id``, ``session``,
        ``modality``, ``path``, ``problem``.
    sessions : tuple of (str, str)
        Pre and post session labels.
    modalities : tuple of str
        Modalities searched.
    """

    root: Path
    participants: pd.DataFrame
    recordings: list
    problems: pd.DataFrame
    sessions: tuple
    modalities: tuple

    def get(self, participant_id, session, modality):
        """Return the :class:`Recording` for one unit, or ``None``."""
        for recording in self.recordings:
            if recording.key == (participant_id, session, modality):
                return recording
        return None

    def summary(self):
        """Tabulate who has which modality and session.

        Returns
        -------
        summary : pandas.DataFrame
            One row per participant: ``participant_id``, ``intervention``,
            ``responder``, one ``<modality>_<session>`` column per searched
            modality and session holding ``"ok"`` or ``"missing"``, and
            ``n_recordings``.
        """
        found = {rec.key for rec in self.recordings}
        rows = []
        for row in self.participants.itertuples():
            entry = {
                "participant_id": row.participant_id,
                "intervention": row.intervention,
                "responder": row.responder,
            }
            count = 0
            for modality in self.modalities:
                for session in self.sessions:
                    ok = (row.participant_id, session, modality) in found
                    entry[f"{modality}_{session}"] = "ok" if ok else "missing"
                    count += ok
            entry["n_recordings"] = count
            rows.append(entry)
        return pd.DataFrame(rows)


def _problem(participant_id, session, modality, path, problem):
    return {
        "participant_id": participant_id,
        "session": session,
        "modality": modality,
        "path": str(path) if path is not None else "n/a",
        "problem": problem,
    }


def _match(folder, pattern):
    if not folder.is_dir():
        return []
    regex = re.compile(pattern)
    return sorted(p for p in folder.iterdir() if regex.fullmatch(p.name))


def find_eeg(participant_dir, participant_id, session, task):
    """List the resting EEG files of one participant and session.

    Parameters
    ----------
    participant_dir : pathlib.Path
        ``ROOT/sub-<label>``.
    participant_id, session, task : str
        BIDS entities.

    Returns
    -------
    files : list of pathlib.Path
        Matching EEG files (any of ``.edf .bdf .vhdr .set .fif``).
    """
    extensions = "|".join(re.escape(e) for e in EEG_EXTENSIONS)
    pattern = (
        rf"{re.escape(participant_id)}_ses-{re.escape(session)}_task-{re.escape(task)}"
        rf"{_ENTITY}*_eeg(?:{extensions})"
    )
    return _match(participant_dir / f"ses-{session}" / "eeg", pattern)


def find_bold(func_dir, participant_id, session, task, space=None):
    """List preprocessed fMRIPrep BOLD images of one participant and session.

    Parameters
    ----------
    func_dir : pathlib.Path
        ``fmriprep/sub-<label>/ses-<label>/func``.
    participant_id, session, task : str
        BIDS entities.
    space : str | None
        Template space; ``None`` lists every space.

    Returns
    -------
    files : list of pathlib.Path
        Matching ``*_desc-preproc_bold.nii[.gz]`` images.
    """
    space_pattern = re.escape(space) if space else r"[a-zA-Z0-9]+"
    pattern = (
        rf"{re.escape(participant_id)}_ses-{re.escape(session)}_task-{re.escape(task)}"
        rf"{_ENTITY}*?_space-{space_pattern}(?:_res-[a-zA-Z0-9]+)?"
        r"_desc-preproc_bold\.nii(?:\.gz)?"
    )
    return _match(func_dir, pattern)


def fmri_companions(bold):
    """Find the confounds table, brain mask and JSON sidecar of a BOLD image.

    Parameters
    ----------
    bold : pathlib.Path
        A ``*_desc-preproc_bold.nii[.gz]`` image.

    Returns
    -------
    companions : dict of str to pathlib.Path
        Keys ``confounds``, ``mask``, ``sidecar`` and ``csf`` (fMRIPrep's CSF
        probability map in the run's space, see :func:`csf_probseg`) for the
        files that exist.
    """
    name = bold.name
    stem = name[: name.index("_desc-preproc_bold")]
    run_prefix = stem[: stem.index("_space-")]
    companions = {}
    csf = csf_probseg(bold)
    if csf is not None:
        companions["csf"] = csf
    for suffix in CONFOUNDS_SUFFIXES:
        candidate = bold.with_name(run_prefix + suffix)
        if candidate.is_file():
            companions["confounds"] = candidate
            break
    for ext in (".nii.gz", ".nii"):
        mask = bold.with_name(f"{stem}_desc-brain_mask{ext}")
        if mask.is_file():
            companions["mask"] = mask
            break
    sidecar = bold.with_name(f"{stem}_desc-preproc_bold.json")
    if sidecar.is_file():
        companions["sidecar"] = sidecar
    return companions


def csf_probseg(bold):
    """FMRIPrep's CSF probability map in the space of a BOLD run, if any.

    fMRIPrep writes ``<sub>[_ses-<s>]_space-<space>[_res-<r>]_label-CSF_probseg``
    into the session's ``anat`` folder (longitudinal runs) or the subject's.
    The session's map wins, then the one at the BOLD's resolution.

    Parameters
    ----------
    bold : pathlib.Path
        A ``*_space-<space>[_res-<r>]_desc-preproc_bold.nii[.gz]`` image.

    Returns
    -------
    path : pathlib.Path | None
    """
    entities, _ = _entities(bold.name)
    if "sub" not in entities or "space" not in entities:
        return None
    subject = f"sub-{entities['sub']}"
    session = f"_ses-{entities['ses']}" if "ses" in entities else ""
    func = bold.parent
    folders = [func.parent / "anat"]
    if session:
        folders.append(func.parent.parent / "anat")
    for folder in folders:
        candidates = sorted(
            folder.glob(f"{subject}*_space-{entities['space']}_*label-CSF_probseg.nii*")
        )
        candidates = [
            c
            for c in candidates
            if _entities(c.name)[0].get("ses", entities.get("ses"))
            == entities.get("ses")
        ]
        if candidates:
            same_res = [
                c
                for c in candidates
                if _entities(c.name)[0].get("res") == entities.get("res")
            ]
            return (same_res or candidates)[0]
    return None


def _entities(name):
    """``({entity: label}, suffix)`` of a BIDS file name (extension removed)."""
    stem = name.split(".", 1)[0]
    *pairs, suffix = stem.split("_")
    entities = dict(pair.split("-", 1) for pair in pairs if "-" in pair)
    return entities, suffix


def inherited_files(path, root, suffix, extension):
    """Files that apply to ``path`` by the BIDS inheritance principle.

    A metadata file applies when it lies in the data file's folder or one of
    its parents up to the BIDS root, has the given suffix and extension, and
    its entities are a subset of the data file's (``task-rest_eeg.json`` at
    the root applies to every resting EEG recording).

    Parameters
    ----------
    path : pathlib.Path
        The data file.
    root : pathlib.Path
        The BIDS root.
    suffix, extension : str
        E.g. ``"eeg"`` and ``".json"``, or ``"channels"`` and ``".tsv"``.

    Returns
    -------
    files : list of pathlib.Path
        Applicable files, nearest first (the nearest wins; JSON levels merge).
    """
    entities, _ = _entities(path.name)
    found = []
    folder = path.parent
    while True:
        for candidate in sorted(folder.glob(f"*_{suffix}{extension}")):
            theirs, their_suffix = _entities(candidate.name)
            if their_suffix == suffix and theirs.items() <= entities.items():
                found.append(candidate)
        if folder == root or root not in folder.parents:
            break
        folder = folder.parent
    return found


def _eeg_companions(path, root):
    """Sidecar (with inherited levels), channels, electrodes and events files."""
    companions = {}
    for key, (suffix, extension) in {
        "sidecar": ("eeg", ".json"),
        "channels": ("channels", ".tsv"),
        "electrodes": ("electrodes", ".tsv"),
        "coordsystem": ("coordsystem", ".json"),
        "events": ("events", ".tsv"),
    }.items():
        files = inherited_files(path, root, suffix, extension)
        if files:
            companions[key] = files[0]
        if key == "sidecar":  # every JSON level counts (cache keys, metadata)
            companions |= {f"sidecar.{k}": f for k, f in enumerate(files[1:], 1)}
    return companions


def _discover_eeg(root, pid, session, task):
    files = find_eeg(root / pid, pid, session, task)
    if len(files) > 1:
        names = [f.name for f in files]
        return None, f"several resting EEG files, cannot choose: {names}"
    if not files:
        return None, "no resting EEG file"
    recording = Recording(
        pid, session, "eeg", files[0], _eeg_companions(files[0], root)
    )
    return recording, None


def _discover_fmri(fmriprep, pid, session, task, space):
    func = fmriprep / pid / f"ses-{session}" / "func"
    files = find_bold(func, pid, session, task, space)
    if not files:
        others = find_bold(func, pid, session, task)
        if others:
            spaces = sorted(
                {re.search(r"_space-([^_]+)", f.name).group(1) for f in others}
            )
            return None, f"no BOLD image in space {space}; found spaces {spaces}"
        return None, "no preprocessed BOLD image"
    if len(files) > 1:
        names = [f.name for f in files]
        return None, f"several BOLD images in space {space}, cannot choose: {names}"
    companions = fmri_companions(files[0])
    if "confounds" not in companions:
        return None, (
            f"{files[0].name}: no confounds table next to it (looked for "
            + ", ".join(s.lstrip("_") for s in CONFOUNDS_SUFFIXES)
            + ")"
        )
    return Recording(pid, session, "fmri", files[0], companions), None


@verbose
@fill_doc
def discover_study(
    bids_root,
    *,
    task="rest",
    sessions=("pre", "post"),
    modalities=MODALITIES,
    fmriprep_dir=None,
    space=DEFAULT_SPACE,
    interventions=None,
    responder_threshold=0.30,
    verbose=None,
):
    """Discover participants and resting recordings of a BIDS study.

    Parameters
    ----------
    %(bids_root)s
    %(task)s
    %(sessions)s
    modalities : sequence of str
        Which of ``"eeg"`` and ``"fmri"`` to look for.
    fmriprep_dir : path-like | None
        fMRIPrep derivatives folder; default ``<bids_root>/derivatives/fmriprep``.
        A relative path is taken relative to ``bids_root``.
    space : str
        Template space of the BOLD images. Default ``"MNI152NLin2009cAsym"``.
    interventions : sequence of str | None
        Keep only participants with these interventions (``None``: all).
    %(responder_threshold)s
    %(verbose)s

    Returns
    -------
    study : Study
        Participants, usable recordings and a table of problems. A missing
        session or modality is a logged problem, not an error.

    Raises
    ------
    BIDSError
        If ``bids_root`` is not a folder or ``participants.tsv`` is missing.
    DataFileError
        If ``participants.tsv`` is invalid.
    """
    root = Path(bids_root).expanduser().resolve()
    if not root.is_dir():
        raise BIDSError(f"BIDS root {root} is not a folder.")
    modalities = tuple(modalities)
    for modality in modalities:
        check_option("modalities", modality, MODALITIES)
    sessions = tuple(sessions)
    if len(sessions) != 2 or sessions[0] == sessions[1]:
        raise ValueError(
            f"sessions must be two different labels (pre, post), got {sessions!r}"
        )
    participants = read_participants(root, responder_threshold=responder_threshold)
    if interventions is not None:
        interventions = list(interventions)
        unknown = sorted(set(interventions) - set(participants["intervention"]))
        if unknown:
            logger.warning(
                "interventions %s are not in participants.tsv (present: %s)",
                unknown,
                sorted(set(participants["intervention"])),
            )
        participants = participants[participants["intervention"].isin(interventions)]
        participants = participants.reset_index(drop=True)
        if participants.empty:
            raise BIDSError(
                f"No participant in {root} has intervention in {interventions}."
            )
    fmriprep = Path(fmriprep_dir) if fmriprep_dir else Path("derivatives", "fmriprep")
    if not fmriprep.is_absolute():
        fmriprep = root / fmriprep

    recordings, problems = [], []
    listed = set(participants["participant_id"])
    for folder in sorted(root.glob("sub-*")):
        if not folder.is_dir() or folder.name in listed:
            continue
        if not is_participant_id(folder.name):
            # an invalid label never becomes a participant_id (nor a file name)
            problems.append(
                _problem(
                    "n/a",
                    "n/a",
                    "n/a",
                    folder,
                    "folder name is not a BIDS participant label (sub- and "
                    "letters or digits); ignored",
                )
            )
        elif interventions is None:
            problems.append(
                _problem(
                    folder.name,
                    "n/a",
                    "n/a",
                    folder,
                    "folder not listed in participants.tsv; ignored",
                )
            )
    for pid in participants["participant_id"]:
        found_any = False
        for session in sessions:
            for modality in modalities:
                if modality == "eeg":
                    rec, problem = _discover_eeg(root, pid, session, task)
                else:
                    rec, problem = _discover_fmri(fmriprep, pid, session, task, space)
                if rec is not None:
                    recordings.append(rec)
                    found_any = True
                else:
                    problems.append(_problem(pid, session, modality, None, problem))
        if not found_any:
            logger.warning("%s: no resting %s data found", pid, "/".join(modalities))
    problems = pd.DataFrame(
        problems, columns=["participant_id", "session", "modality", "path", "problem"]
    )
    for row in problems.itertuples():
        logger.info(
            "%s ses-%s %s: %s",
            row.participant_id,
            row.session,
            row.modality,
            row.problem,
        )
    study = Study(root, participants, recordings, problems, sessions, modalities)
    logger.info(
        "%s: %d participants, %d recordings, %d problems",
        root.name,
        len(participants),
        len(recordings),
        len(problems),
    )
    return study
