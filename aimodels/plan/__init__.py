"""The Plan value and the pure planner: desired + live + state in, a deterministic Plan out.
No clock, no network, no environment."""
