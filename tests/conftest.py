"""Shared fixtures: small seeded studies, simulated once per test session."""

import re
import shutil

import pandas as pd
import pytest

from neuromark.simulation import simulate_study


@pytest.fixture(scope="session")
def study_root(tmp_path_factory):
    """Six participants (two per arm), both modalities, short recordings."""
    root = tmp_path_factory.mktemp("studies") / "small"
    return simulate_study(
        root, n_participants=6, seed=7, eeg_duration=60.0, fmri_volumes=80, n_jobs=1
    )


@pytest.fixture
def study_copy(study_root, tmp_path):
    """A private copy of ``study_root`` that a test may damage."""
    return shutil.copytree(study_root, tmp_path / "study")


def write_layout(root, files, participants=None):
    """Create an empty-file BIDS layout (discovery reads only names)."""
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    if participants is None:
        ids = sorted(
            {m for name in files for m in re.findall(r"(sub-[a-zA-Z0-9]+)/", name)}
        )
        participants = pd.DataFrame(
            {
                "participant_id": ids,
                "intervention": "TENS",
                "pain_pre": 6.0,
                "pain_post": 3.0,
            }
        )
    participants.to_csv(root / "participants.tsv", sep="\t", index=False, na_rep="n/a")
    return root
