"""Every command-line option, declared once, and the groups several commands share.

A group is a frozen dataclass whose fields are options; a command asks for it by annotating a
parameter with it (``gate: GateOptions``) and is decorated with :func:`grouped`, which lays
the group's options into the command's signature for Typer and hands the command one
instance. So `gate`, `compare` and `release` take the same gate flags, with the same meaning,
from one declaration, and each group is built by keyword, never by position.

Fields named like a :class:`flamediff.config.Settings` field override that setting
(:func:`apply_to`): a flag left out keeps what ``[tool.flamediff]`` or the default says.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from flamediff import vocabulary as default
from flamediff.capture.runners import PROFILERS
from flamediff.config import Settings
from flamediff.vocabulary import Metric, Normalisation, SortKey, TableFormat

ArchiveOption = Annotated[
    str | None,
    typer.Option(
        "--archive",
        help="Archive folder, or a URL such as s3://bucket/prefix. Default: "
        "$FLAMEDIFF_ARCHIVE, then `archive` in [tool.flamediff], then .flamediff/ here.",
        show_default=False,
    ),
]
LineLevelOption = Annotated[
    bool,
    typer.Option(
        "--line-level",
        help="Tell lines of a function apart. Off by default, because line numbers shift "
        "whenever code above them moves between releases.",
    ),
]
MinWidthOption = Annotated[
    float,
    typer.Option(
        "--minwidth",
        help="Frames narrower than this percent of the width are not drawn (their time still "
        "counts in their parents), so the SVG stays small whatever the profile's size.",
    ),
]
MetricOption = Annotated[
    Metric,
    typer.Option(
        "--metric",
        help="self: time in the function's own code, so a regression lands on the function "
        "that changed; total: inclusive time, which also moves every caller.",
    ),
]
TableFormatOption = Annotated[
    TableFormat, typer.Option("--format", help="table for people, json/csv for machines.")
]
SortOption = Annotated[
    SortKey,
    typer.Option(
        "--sort",
        help="impact: seconds per run gained or lost (a +8% change of a 30% function before "
        "+50% of a 0.1% one); delta, share, q, name.",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace a release of the same name.")]
BaseArgument = Annotated[
    str | None,
    typer.Argument(help="Base release. Default: the release captured before HEAD."),
]
HeadArgument = Annotated[
    str | None, typer.Argument(help="Head release. Default: the newest release.")
]
AnchorOption = Annotated[
    str | None,
    typer.Option(
        "--anchor",
        help="Also measure every function's change since this older release, with a trend "
        "test across all releases in between: a function 1.5% slower in each of ten releases "
        "passes every step but is 16% slower. A release name, or -N for N releases back. "
        "Default: `anchor` in [tool.flamediff], else the last release "
        "accepted with a justification, else 10 releases back.",
        show_default=False,
    ),
]
CommandArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="The load: `-- python load.py ARGS`. Default: `load` in [tool.flamediff].",
        show_default=False,
    ),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisOptions:
    """What a comparison compares and how: the options of `diff`, `gate`, `compare`, `release`."""

    metric: MetricOption = default.METRIC
    normalise: Annotated[
        Normalisation | None,
        typer.Option(
            "--normalise",
            "--normalize",
            help="auto (default): measured where every run recorded its CPU time and the "
            "calibration probe (every py-spy capture does), else median-ratio, and the report "
            "says which. measured: each function's share of the run times the run's CPU time, "
            "over the machine's speed from the probe. median-ratio: scale each run by the "
            "median ratio over the functions (assumes most functions did not change). share: "
            "fraction of each run. absolute: seconds per run, right only for side-by-side "
            "captures (`flamediff compare`).",
            show_default=False,
        ),
    ] = None
    no_stats: Annotated[
        bool,
        typer.Option(
            "--no-stats",
            help="Compare with fewer runs than the test needs: deltas only, nothing is "
            "significant, and the gate can warn but never block.",
        ),
    ] = False
    line_level: LineLevelOption = False


@dataclass(frozen=True, slots=True, kw_only=True)
class GateOptions:
    """The gate's flags: the options of `gate`, `compare` and `release`."""

    block: Annotated[
        float | None,
        typer.Option(
            "--block",
            help=f"Block at this slowdown (a fraction; default {default.BLOCK:g} = "
            f"+{100 * default.BLOCK:g}%).",
            show_default=False,
        ),
    ] = None
    warn: Annotated[
        float | None,
        typer.Option(
            "--warn",
            help=f"Warn at this slowdown (default {default.WARN:g}).",
            show_default=False,
        ),
    ] = None
    alpha: Annotated[
        float | None,
        typer.Option(
            "--alpha",
            help=f"False discovery rate of the test (default {default.ALPHA:g}).",
            show_default=False,
        ),
    ] = None
    min_share: Annotated[
        float | None,
        typer.Option(
            "--min-share",
            help="Functions below this share of the release never block "
            f"(default {default.MIN_SHARE:g}).",
            show_default=False,
        ),
    ] = None
    hot: Annotated[
        list[str] | None,
        typer.Option(
            "--hot",
            help="Glob of hot-path functions; repeat it. Where given, only these block; the "
            "others warn.",
        ),
    ] = None
    justify: Annotated[
        str | None,
        typer.Option(
            "--justify",
            help="Accept a blocked release with this written reason; it is recorded with the "
            "head release and shown in every later report.",
        ),
    ] = None
    justify_file: Annotated[
        Path | None,
        typer.Option("--justify-file", help="The same, with the reason read from a file."),
    ] = None
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the Markdown report here.")
    ] = None
    anchor: AnchorOption = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureOptions:
    """How the load is run: the options of `capture`, `compare` and `release`."""

    runs: Annotated[
        int | None,
        typer.Option(
            "--runs",
            help=f"Counted runs (default {default.RUNS}): one run is a coin flip; the test "
            f"needs at least {default.MIN_RUNS}.",
            show_default=False,
        ),
    ] = None
    max_runs: Annotated[
        int | None,
        typer.Option(
            "--max-runs",
            help=f"compare and release: runs a side the capture may grow to when its first "
            f"look leaves a hot function undecided (default {default.MAX_RUNS_FACTOR}x --runs; "
            "equal to --runs: never more). The report says why it grew.",
            show_default=False,
        ),
    ] = None
    warmup: Annotated[
        int | None,
        typer.Option(
            "--warmup",
            help=f"Runs made first and thrown away (default {default.WARMUP}).",
            show_default=False,
        ),
    ] = None
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            help=f"Samples per second (default {default.RATE_HZ:g}). More samples shrink each "
            "function's noise floor; 500 Hz costs the load about 5%.",
            show_default=False,
        ),
    ] = None
    profiler: Annotated[
        str | None,
        typer.Option(
            "--profiler",
            help=f"The sampling profiler that runs the load: {', '.join(PROFILERS)} (default "
            f"{default.PROFILER}; cpu-timer samples the load's CPU time from inside it, without "
            "ptrace).",
            show_default=False,
        ),
    ] = None
    subprocesses: Annotated[
        bool, typer.Option("--subprocesses", help="Also profile child processes of the load.")
    ] = False
    native: Annotated[
        bool, typer.Option("--native", help="Include native (C/C++/Rust) frames.")
    ] = False
    calls: Annotated[
        bool | None,
        typer.Option(
            "--calls/--no-calls",
            help="Run the load once more under a tracer and archive its exact calls per "
            "caller, so a regression reads 'called 2.9x as often' or 'called as often, +40% "
            "time per call'. The traced run is not timed.",
            show_default=False,
        ),
    ] = None
    force: ForceOption = False


