from pathlib import Path

import pytest
import yaml

from neuromark.exceptions import ConfigError
from neuromark.pipeline import (
    PipelineConfig,
    describe_settings,
    load_config,
    make_config,
)

PIPELINES = sorted((Path(__file__).parents[1] / "pipelines").glob("*.yaml"))


def _write(tmp_path, settings):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def test_two_keys_are_a_complete_config(tmp_path):
    config = load_config(_write(tmp_path, {"bids_root": "data", "output_dir": "out"}))
    # relative paths are resolved against the config file's folder
    assert config.bids_root == (tmp_path / "data").resolve()
    assert config.output_dir == (tmp_path / "out").resolve()
    assert config.responder_threshold == 0.30 and config.task == "rest"
    assert (config.sessions.pre, config.sessions.post) == ("pre", "post")
    assert config.modalities == ("eeg", "fmri") and config.on_error == "continue"


def test_unknown_key_suggests_the_right_one(tmp_path):
    path = _write(tmp_path, {"bids_root": "d", "output_dir": "o", "n_job": 2})
    with pytest.raises(
        ConfigError, match=r"unknown key 'n_job'. Did you mean 'n_jobs'\?"
    ) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_unknown_nested_key_suggests_within_its_section(tmp_path):
    path = _write(
        tmp_path, {"bids_root": "d", "output_dir": "o", "sessions": {"pree": "a"}}
    )
    with pytest.raises(ConfigError, match=r"'sessions.pree'. Did you mean 'pre'\?"):
        load_config(path)


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"bids_root": None}, r"required key 'bids_root' is missing"),
        (
            {"responder_threshold": 30},
            r"responder_threshold: Input should be less than 1",
        ),
        ({"modalities": ["meg"]}, r"modalities.0: Input should be 'eeg' or 'fmri'"),
        ({"n_jobs": 0}, r"n_jobs must be a positive number of workers or -1"),
        ({"sessions": {"pre": "a", "post": "a"}}, r"labels must differ"),
        ({"on_error": "ignore"}, r"on_error: Input should be 'continue' or 'abort'"),
    ],
)
def test_invalid_values_are_explained(tmp_path, settings, match):
    merged = {"bids_root": "d", "output_dir": "o"} | settings
    merged = {key: value for key, value in merged.items() if value is not None}
    with pytest.raises(ConfigError, match=match):
        load_config(_write(tmp_path, merged))


def test_files_that_are_not_configs(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(tmp_path / "list.yaml")
    (tmp_path / "bad.yaml").write_text("bids_root: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")


@pytest.mark.parametrize("path", PIPELINES, ids=[p.name for p in PIPELINES])
def test_shipped_pipelines_are_valid(path):
    config = load_config(path)
    assert config.bids_root.is_absolute()


def test_every_setting_is_documented_with_its_default():
    text = describe_settings()
    for name, field in PipelineConfig.model_fields.items():
        assert f"\n{name}:" in text
        assert field.description
    assert "responder_threshold: 0.3" in text and "bids_root: <required>" in text
    # the documented template is itself a valid config once paths are filled in
    settings = yaml.safe_load(text.replace("<required>", "/tmp/x"))
    assert (
        make_config(**settings).to_dict()
        == make_config(bids_root="/tmp/x", output_dir="/tmp/x").to_dict()
    )


def test_hash_changes_with_any_setting():
    base = make_config(bids_root="/d", output_dir="/o")
    assert base.hash() == make_config(bids_root="/d", output_dir="/o").hash()
    assert (
        base.hash()
        != make_config(bids_root="/d", output_dir="/o", random_state=1).hash()
    )


def test_atlas_path_is_relative_to_the_config(tmp_path):
    path = _write(
        tmp_path,
        {
            "bids_root": "d",
            "output_dir": "o",
            "fmri": {"rois": {"atlas": "my_rois.tsv"}},
        },
    )
    config = load_config(path)
    assert config.fmri.rois.atlas == (tmp_path / "my_rois.tsv").resolve()
    assert (
        make_config(bids_root="/d", output_dir="/o").fmri.rois.atlas
        == "pain_modulation"
    )
