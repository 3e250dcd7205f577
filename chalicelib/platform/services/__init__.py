"""Platform use cases, written against platform.ports and core.ports."""
