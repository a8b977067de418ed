"""Typed, strict, documented pipeline configuration.

A config is a YAML file; only ``bids_root`` and ``output_dir`` are required.
Every setting is declared here with its type, default and description, so
``neuromark config`` can print them all; unknown keys are rejected with a
"did you mean" hint, as in mne-bids-pipeline.
"""

import hashlib
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from ..eeg.settings import EEGSettings
from ..exceptions import ConfigError
from ..fmri.settings import FMRISettings
from ..predict.settings import PredictSettings
from ..stats.settings import StatsSettings
from ..utils._check import suggest
from ..utils._settings import StrictModel
from .engine import EngineSettings

Modality = Literal["eeg", "fmri"]


class Sessions(StrictModel):
    """BIDS session labels of the two time points."""

    pre: str = Field("pre", description="Session label of the pre-treatment recording.")
    post: str = Field(
        "post", description="Session label of the post-treatment recording."
    )

    @field_validator("post")
    @classmethod
    def _different(cls, post, info):
        if post == info.data.get("pre"):
            raise ValueError("pre and post session labels must differ")
        return post


class ReportSettings(StrictModel):
    """What the reports show."""

    recording_figures: bool = Field(
        True,
        description="Draw per-recording figures on the participant pages (channel "
        "spectra, topomaps, removed ICA components, carpet plot with FD/DVARS, ROI "
        "overlay with a PAG zoom). About 2 s per fMRI run: false for very large "
        "studies keeps the pages' tables and logs only.",
    )


class PipelineConfig(StrictModel):
    """Settings of ``neuromark run``.

    Relative paths (``bids_root``, ``output_dir``, ``fmri.rois.atlas``) are
    resolved against the folder of the config file; ``fmriprep_dir`` against
    ``bids_root``.
    """

    bids_root: Path = Field(
        ..., description="BIDS root of the study (folder with participants.tsv)."
    )
    output_dir: Path = Field(
        ..., description="Derivatives folder to write (created if missing)."
    )
    task: str = Field("rest", description="BIDS task label of the resting recordings.")
    sessions: Sessions = Field(
        default_factory=Sessions, description="Session labels of pre and post."
    )
    modalities: tuple[Modality, ...] = Field(
        ("eeg", "fmri"),
        min_length=1,
        description="Modalities to process: eeg, fmri or both.",
    )
    interventions: tuple[str, ...] | None = Field(
        None,
        description="Keep only participants with these interventions "
        "(e.g. [TENS, sham]); null keeps everyone.",
    )
    fmriprep_dir: Path | None = Field(
        None,
        description="fMRIPrep derivatives folder; null means "
        "<bids_root>/derivatives/fmriprep. Relative paths are relative to bids_root.",
    )
    space: str = Field(
        "MNI152NLin2009cAsym", description="Template space of the fMRIPrep BOLD images."
    )
    responder_threshold: float = Field(
        0.30,
        gt=0,
        lt=1,
        description="Fractional pain reduction (pre to post) that defines a responder "
        "(IMMPACT moderate change: 0.30). An explicit 'responder' column in "
        "participants.tsv overrides it.",
    )
    n_jobs: int = Field(
        1,
        description="Parallel joblib workers (-1: all cores). "
        "Results do not depend on it.",
    )
    random_state: int = Field(
        42, ge=0, description="Seed of every random step; same seed, same results."
    )
    cache: bool = Field(
        True,
        description="Cache each recording's features and the prediction in "
        "<output_dir>/cache, keyed on settings and input file hashes: a rerun "
        "recomputes only what changed, and a killed run resumes.",
    )
    progress: Literal["auto", True, False] = Field(
        "auto",
        description="Progress bars over recordings and permutations; auto shows "
        "them only on an interactive terminal (never in batch jobs).",
    )
    on_error: Literal["continue", "abort"] = Field(
        "continue",
        description="What a bad recording does: 'continue' logs it in logs/errors.tsv "
        "and goes on, 'abort' stops the run.",
    )

    engine: EngineSettings = Field(
        default_factory=EngineSettings,
        description="Where parallel work runs: loky processes or a Dask cluster.",
    )

    eeg: EEGSettings = Field(
        default_factory=EEGSettings,
        description="EEG preprocessing and spectral markers.",
    )

    fmri: FMRISettings = Field(
        default_factory=FMRISettings,
        description="fMRI denoising, ROIs and connectivity.",
    )

    stats: StatsSettings = Field(
        default_factory=StatsSettings,
        description="Pre/post statistics per treatment.",
    )

    predict: PredictSettings = Field(
        default_factory=PredictSettings,
        description="Treatment-response prediction.",
    )

    report: ReportSettings = Field(
        default_factory=ReportSettings,
        description="The group report and participant pages.",
    )

    @field_validator("n_jobs")
    @classmethod
    def _n_jobs(cls, value):
        if value == 0 or value < -1:
            raise ValueError("n_jobs must be a positive number of workers or -1")
        return value

    def resolve_paths(self, base):
        """Return a copy with relative paths made absolute against ``base``."""
        base = Path(base)
        updates = {
            name: (base / getattr(self, name)).resolve()
            for name in ("bids_root", "output_dir")
            if not getattr(self, name).is_absolute()
        }
        atlas = self.fmri.rois.atlas
        if isinstance(atlas, Path) and not atlas.is_absolute():
            rois = self.fmri.rois.model_copy(update={"atlas": (base / atlas).resolve()})
            updates["fmri"] = self.fmri.model_copy(update={"rois": rois})
        return self.model_copy(update=updates)

    def to_dict(self):
        """Plain JSON-serialisable dict of every setting (defaults included)."""
        return json.loads(self.model_dump_json())

    def hash(self):
        """SHA-256 of the canonical JSON of every setting."""
        canonical = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _known_keys(model, location):
    """Field names accepted at a location of the nested config."""
    for part in location:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _explain(error, source):
    """Turn a pydantic ValidationError into one readable ConfigError."""
    lines = []
    for item in error.errors():
        location = [str(p) for p in item["loc"]]
        where = ".".join(location) or "<top level>"
        if item["type"] == "extra_forbidden":
            known = _known_keys(PipelineConfig, location[:-1])
            hint = suggest(location[-1], known)
            lines.append(
                f"unknown key {where!r}.{hint} Valid keys here: {', '.join(known)}"
            )
        elif item["type"] == "missing":
            lines.append(f"required key {where!r} is missing")
        else:
            lines.append(f"{where}: {item['msg']} (got {item.get('input')!r})")
    return ConfigError(
        f"Invalid configuration in {source}:\n  - " + "\n  - ".join(lines)
    )


