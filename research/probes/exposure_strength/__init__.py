"""The exposure_strength probe (see its README.md)."""
