"""The semantic models of both APIs and the equivalence engine."""
