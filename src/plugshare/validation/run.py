"""Validate files and streams end to end: read, check, report, count."""

from __future__ import annotations

from collections.abc import Iterator

from plugshare.validation.reader import Entry, InputError, expand, read_path
from plugshare.validation.report import Summary
from plugshare.validation.validator import MessageValidator, validate_entries


def validate_paths(paths: list[str], reporter, kind: str = "auto") -> Summary:
    """Validate every message in ``paths`` (files, directories or ``-``), writing to ``reporter``.

    An input that cannot be read is reported and the others are still validated;
    the summary's exit code is then 2.
    """
    summary = Summary()

    def unreadable(exc: InputError) -> None:
        summary.unreadable_inputs.append(exc.source)
        reporter.unreadable(exc.source, exc.reason)

    def entries() -> Iterator[Entry]:
        for path in paths:
            try:
                sources = expand(path)
            except InputError as exc:
                unreadable(exc)
                continue
            for source in sources:
                summary.inputs += 1
                try:
                    yield from read_path(source, kind)
                except InputError as exc:
                    unreadable(exc)

    for report in validate_entries(entries(), MessageValidator()):
        summary.add(report)
        reporter.report(report)
    reporter.finish(summary)
    return summary
