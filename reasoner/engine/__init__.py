"""Reasoning over one validated patient: shapes, feature rules, OWL 2 RL, the recommendation rules."""
