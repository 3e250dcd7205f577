"""VOD routes: one module per resource."""
