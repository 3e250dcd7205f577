"""Platform routes: one module per resource."""
