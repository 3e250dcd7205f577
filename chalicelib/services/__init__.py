"""Use-case services: they depend on ports only."""
