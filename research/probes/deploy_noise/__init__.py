"""The deploy_noise probe (see its README.md)."""
