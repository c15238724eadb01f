"""Weft: social-assistance policy as exact, checked, fast code.

    import weft
    policy = weft.Policy("policies/jilin")
    result = policy.run(persons="persons.csv", households="households.csv", as_of="2019-08")
    result.persons        # a pyarrow.Table, typed (money as Decimal128(18, 2) yuan)
    result.errors         # the rows that could not be evaluated
    result.summary        # recipients and totals per programme

`import weft` needs only pyarrow; pandas, polars and pyspark are used when
given. `weft.spark.run` evaluates Spark DataFrames (`import weft.spark`).
"""

from ._policy import (
    CheckResult,
    Column,
    DiffResult,
    Explanation,
    Input,
    Output,
    Policy,
    RunResult,
)
from .errors import (
    Diagnostic,
    EngineError,
    InputError,
    MonthError,
    PolicyError,
    WeftError,
    WeftIOError,
)
from . import _weft


def compilations() -> int:
    """How many evaluators this process has compiled (each `(month,
    engine)` of each policy compiles once)."""
    return _weft.compilations()


__all__ = [
    "CheckResult",
    "Column",
    "Diagnostic",
    "DiffResult",
    "EngineError",
    "Explanation",
    "Input",
    "InputError",
    "MonthError",
    "Output",
    "Policy",
    "PolicyError",
    "RunResult",
    "WeftError",
    "WeftIOError",
    "compilations",
]
