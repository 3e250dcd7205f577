"""Live routes: one module per resource."""
