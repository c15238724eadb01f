"""Exceptions raised by weft, and diagnostics as objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple


@dataclass(frozen=True)
class Diagnostic:
    """One diagnostic about a policy, as `weft check` reports it."""

    code: str
    """A stable code (`E0330`), listed in the language reference."""
    severity: str
    """`error` or `warning`."""
    message: str
    """One lowercase sentence."""
    file: Optional[str]
    """The file it points into, when it has a place."""
    line: Optional[int]
    column: Optional[int]
    help: Optional[str]
    """What to do about it."""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}:{self.column}: " if self.file else ""
        return f"{place}{self.severity}[{self.code}]: {self.message}"


def _place(location: Optional[str]) -> Tuple[Optional[str], Optional[int], Optional[int]]:
    # `file:line:column`; a file name may itself hold `:`.
    if not location:
        return None, None, None
    parts = location.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return parts[0], int(parts[1]), int(parts[2])
    return location, None, None


def _diagnostics(raw: Iterable[Sequence]) -> List[Diagnostic]:
    out = []
    for code, is_error, message, location, help_ in raw:
        file, line, column = _place(location)
        out.append(
            Diagnostic(
                code=code,
                severity="error" if is_error else "warning",
                message=message,
                file=file,
                line=line,
                column=column,
                help=help_,
            )
        )
    return out


class WeftError(Exception):
    """Something weft could not do. `diagnostics` holds the policy's
    diagnostics when there are some; `text` renders them as `weft check`
    does."""

    def __init__(self, message: str, diagnostics: Iterable[Sequence] = (), text: str = ""):
        super().__init__(message if not text else f"{message}:\n{text}")
        self.message = message
        self.diagnostics: List[Diagnostic] = _diagnostics(diagnostics)
        self.text = text


class PolicyError(WeftError):
    """The policy has errors (see `diagnostics`)."""


class InputError(WeftError, ValueError):
    """The input does not fit the policy (a missing input or column, a
    column of the wrong type, inexact floating-point money)."""


class MonthError(WeftError, ValueError):
    """The month cannot be evaluated (a parameter has no version in force)."""


class EngineError(WeftError):
    """The engine could not compile the policy."""


class WeftIOError(WeftError, OSError):
    """A file could not be read."""
