"""One provider per kind behind one Protocol (``aimodels.plan.provider``): how a kind is mapped
and diffed (through its FieldPolicy), and where it is listed, how it is written and how it is
exported, as values the live reader, the executor and the exporter act on. Providers never do
I/O and never choose actions; the planner does."""
