"""Hold flamediff's verdicts against the ground truth of each trial.

For every pair and both ways of capturing it (`release`: each version captured on its own,
one after the other; `compare`: the two interleaved), four questions:

1. **Gate.** The truth says *block* when the load's CPU time per call (timeit, median of the
   interleaved calls) rose by more than BLOCK, or a hot function (at least HOT_SHARE of
   either version's profiled self time) really rose by more than BLOCK in cProfile: its
   median by more than BLOCK, and every cProfile pass of the head above every pass of the
   base (on a busy machine one pass can be off by tens of percent). Did flamediff's gate say
   the same?
2. **Direction.** Does every significant row move the way cProfile's self time moves? A row
   agrees when the signs match and cProfile's change is beyond UNCHANGED; it disagrees when
   cProfile moved the other way by more than UNCHANGED.
3. **False alarms.** Is a function that cProfile shows unchanged (within +-UNCHANGED) reported
   significant?
4. **Blame.** When flamediff blocks, does the block message name a function whose code
   changed in the source diff and explains the change (the pair's `culprits`)?

cProfile's self time here is a sampler's self time: truth.py adds C functions' time to their
Python callers. cProfile charges a cost per call, so a function called more often looks a
little slower to it than it is; the timeit numbers carry no such bias.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

from benchmarks.trials.definitions import Pair, Trial

BLOCK = 0.10  # flamediff's default --block
HOT_SHARE = 0.01  # flamediff's default --min-share
UNCHANGED = 0.05  # within this, cProfile calls a function unchanged
MODES = ("release", "compare")


def _change(base: float, head: float) -> float | None:
    return head / base - 1.0 if base > 0 else None


def function_truth(base: dict[str, Any], head: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per function: self seconds and calls in each version, the change, the larger share."""
    base_total = sum(row["self_s"] for row in base["functions"].values()) or 1.0
    head_total = sum(row["self_s"] for row in head["functions"].values()) or 1.0
    rows: dict[str, dict[str, Any]] = {}
    for name in base["functions"].keys() | head["functions"].keys():
        before = base["functions"].get(name, {"self_s": 0.0, "calls": 0, "cumtime_s": 0.0})
        after = head["functions"].get(name, {"self_s": 0.0, "calls": 0, "cumtime_s": 0.0})
        rows[name] = {
            "base_self_s": before["self_s"],
            "head_self_s": after["self_s"],
            "base_cum_s": before["cumtime_s"],
            "head_cum_s": after["cumtime_s"],
            "base_calls": before["calls"],
            "head_calls": after["calls"],
            "change": _change(before["self_s"], after["self_s"]),
            "calls_change": _change(before["calls"], after["calls"]),
            "share": max(before["self_s"] / base_total, after["self_s"] / head_total),
            "consistent_rise": min(after.get("self_passes", [after["self_s"]]))
            > max(before.get("self_passes", [before["self_s"]])),
            "consistent_fall": max(after.get("self_passes", [after["self_s"]]))
            < min(before.get("self_passes", [before["self_s"]])),
        }
    return rows


def qualname(function: str) -> str:
    return function.split(" (", 1)[0]


def names(text: str, culprit: str) -> bool:
    """Whether `text` names the culprit: its full key, or its qualified name as a word, or a
    comprehension or closure defined in it (`Tokenizer.__init__.<locals>.<dictcomp>` is
    `Tokenizer.__init__`'s own code)."""
    if culprit in text:
        return True
    name = qualname(culprit)
    spellings = (name, name.replace("_", "\\_"))
    for part in text.replace("->", " ").replace("→", " ").split():
        word = part.strip("`*_,.;:()")
        if word in spellings:
            return True
        if any(part.startswith(f"{spelling}.<locals>") for spelling in spellings):
            return True
        if any(part.startswith(f"{spelling}.&lt;locals&gt;") for spelling in spellings):
            return True
    return False


