"""The pu probe (see its README.md)."""
