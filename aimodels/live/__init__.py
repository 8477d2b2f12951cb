"""Reading live Azure state for planning, in as few round trips as possible (LIST per parent
collection, in parallel). The only I/O during planning."""
