"""The augmentation probe (see its README.md)."""
