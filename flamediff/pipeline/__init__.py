"""The use cases: what a command does, as plain functions that return values.

Each module is one step of the release pipeline, driven by the CLI, by tests, or by any other
tool, without Typer:

- :mod:`~flamediff.pipeline.pair`: which two releases to compare, loaded for analysis;
- :mod:`~flamediff.pipeline.judge`: compare them, gate the head, record a justification;
- :mod:`~flamediff.pipeline.reports`: the reports and pictures, in text and as files;
- :mod:`~flamediff.pipeline.capture`: run the load through a runner and archive the runs.

Nothing here prints or exits: progress and remarks go to callbacks or come back as values,
and the CLI decides how people see them.
"""
