"""The core: desired state, diff, plan, safety, apply. ``diff`` is pure; ``apply`` writes."""
