"""``hrsync serve``: a resident service that runs integrations on their schedules and says how
it is doing (health, readiness, Prometheus metrics)."""
