"""Internal helpers shared by all neuromark layers (logging, checks, files)."""