def make_config(source="<dict>", base_dir=None, **settings):
    """Validate settings into a :class:`PipelineConfig`.

    Parameters
    ----------
    source : str
        Where the settings came from, for error messages.
    base_dir : path-like | None
        Folder against which relative paths are resolved (default: the
        current working directory).
    **settings
        Config keys and values.

    Returns
    -------
    config : PipelineConfig
        Validated, with absolute paths.
    """
    try:
        config = PipelineConfig(**settings)
    except ValidationError as err:
        raise _explain(err, source) from None
    return config.resolve_paths(base_dir if base_dir is not None else Path.cwd())


def read_config_file(path):
    """Read a YAML config's settings without validating them.

    Parameters
    ----------
    path : path-like
        YAML file.

    Returns
    -------
    settings : dict
        Its keys and values.
    base_dir : pathlib.Path
        Its folder, against which relative paths in it are resolved.

    Raises
    ------
    ConfigError
        If the file is missing, not YAML or not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Config file {path} does not exist.")
    try:
        settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(settings, dict):
        raise ConfigError(
            f"{path}: a config must be a mapping of keys to values, "
            f"got {type(settings).__name__}"
        )
    return settings, path.parent.resolve()


def load_config(path):
    """Read and validate a YAML pipeline config.

    Parameters
    ----------
    path : path-like
        YAML file. Relative paths inside it are resolved against its folder.

    Returns
    -------
    config : PipelineConfig

    Raises
    ------
    ConfigError
        If the file is missing, not YAML, not a mapping, or has unknown keys
        or invalid values; the message lists every problem.
    """
    settings, base_dir = read_config_file(path)
    return make_config(str(path), base_dir=base_dir, **settings)


def describe_settings():
    """Document every setting as commented YAML (type, default, description).

    Returns
    -------
    text : str
        A config template listing every key with its default.
    """
    lines = ["# neuromark pipeline configuration: every setting and its default"]

    def emit(model, indent):
        for name, field in model.model_fields.items():
            pad = "  " * indent
            lines.append(f"{pad}# {field.description}")
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                lines.append(f"{pad}{name}:")
                emit(annotation, indent + 1)
                continue
            if field.is_required():
                value = "<required>"
            else:
                default = field.get_default(call_default_factory=True)
                value = json.dumps(
                    list(default) if isinstance(default, tuple) else default
                )
            lines.append(f"{pad}{name}: {value}")

    emit(PipelineConfig, 0)
    return "\n".join(lines) + "\n"
