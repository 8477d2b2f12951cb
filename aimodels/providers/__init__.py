"""One provider per kind behind one Protocol: how a kind is read, diffed (through its FieldPolicy)
and written. Providers never choose actions; the planner does."""
