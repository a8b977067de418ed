"""Base class of every typed settings model."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Settings that refuse unknown keys, are immutable and validate defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