def judge_rows(rows: list[dict[str, Any]], truth: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every significant row of flamediff's report against cProfile."""
    agree: list[dict[str, Any]] = []
    disagree: list[dict[str, Any]] = []
    false_alarm: list[dict[str, Any]] = []
    no_truth: list[dict[str, Any]] = []
    for row in rows:
        if row["status"] == "load" or not row["significant"]:
            continue
        entry = {
            "function": row["function"],
            "flamediff_pct": row["delta_pct"],
            "status": row["status"],
        }
        known = truth.get(row["function"])
        change = None if known is None else known["change"]
        if known is None or (change is None and row["status"] != "new"):
            no_truth.append(entry)
            continue
        entry["truth_pct"] = None if change is None else 100 * change
        rising = row["impact_s"] > 0
        if change is None:  # new in the head: cProfile agrees when the head has it
            (agree if known["head_self_s"] > 0 and rising else disagree).append(entry)
        elif abs(change) <= UNCHANGED:
            false_alarm.append(entry)
        elif (change > 0) == rising:
            agree.append(entry)
        else:
            disagree.append(entry)
    return {"agree": agree, "disagree": disagree, "false_alarm": false_alarm, "no_truth": no_truth}


def missed(rows: list[dict[str, Any]], truth: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Hot functions that every cProfile pass shows moving by more than BLOCK the same way,
    yet not significant in flamediff (on a busy machine one pass alone proves nothing)."""
    significant = {row["function"] for row in rows if row["significant"]}
    out = []
    for name, known in truth.items():
        change = known["change"]
        consistent = known["consistent_rise"] if (change or 0) > 0 else known["consistent_fall"]
        hot_move = (
            known["share"] >= HOT_SHARE
            and change is not None
            and abs(change) > BLOCK
            and consistent
        )
        if hot_move and name not in significant:
            shown = next((row for row in rows if row["function"] == name), None)
            out.append(
                {
                    "function": name,
                    "truth_pct": 100 * change,
                    "flamediff_pct": None if shown is None else shown["delta_pct"],
                }
            )
    return sorted(out, key=lambda item: (-abs(item["truth_pct"]), item["function"]))


def score_pair(trial: Trial, pair: Pair, data: dict[str, Any], docs: Path) -> dict[str, Any]:
    base, head = data["truth"][pair.base], data["truth"][pair.head]
    truth = function_truth(base, head)
    load_change = statistics.median(head["cpu_s"]) / statistics.median(base["cpu_s"]) - 1
    wall_change = statistics.median(head["wall_s"]) / statistics.median(base["wall_s"]) - 1
    regressed = sorted(
        name
        for name, known in truth.items()
        if known["share"] >= HOT_SHARE
        and known["change"] is not None
        and known["change"] > BLOCK
        and known["consistent_rise"]
    )
    expected_block = load_change > BLOCK or bool(regressed)
    diff = data["source_diff"][f"{pair.base}->{pair.head}"]
    top = sorted(truth, key=lambda name: -truth[name]["share"])[:12]
    result: dict[str, Any] = {
        "trial": trial.name,
        "base": pair.base,
        "head": pair.head,
        "kind": pair.kind,
        "story": pair.story,
        "culprits": list(pair.culprits),
        "source_diff": {key: len(value) for key, value in diff.items()},
        "changed_functions": diff["changed"] + diff["added"],
        "truth": {
            "load_cpu_change_pct": 100 * load_change,
            "load_wall_change_pct": 100 * wall_change,
            "base_cpu_s": statistics.median(base["cpu_s"]),
            "head_cpu_s": statistics.median(head["cpu_s"]),
            "hot_regressed": regressed,
            "expected_block": expected_block,
            "top": [
                {"function": name, **truth[name], "code_changed": name in diff["changed"]}
                for name in top
            ],
        },
        "modes": {},
    }
    for mode in MODES:
        folder = docs / trial.name / f"{mode}-{pair.base}-{pair.head}"
        report_path = folder / "report.json"
        exit_code = data["exits"].get(
            f"release-{pair.head}" if mode == "release" else f"compare-{pair.base}-{pair.head}"
        )
        if not report_path.exists():
            result["modes"][mode] = {"exit_code": exit_code, "error": "no report.json"}
            continue
        report = json.loads(report_path.read_text())
        rows = report["rows"]
        gate = report["gate"] or {}
        load_row = next(row for row in rows if row["status"] == "load")
        blocked = gate.get("verdict") == "block"
        messages = [
            f"{finding['function']}: {finding['reason']}" for finding in gate.get("blocking", [])
        ]
        rows_by_name = {row["function"]: row for row in rows}
        judged = judge_rows(rows, truth)
        result["modes"][mode] = {
            "exit_code": exit_code,
            "folder": folder.relative_to(docs.parent).as_posix(),
            "normalisation": report["normalisation"],
            "verdict": gate.get("verdict"),
            "blocked": blocked,
            "verdict_ok": blocked == expected_block,
            "load_pct": load_row["delta_pct"],
            "load_significant": load_row["significant"],
            "block_messages": messages,
            "warnings": [
                f"{finding['function']}: {finding['reason']}"
                for finding in gate.get("warnings", [])
            ],
            "capture_warnings": gate.get("capture_warnings", []),
            "names_culprit": (
                any(names(message, culprit) for message in messages for culprit in pair.culprits)
                if blocked and pair.culprits
                else None
            ),
            "rows": judged,
            "missed": missed(rows, truth),
            "top": {
                name: {
                    key: rows_by_name[name][key]
                    for key in ("delta_pct", "q_value", "significant", "status")
                }
                for name in top
                if name in rows_by_name
            },
        }
    return result


def score_all(trials: list[Trial] | tuple[Trial, ...], out: Path, docs: Path) -> dict[str, Any]:
    """Every pair of every trial that has been run (out/<trial>/trial.json exists)."""
    pairs: list[dict[str, Any]] = []
    config: dict[str, Any] = {}
    for trial in trials:
        source = out / trial.name / "trial.json"
        if not source.exists():
            continue
        data = json.loads(source.read_text())
        config = data["config"]
        pairs.extend(score_pair(trial, pair, data, docs) for pair in trial.pairs)
    return {
        "config": config,
        "thresholds": {"block": BLOCK, "hot_share": HOT_SHARE, "unchanged": UNCHANGED},
        "pairs": pairs,
    }


def _pct(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:+.1f}%"


def _gate_word(blocked: bool) -> str:
    return "block" if blocked else "pass"


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    header = [
        "trial",
        "pair",
        "kind",
        "mode",
        "load CPU (timeit)",
        "load (flamediff)",
        "gate: truth",
        "gate: flamediff",
        "gate ok",
        "sig. rows agree/disagree/false alarm/no truth",
        "block names culprit",
    ]
    lines = [header]
    for pair in results["pairs"]:
        for mode, judged in pair["modes"].items():
            if "error" in judged:
                lines.append(
                    [pair["trial"], f"{pair['base']}→{pair['head']}", pair["kind"], mode]
                    + [f"error: {judged['error']} (exit {judged['exit_code']})"]
                    + [""] * 6
                )
                continue
            rows = judged["rows"]
            culprit = judged["names_culprit"]
            lines.append(
                [
                    pair["trial"],
                    f"{pair['base']}→{pair['head']}",
                    pair["kind"],
                    mode,
                    _pct(pair["truth"]["load_cpu_change_pct"]),
                    _pct(judged["load_pct"]) + (" *" if judged["load_significant"] else ""),
                    _gate_word(pair["truth"]["expected_block"]),
                    str(judged["verdict"]),
                    "yes" if judged["verdict_ok"] else "**NO**",
                    " / ".join(
                        str(len(rows[key]))
                        for key in ("agree", "disagree", "false_alarm", "no_truth")
                    ),
                    "—" if culprit is None else ("yes" if culprit else "**NO**"),
                ]
            )
    return lines


def render_table(results: dict[str, Any]) -> str:
    lines = table_rows(results)
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    )


def _markdown_table(lines: list[list[str]]) -> str:
    escaped = [[cell.replace("|", "\\|") for cell in line] for line in lines]
    out = ["| " + " | ".join(escaped[0]) + " |", "|" + "---|" * len(escaped[0])]
    out += ["| " + " | ".join(line) + " |" for line in escaped[1:]]
    return "\n".join(out)


def _md(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def render_markdown(results: dict[str, Any]) -> str:
    """docs/trials/summary.md: the scores, then per pair the truth beside flamediff's rows."""
    config = results["config"]
    thresholds = results["thresholds"]
    parts = [
        "# Trials: flamediff against the ground truth (generated by `make trials`)",
        "",
        f"Capture: {config.get('runs')} runs + {config.get('warmup')} warm-up at "
        f"{config.get('rate')} Hz per version; timeit: {config.get('timeit_rounds')} interleaved "
        f"processes x {config.get('timeit_repeat')} calls; cProfile: median of "
        f"{config.get('profile_passes')} passes. Block at +{thresholds['block']:.0%}, hot from "
        f"{thresholds['hot_share']:.0%} share, unchanged within ±{thresholds['unchanged']:.0%}.",
        "",
        _markdown_table(table_rows(results)),
        "",
    ]
    for pair in results["pairs"]:
        truth = pair["truth"]
        parts += [
            f"## {pair['trial']} {pair['base']} → {pair['head']} ({pair['kind']})",
            "",
            pair["story"],
            "",
            f"Source diff: {pair['source_diff']['changed']} functions changed, "
            f"{pair['source_diff']['added']} added, {pair['source_diff']['removed']} removed. "
            f"Culprits: {', '.join(f'`{name}`' for name in pair['culprits']) or 'none'}.",
            "",
            f"Load CPU per call (timeit): {truth['base_cpu_s']:.2f} s → "
            f"{truth['head_cpu_s']:.2f} s "
            f"({_pct(truth['load_cpu_change_pct'])}; wall {_pct(truth['load_wall_change_pct'])}). "
            f"Hot functions regressed >{thresholds['block']:.0%} in cProfile: "
            f"{', '.join(f'`{name}`' for name in truth['hot_regressed']) or 'none'}.",
            "",
        ]
        header = [
            "function",
            "share",
            "self (cProfile)",
            "calls",
            "code changed",
            *[f"{mode}" for mode in pair["modes"]],
        ]
        lines = [header]
        for row in truth["top"]:
            cells = [
                _md(row["function"]),
                f"{row['share']:.1%}",
                _pct(None if row["change"] is None else 100 * row["change"]),
                _pct(None if row["calls_change"] is None else 100 * row["calls_change"]),
                "yes" if row["code_changed"] else "",
            ]
            for judged in pair["modes"].values():
                shown = judged.get("top", {}).get(row["function"])
                if shown is None:
                    cells.append("absent")
                else:
                    mark = " *" if shown["significant"] else ""
                    cells.append(_pct(shown["delta_pct"]) + mark)
            lines.append(cells)
        parts += [_markdown_table(lines), "", "`*`: significant in flamediff.", ""]
        for mode, judged in pair["modes"].items():
            if "error" in judged:
                parts += [f"**{mode}**: {judged['error']} (exit {judged['exit_code']})", ""]
                continue
            folder = judged["folder"].removeprefix("trials/")
            parts += [
                f"**{mode}** ([report]({folder}/report.md), "
                f"[flame graph]({folder}/flamegraph.svg), "
                f"![]({folder}/flamegraph.png)): verdict {judged['verdict']}, exit "
                f"{judged['exit_code']}, normalisation {judged['normalisation']}.",
                "",
            ]
            for message in judged["block_messages"]:
                parts.append(f"- blocks: {_md(message)}")
            for kind in ("disagree", "false_alarm", "no_truth"):
                for entry in judged["rows"][kind]:
                    parts.append(
                        f"- {kind.replace('_', ' ')}: `{entry['function']}` flamediff "
                        f"{_pct(entry['flamediff_pct'])}, cProfile {_pct(entry.get('truth_pct'))}"
                    )
            for entry in judged["missed"][:8]:
                parts.append(
                    f"- missed: `{entry['function']}` cProfile {_pct(entry['truth_pct'])}, "
                    f"flamediff {_pct(entry['flamediff_pct'])} (not significant)"
                )
            parts.append("")
    return "\n".join(parts) + "\n"
