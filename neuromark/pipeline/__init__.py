"""Pipeline: typed configuration, orchestration and provenance."""

from .config import PipelineConfig, describe_settings, load_config, make_config
from .provenance import package_versions
from .run import STEPS, run_pipeline

__all__ = [
    "STEPS",
    "PipelineConfig",
    "describe_settings",
    "load_config",
    "make_config",
    "package_versions",
    "run_pipeline",
]
