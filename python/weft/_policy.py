"""`weft.Policy`: a checked policy pack, run over populations held as Arrow
tables."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import pyarrow as pa
import pyarrow.compute as pc

from . import _inputs
from . import _weft
from .errors import Diagnostic, InputError, _diagnostics

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Column:
    """An input column: its name, the kind of value it holds (`money`,
    `decimal`, `int`, `bool`, `date`, `duration`, `enum`, `text`, `link`)
    and whether it is the record's key."""

    name: str
    kind: str
    key: bool = False


@dataclass(frozen=True)
class Input:
    """An input of the policy (`persons`): the keyword `run` takes."""

    name: str
    record: str
    columns: List[Column]


@dataclass(frozen=True)
class Output:
    """An output of the policy: the columns of `weft run`'s file."""

    name: str
    record: str
    columns: List[str]


@dataclass(frozen=True)
class CheckResult:
    """What `weft check` reports on a policy that loads: warnings and
    failed parameter assertions."""

    diagnostics: List[Diagnostic]
    text: str

    @property
    def ok(self) -> bool:
        """No error (warnings allowed)."""
        return not any(d.is_error for d in self.diagnostics)


@dataclass
class RunResult:
    """The result of a run: one table per output (also reachable as an
    attribute: `result.persons`), the error rows, and the summary."""

    outputs: Dict[str, pa.Table]
    errors: pa.Table
    summary: Dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pa.Table:
        outs = self.__dict__.get("outputs", {})
        if name in outs:
            return outs[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> pa.Table:
        if name == "errors":
            return self.errors
        return self.outputs[name]


def _sources_of(params: Any) -> List[Tuple[str, str]]:
    """Parameter overlays: a mapping `{path: text}`, a file, a directory of
    files, or a list of those."""
    if params is None:
        return []
    if isinstance(params, Mapping):
        return [(str(k), str(v)) for k, v in params.items()]
    if isinstance(params, (str, os.PathLike)):
        p = os.fspath(params)
        if os.path.isdir(p):
            out = []
            for root, _, files in sorted(os.walk(p)):
                for f in sorted(files):
                    if f.endswith(".toml") or f.endswith(".csv"):
                        full = os.path.join(root, f)
                        with open(full, encoding="utf-8") as fh:
                            out.append((os.path.relpath(full, p), fh.read()))
            return out
        with open(p, encoding="utf-8") as fh:
            return [(os.path.basename(p), fh.read())]
    out = []
    for item in params:
        out.extend(_sources_of(item))
    return out


def _yuan(fen_decimal: Decimal) -> Decimal:
    return fen_decimal.quantize(Decimal("0.01"))


class Policy:
    """A checked policy pack.

    `Policy(path)` loads the pack in a directory; `Policy.from_sources`
    checks one held in memory. A policy with errors raises `PolicyError`
    carrying the diagnostics. Evaluators (a month and an engine) are
    compiled once per policy and reused by later runs.
    """

    def __init__(self, path: PathLike) -> None:
        self._init(_weft.Policy.from_dir(os.fspath(path)))

    def _init(self, inner: Any) -> None:
        self._p = inner
        self._evaluators: Dict[Tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def _wrap(cls, inner: Any) -> "Policy":
        p = cls.__new__(cls)
        p._init(inner)
        return p

    @classmethod
    def from_sources(cls, sources: Mapping[str, str]) -> "Policy":
        """A policy from `{path: text}`: `.weft` modules (the path names the
        module: `sub/rules.weft` is `sub.rules`) and parameter files (TOML,
        or CSV named after its parameter)."""
        return cls._wrap(_weft.Policy.from_sources([(str(k), str(v)) for k, v in sources.items()]))

    def with_params(self, params: Any) -> "Policy":
        """The same policy with parameter files overlaid (a file, a
        directory, `{path: text}`, or a list of those), checked again."""
        return Policy._wrap(self._p.with_params(_sources_of(params)))

    def check(self) -> CheckResult:
        """Warnings and parameter assertions, as `weft check` reports them
        (errors that stop a policy from loading are raised by the
        constructor as `PolicyError`)."""
        wd, wt = self._p.warnings()
        ad, at = self._p.check_assertions()
        text = "\n".join(t for t in (wt, at) if t)
        return CheckResult(diagnostics=_diagnostics(wd) + _diagnostics(ad), text=text)

    @property
    def inputs(self) -> List[Input]:
        """The inputs the policy reads, with their columns."""
        return [
            Input(name, record, [Column(c, k, key) for c, k, key in cols])
            for name, record, cols in self._p.inputs()
        ]

    @property
    def outputs(self) -> List[Output]:
        """The outputs the policy writes."""
        return [Output(n, r, list(c)) for n, r, c in self._p.outputs()]

    @property
    def hierarchy(self) -> Optional[Tuple[str, str, str, str]]:
        """`(group input, group key, member input, member link)`, e.g.
        `("households", "household_id", "persons", "household_id")`."""
        return self._p.hierarchy()

    def evaluator(self, as_of: str, engine: str = "jit") -> Any:
        """The compiled evaluator for a month and an engine (cached)."""
        key = (as_of, engine)
        with self._lock:
            ev = self._evaluators.get(key)
            if ev is None:
                ev = self._p.evaluator(as_of, engine)
                self._evaluators[key] = ev
            return ev

    # ------------------------------------------------------------ running

    def _tables(self, inputs: Mapping[str, Any]) -> Dict[str, pa.Table]:
        known = {i.name: i for i in self.inputs}
        tables = {}
        for name, obj in inputs.items():
            if name not in known:
                raise InputError(
                    f"the policy has no input `{name}`; its inputs are "
                    + ", ".join(f"`{n}`" for n in known)
                )
            kinds = {c.name: c.kind for c in known[name].columns}
            tables[name] = _inputs.prepare(_inputs.to_table(obj, name), name, kinds)
        return tables

    def _evaluate(
        self,
        as_of: str,
        engine: str,
        tables: Mapping[str, pa.Table],
        lines: Optional[Mapping[str, Sequence[int]]] = None,
    ) -> Tuple[Dict[str, pa.Table], pa.Table]:
        ev = self.evaluator(as_of, engine)
        args = [
            (name, _inputs.to_ipc(t), None if lines is None else list(lines[name]))
            for name, t in tables.items()
        ]
        outs, errs = ev.evaluate(args)
        return {n: _inputs.from_ipc(b) for n, b in outs}, _inputs.from_ipc(errs)

    def run(
        self,
        *,
        as_of: str,
        params: Any = None,
        engine: str = "jit",
        **inputs: Any,
    ) -> RunResult:
        """Evaluate a population, as `weft run` does: the inputs by the
        names the policy declares (`persons=…, households=…`), each a
        pyarrow Table or RecordBatch, a pandas or polars DataFrame, or the
        path of a CSV or Parquet file. The GIL is released while the
        engine runs.

        Outputs have the columns of `weft run`'s files, typed: money
        Decimal128(18, 2) in yuan, decimals Decimal128(18, 6), booleans,
        Date32 dates, Int64 counts, enums as their code strings. Error rows
        (`input, line, record_id, column, message`) name lines as `weft
        run` does for a file with a header: the first row is line 2.
        """
        policy = self.with_params(params) if params is not None else self
        tables = policy._tables(inputs)
        outs, errs = policy._evaluate(as_of, engine, tables)
        summary = policy._summary(as_of, engine, tables, outs, errs)
        return RunResult(outputs=outs, errors=errs, summary=summary)

    def _summary(
        self,
        as_of: str,
        engine: str,
        tables: Mapping[str, pa.Table],
        outs: Mapping[str, pa.Table],
        errs: pa.Table,
    ) -> Dict[str, Any]:
        """The summary `weft run --summary json` prints (amounts as
        Decimal yuan)."""
        files = []
        for name, t in tables.items():
            mine = errs.filter(pc.equal(errs.column("input"), name))
            rejected = len(pc.unique(mine.column("line"))) if mine.num_rows else 0
            files.append(
                {
                    "input": name,
                    "read": t.num_rows,
                    "evaluated": t.num_rows - rejected,
                    "rejected": rejected,
                }
            )
        progs = []
        for name, display, output, amounts, recipients in self._p.programmes():
            t = outs.get(output)
            totals = {"once": Decimal(0), "month": Decimal(0), "year": Decimal(0)}
            count = 0
            if t is not None and t.num_rows:
                positive = None
                for col, per in amounts:
                    c = t.column(col)
                    s = pc.sum(c).as_py()
                    if s is not None:
                        totals[per] += Decimal(s)
                    pos = pc.fill_null(pc.greater(c, pa.scalar(Decimal(0), c.type)), False)
                    positive = pos if positive is None else pc.or_(positive, pos)
                if recipients is not None:
                    count = pc.sum(pc.fill_null(t.column(recipients), False).cast(pa.int64())).as_py() or 0
                elif positive is not None:
                    count = pc.sum(positive.cast(pa.int64())).as_py() or 0
            progs.append(
                {
                    "programme": name,
                    "name": display,
                    "recipients": count,
                    "total_per_month": _yuan(totals["month"]),
                    "total_per_year": _yuan(totals["year"]),
                    "total_once": _yuan(totals["once"]),
                }
            )
        return {"as_of": as_of, "engine": engine, "files": files, "programmes": progs}

    # ------------------------------------------------------ explain, diff

    def explain(
        self,
        id: str,
        *,
        as_of: str,
        columns: Sequence[str] = (),
        params: Any = None,
        **inputs: Any,
    ) -> "Explanation":
        """Explain the outputs of the record `id` (as `weft explain`): the
        rules, table rows, exceptions, parameters and values that decided
        them. `inputs` as for `run`; only the record's household is
        needed, but a whole population is accepted."""
        policy = self.with_params(params) if params is not None else self
        tables = policy._tables(inputs)
        tables = policy._only_group_of(id, tables)
        records = {name: _json_rows(t) for name, t in tables.items()}
        ev = policy.evaluator(as_of, "interp")
        text, js = ev.explain(json.dumps(records), id, list(columns))
        return Explanation(text=text, tree=json.loads(js))

    def _only_group_of(self, id: str, tables: Dict[str, pa.Table]) -> Dict[str, pa.Table]:
        """The rows of the group holding record `id` (a group's id, or a
        member's), so a large population is not turned into JSON."""
        h = self.hierarchy
        if h is None:
            return tables
        g_in, g_key, m_in, m_link = h
        g = tables.get(g_in)
        m = tables.get(m_in)
        gid = None
        if g is not None and g_key in g.column_names:
            if pc.any(pc.equal(g.column(g_key).cast(pa.string()), id)).as_py():
                gid = id
        if gid is None and m is not None and m_link in m.column_names:
            keycol = next((c.name for i in self.inputs if i.name == m_in for c in i.columns if c.key), None)
            if keycol is not None and keycol in m.column_names:
                hit = m.filter(pc.equal(m.column(keycol).cast(pa.string()), id))
                if hit.num_rows:
                    gid = hit.column(m_link).cast(pa.string())[0].as_py()
        if gid is None:
            return tables
        out = dict(tables)
        if g is not None and g_key in g.column_names:
            out[g_in] = g.filter(pc.equal(g.column(g_key).cast(pa.string()), gid))
        if m is not None and m_link in m.column_names:
            out[m_in] = m.filter(pc.equal(m.column(m_link).cast(pa.string()), gid))
        return out

    def diff(
        self,
        *,
        as_of: str,
        as_of_after: Optional[str] = None,
        params_after: Any = None,
        policy_after: Optional[Union["Policy", PathLike]] = None,
        engine: str = "jit",
        **inputs: Any,
    ) -> "DiffResult":
        """Compare two situations over one population (as `weft diff`):
        another month, other parameters or another version of the policy.
        Returns every changed cell and each programme's totals before and
        after."""
        after = self
        if policy_after is not None:
            after = policy_after if isinstance(policy_after, Policy) else Policy(policy_after)
        if params_after is not None:
            after = after.with_params(params_after)
        before_r = self.run(as_of=as_of, engine=engine, **inputs)
        after_r = after.run(as_of=as_of_after or as_of, engine=engine, **inputs)
        return DiffResult(before=before_r, after=after_r, changes=_changes(before_r, after_r))


def _json_rows(t: pa.Table) -> List[Dict[str, Any]]:
    rows = []
    for r in t.to_pylist():
        row = {}
        for k, v in r.items():
            if v is None:
                continue
            if isinstance(v, bool):
                row[k] = v
            else:
                row[k] = str(v)
        rows.append(row)
    return rows


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _changes(before: RunResult, after: RunResult) -> pa.Table:
    """Every changed cell: `output, record_id, column, before, after`."""
    rows: Dict[str, List[str]] = {k: [] for k in ("output", "record_id", "column", "before", "after")}
    for name, b in before.outputs.items():
        a = after.outputs.get(name)
        if a is None or not b.column_names:
            continue
        idc = b.column_names[0]
        arow = {r[idc]: r for r in a.to_pylist()}
        for r in b.to_pylist():
            other = arow.get(r[idc])
            if other is None:
                continue
            for c in b.column_names[1:]:
                if c in other and other[c] != r[c]:
                    rows["output"].append(name)
                    rows["record_id"].append(_text(r[idc]))
                    rows["column"].append(c)
                    rows["before"].append(_text(r[c]))
                    rows["after"].append(_text(other[c]))
    return pa.table(rows, schema=pa.schema([(k, pa.string()) for k in rows]))


@dataclass(frozen=True)
class Explanation:
    """An explanation of one record's outputs: `text` as `weft explain`
    prints it, `tree` as its `--format json`."""

    text: str
    tree: Any

    def __str__(self) -> str:
        return self.text


@dataclass
class DiffResult:
    """Two runs of one population and the cells that changed."""

    before: RunResult
    after: RunResult
    changes: pa.Table

    @property
    def programmes(self) -> List[Dict[str, Any]]:
        """Each programme's recipients and totals before and after."""
        out = []
        for b, a in zip(self.before.summary["programmes"], self.after.summary["programmes"]):
            row = {"programme": b["programme"], "name": b["name"]}
            for k in ("recipients", "total_per_month", "total_per_year", "total_once"):
                row[k + "_before"] = b[k]
                row[k + "_after"] = a[k]
            out.append(row)
        return out
