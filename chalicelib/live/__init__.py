"""Live streams: api.video's /live-streams on Amazon IVS low-latency channels (docs/live.md)."""
