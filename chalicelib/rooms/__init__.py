"""Real-time rooms: rooms on IVS real-time stages, role-bound join tokens (docs/rooms.md)."""
