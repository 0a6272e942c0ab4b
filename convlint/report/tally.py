"""The closing line of the text formats of ``convlint lint`` (full and concise): how many problems of each
severity in how many specs."""
from __future__ import annotations

from convlint.findings import Finding, Severity


def lint_tally(findings: list[Finding], checked: int, skipped: int = 0) -> str:
    """The closing line: ``Found 3 problems (2 errors, 1 warning) in 2 of 6 specs.`` or all clear,
    then how many YAML files found in directories were skipped as not specs."""
    tail = (f"Skipped {skipped} YAML file{'s' if skipped != 1 else ''} that "
            f"{'are' if skipped != 1 else 'is'} not a spec (no top-level `layers`).\n" if skipped else "")
    return _tally(findings, checked) + tail


def _tally(findings: list[Finding], checked: int) -> str:
    if not findings:
        return f"All checks passed ({checked} spec{'s' if checked != 1 else ''} checked).\n"
    counts = {severity: sum(1 for f in findings if f.severity is severity) for severity in Severity}
    parts = [f"{count} {severity.value}{'s' if count != 1 else ''}" for severity, count in counts.items() if count]
    files = len({f.path for f in findings})
    return (f"Found {len(findings)} problem{'s' if len(findings) != 1 else ''} ({', '.join(parts)}) "
            f"in {files} of {checked} spec{'s' if checked != 1 else ''}.\n")
