"""HTTP views of the playback context."""
