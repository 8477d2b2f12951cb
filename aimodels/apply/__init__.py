"""The graph executor: carries out exactly the changes a Plan lists, dependencies first, with
ETag preconditions, bounded parallelism and events for the renderer."""
