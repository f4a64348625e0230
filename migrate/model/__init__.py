"""Typed, immutable models of the alpha and beta security resources, the inventory they apply
to, and how alpha targets resolve in it."""
