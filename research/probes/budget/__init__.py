"""The budget probe (see its README.md)."""
