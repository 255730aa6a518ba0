"""Running programs with the hook: the command line, the runner, and start-up by environment."""
