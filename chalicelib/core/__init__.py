"""The shared kernel: HTTP conventions, errors, access, pagination, ids, clock, the table, config."""
