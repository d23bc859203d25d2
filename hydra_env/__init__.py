"""hydra_env package."""
