"""Research scripts kept for provenance; not installed with swift-hydra (see research/README.md)."""
