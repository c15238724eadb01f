"""Evaluating Spark DataFrames: `weft.spark.run`.

How it works:

1. On the driver, the policy pack is read and checked once; its files (a few
   hundred kilobytes of text) are broadcast to the executors.
2. Both inputs are tagged with the key of their household (the group's key;
   the member's link to it) and with their line — the row's position in
   the DataFrame as given plus one, as `weft run` numbers the rows of a file
   with a header (or a column the caller names, `line_column`). They are
   unioned as two struct columns and repartitioned by the key, so a
   household and all its members always meet in one partition, whatever
   the partitioning of the inputs.
3. `mapInArrow` hands each partition to the evaluator as Arrow record
   batches. Each Python worker process compiles the policy once (a cache by
   content, month and engine; `SparkResult.compilations` counts the
   compilations on the executors) and evaluates the partition with the GIL
   released; rows keep their lines, so error rows and their messages equal
   `weft run`'s.
4. The results come back as one struct column per output plus one for the
   errors; the three DataFrames returned select them. The combined result
   is cached (`persist`) so that using all three evaluates once.

Differences from `weft run`: rows come back in Spark's order, not input
order; and checks that span households (a member id repeated in two
different households) are not made, since no partition sees both.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pyarrow as pa
import pyarrow.compute as pc

from . import _inputs
from ._policy import Policy, _sources_of

_KEY = "_weft_key"
_LINE = "_weft_line"

# Per executor (Python worker) process: compiled evaluators by pack digest,
# month and engine.
_CACHE: Dict[Tuple[str, str, str], Any] = {}
_CACHE_LOCK = threading.Lock()


def _pack_files(path: str) -> Dict[str, str]:
    """Every `.weft`, `.toml` and `.csv` file of a pack, by relative path."""
    files: Dict[str, str] = {}
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for n in sorted(names):
            if n.endswith((".weft", ".toml", ".csv")):
                full = os.path.join(root, n)
                rel = os.path.relpath(full, path).replace(os.sep, "/")
                with open(full, encoding="utf-8") as f:
                    files[rel] = f.read()
    return files


def _digest(files: Dict[str, str], overlays: List[Tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for k in sorted(files):
        h.update(k.encode())
        h.update(b"\0")
        h.update(files[k].encode())
        h.update(b"\0")
    for k, v in overlays:
        h.update(b"overlay\0" + k.encode() + b"\0" + v.encode() + b"\0")
    return h.hexdigest()


def _policy_of(files: Dict[str, str], overlays: List[Tuple[str, str]]) -> Policy:
    p = Policy.from_sources(files)
    return p.with_params(dict(overlays)) if overlays else p


def _evaluator(shipped: Tuple[str, Dict[str, str], List[Tuple[str, str]]], as_of: str, engine: str, counter: Any) -> Tuple[Policy, Any]:
    digest, files, overlays = shipped
    key = (digest, as_of, engine)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is None:
            p = _policy_of(files, overlays)
            hit = (p, p.evaluator(as_of, engine))
            _CACHE[key] = hit
            if counter is not None:
                counter.add(1)
        return hit


def with_lines(df: Any, name: str = _LINE) -> Any:
    """`df` with a column `name` holding each row's line as `weft run`
    numbers the rows of a file with a header: its position in `df` plus
    one (the first row is line 2). Computed without collecting the rows:
    one job counts the rows of each partition."""
    from pyspark.sql import functions as F

    mid = F.monotonically_increasing_id()
    tagged = df.withColumn(name, mid)
    counts = (
        tagged.select(F.shiftright(F.col(name), 33).alias("p"))
        .groupBy("p")
        .count()
        .collect()
    )
    offsets: List[Any] = []
    total = 0
    for row in sorted(counts, key=lambda r: r["p"]):
        offsets += [F.lit(row["p"]), F.lit(total)]
        total += row["count"]
    if not offsets:
        return tagged.withColumn(name, F.lit(2).cast("long"))
    start = F.element_at(F.create_map(*offsets), F.shiftright(F.col(name), 33))
    low = F.col(name).bitwiseAND(F.lit((1 << 33) - 1))
    return tagged.withColumn(name, (start + low + F.lit(2)).cast("long"))


@dataclass
class SparkResult:
    """The three DataFrames of a run (it unpacks as `persons, households,
    errors`), and an accumulator counting the compilations on the
    executors (valid once an action has run)."""

    members: Any
    groups: Any
    errors: Any
    compilations: Any
    combined: Any

    def __iter__(self) -> Iterator[Any]:
        return iter((self.members, self.groups, self.errors))


def _arrow_to_spark(t: pa.DataType) -> Any:
    from pyspark.sql import types as T

    if pa.types.is_decimal(t):
        return T.DecimalType(t.precision, t.scale)
    if pa.types.is_boolean(t):
        return T.BooleanType()
    if pa.types.is_int64(t):
        return T.LongType()
    if pa.types.is_date32(t):
        return T.DateType()
    return T.StringType()


def _struct(schema: pa.Schema) -> Any:
    from pyspark.sql import types as T

    return T.StructType([T.StructField(f.name, _arrow_to_spark(f.type), True) for f in schema])


def _col(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def run(
    spark: Any,
    policy_path: str,
    persons_df: Any,
    households_df: Any,
    as_of: str,
    *,
    params: Any = None,
    engine: str = "jit",
    line_column: Optional[str] = None,
    num_partitions: Optional[int] = None,
    persist: bool = True,
) -> SparkResult:
    """Evaluate a population held in Spark DataFrames: `persons_df` the
    member input, `households_df` the group input (named `persons` and
    `households` in the jilin pack). Returns `(persons, households,
    errors)` Spark DataFrames with the columns of `weft run`'s files, typed
    as `Policy.run`'s tables are.

    `params` overlays parameter files as in `Policy.with_params`;
    `line_column` names a column of both inputs holding each row's line
    (default: the row's position plus one, see `with_lines`);
    `num_partitions` the partitions evaluated (default: Spark's shuffle
    partitions)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    files = _pack_files(os.fspath(policy_path))
    overlays = _sources_of(params)
    policy = _policy_of(files, overlays)  # checked on the driver: errors raise here
    h = policy.hierarchy
    if h is None:
        raise ValueError("weft.spark.run needs a policy whose members belong to groups")
    g_in, g_key, m_in, m_link = h
    inputs = {i.name: i for i in policy.inputs}

    # The output schemas: an empty population through the interpreter.
    empty = {
        name: pa.table({c.name: pa.array([], pa.string()) for c in inputs[name].columns})
        for name in (g_in, m_in)
    }
    outs, errs = policy._evaluate(as_of, "interp", empty)
    out_names = [o.name for o in policy.outputs]
    out_schemas = [outs[n].schema for n in out_names]
    err_schema = errs.schema

    if line_column is None:
        households_df = with_lines(households_df)
        persons_df = with_lines(persons_df)
        line_column = _LINE
    g_cols = [c for c in households_df.columns if c != line_column]
    m_cols = [c for c in persons_df.columns if c != line_column]
    g_struct = households_df.select(*[_col(c) for c in g_cols]).schema
    m_struct = persons_df.select(*[_col(c) for c in m_cols]).schema

    def tagged(df: Any, key: str, cols: List[str], mine: Any, other: Any, mine_first: bool) -> Any:
        s = F.struct(*[_col(c) for c in cols])
        null = F.lit(None).cast(other)
        return df.select(
            _col(key).cast("string").alias(_KEY),
            _col(line_column).cast("long").alias(_LINE),
            (s if mine_first else null).alias("g"),
            (null if mine_first else s).alias("m"),
        )

    if g_key not in g_cols:
        raise ValueError(f"the households DataFrame has no column `{g_key}`")
    if m_link not in m_cols:
        raise ValueError(f"the persons DataFrame has no column `{m_link}`")
    union = tagged(households_df, g_key, g_cols, g_struct, m_struct, True).unionByName(
        tagged(persons_df, m_link, m_cols, m_struct, g_struct, False)
    )
    n = num_partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))
    parts = union.repartition(n, _KEY)

    sc = spark.sparkContext
    shipped = sc.broadcast((_digest(files, overlays), files, overlays))
    counter = sc.accumulator(0)
    out_fields = [f"o{i}" for i in range(len(out_names))]
    result_schema = T.StructType(
        [T.StructField(f, _struct(s), True) for f, s in zip(out_fields, out_schemas)]
        + [T.StructField("errors", _struct(err_schema), True)]
    )
    arrow_structs = [pa.struct(list(s)) for s in out_schemas] + [pa.struct(list(err_schema))]
    g_names, m_names = g_in, m_in

    def evaluate(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        got = list(batches)
        if not got:
            return
        t = pa.Table.from_batches(got).combine_chunks()
        if t.num_rows == 0:
            return
        is_g = pc.is_valid(t.column("g"))
        tables = {}
        lines = {}
        for name, col, mask, cols in (
            (g_names, "g", is_g, g_cols),
            (m_names, "m", pc.invert(is_g), m_cols),
        ):
            part = t.filter(mask).sort_by(_LINE)
            arr = part.column(col).combine_chunks()
            children = arr.flatten() if len(arr) else [pa.array([], pa.string()) for _ in cols]
            tables[name] = pa.Table.from_arrays(children, names=cols)
            lines[name] = part.column(_LINE).to_pylist()
        p, ev = _evaluator(shipped.value, as_of, engine, counter)
        args = [(name, _inputs.to_ipc(tb), lines[name]) for name, tb in tables.items()]
        o, e = ev.evaluate(args)
        results = dict((nm, _inputs.from_ipc(b)) for nm, b in o)
        pieces = [results[nm] for nm in out_names] + [_inputs.from_ipc(e)]
        for i, piece in enumerate(pieces):
            if piece.num_rows == 0:
                continue
            piece = piece.combine_chunks()
            cols = []
            for j, st in enumerate(arrow_structs):
                if j == i:
                    cols.append(
                        pa.StructArray.from_arrays(
                            [piece.column(k).combine_chunks() for k in range(piece.num_columns)],
                            fields=list(st),
                        )
                    )
                else:
                    cols.append(pa.nulls(piece.num_rows, st))
            yield pa.RecordBatch.from_arrays(cols, names=out_fields + ["errors"])

    combined = parts.mapInArrow(evaluate, result_schema)
    if persist:
        combined = combined.persist()

    def pick(field: str) -> Any:
        return combined.where(F.col(field).isNotNull()).select(f"{field}.*")

    frames = {nm: pick(f) for nm, f in zip(out_names, out_fields)}
    member_out = next((o.name for o in policy.outputs if o.record == inputs[m_in].record), out_names[0])
    group_out = next((o.name for o in policy.outputs if o.record == inputs[g_in].record), out_names[-1])
    return SparkResult(
        members=frames[member_out],
        groups=frames[group_out],
        errors=pick("errors"),
        compilations=counter,
        combined=combined,
    )


__all__ = ["run", "with_lines", "SparkResult"]
