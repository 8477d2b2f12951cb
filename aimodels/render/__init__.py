"""Output for people and machines, rendered from values and events (plans, diagnostics,
tables). The engine never prints; this package and cli/ do."""
