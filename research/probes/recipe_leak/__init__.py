"""The recipe_leak probe (see its README.md)."""
