"""The cohort store: backends, batch evaluation, backup, the writer lock, research queries."""
