"""Pipeline files, their resolution and the runner: the one place that wires the stages together."""
