"""Views of the analytics context."""
