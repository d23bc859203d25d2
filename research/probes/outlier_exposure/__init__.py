"""The outlier_exposure probe (see its README.md)."""
