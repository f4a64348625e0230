"""Typed, immutable models of the alpha and beta security resources."""
