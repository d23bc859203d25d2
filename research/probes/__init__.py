"""The probes: one folder each, run from the repository root as ``python -m research.probes.<probe>.<script>``."""
