"""The perturbation probe (see its README.md)."""
