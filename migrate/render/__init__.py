"""Rendering reports for people (tables) and for programs (JSON, YAML)."""