def apply_to(settings: Settings, *groups: object) -> Settings:
    """``settings`` with every option of ``groups`` that was given and names a setting."""
    names = {field.name for field in fields(Settings)}
    overrides: dict[str, Any] = {}
    for group in groups:
        for field in fields(group):  # type: ignore[arg-type]
            value = getattr(group, field.name)
            if field.name in names and value is not None:
                overrides[field.name] = tuple(value) if isinstance(value, list) else value
    return dataclasses.replace(settings, **overrides)


Command = TypeVar("Command", bound=Callable[..., None])


def grouped(command: Command) -> Command:
    """Lay the options of each group parameter of ``command`` into its signature for Typer.

    A parameter annotated with an option group (a dataclass) is replaced by the group's fields,
    as keyword-only parameters named ``<parameter>__<field>``; the wrapper collects them back
    into one instance of the group before calling ``command``.
    """
    signature = inspect.signature(command, eval_str=True)
    parameters: list[inspect.Parameter] = []
    groups: dict[str, tuple[type[Any], list[str]]] = {}
    for parameter in signature.parameters.values():
        group = parameter.annotation
        if not (isinstance(group, type) and dataclasses.is_dataclass(group)):
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))
            continue
        hints = typing.get_type_hints(group, include_extras=True)
        members = [field.name for field in fields(group)]
        parameters += [
            inspect.Parameter(
                f"{parameter.name}__{field.name}",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=hints[field.name],
                default=field.default,
            )
            for field in fields(group)
        ]
        groups[parameter.name] = (group, members)

    @functools.wraps(command)
    def with_groups(**arguments: Any) -> None:
        for name, (group, members) in groups.items():
            arguments[name] = group(**{m: arguments.pop(f"{name}__{m}") for m in members})
        command(**arguments)

    with_groups.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters
    )
    with_groups.__annotations__ = {p.name: p.annotation for p in parameters}
    return typing.cast(Command, with_groups)
