"""The audit trail: who did what, when, from which state to which, and why."""
