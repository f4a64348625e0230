"""Rewriting files: documents replaced in place with every other byte and comment kept,
kustomizations listing split-out files, and file changes written atomically under a journal."""
