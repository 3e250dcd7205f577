"""HTTP conventions every context's views use: the endpoint decorator, problems, middleware."""
