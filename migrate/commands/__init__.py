"""The commands as library calls, one module per command: each opens the workspace, runs the
stages below it, and returns what the command line renders."""
