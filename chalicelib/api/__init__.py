"""HTTP layer: one Blueprint per resource; views parse, call one service and map the result."""
