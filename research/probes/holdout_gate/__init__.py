"""The holdout_gate probe (see its README.md)."""
