"""HTTP routes, one module per area; ``deps`` holds the dependency aliases they share."""
