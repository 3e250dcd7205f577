"""Videoplane runtime package: everything that ships to Lambda."""
