"""The embedded default: the whole platform on one machine. Never imported by chalicelib."""
