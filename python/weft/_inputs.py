"""Turning what a caller hands in into pyarrow tables, and tables into the
Arrow IPC streams the extension module reads.

Accepted: pyarrow Tables, RecordBatches and RecordBatchReaders; anything
with the Arrow PyCapsule interface (`__arrow_c_stream__`: pandas ≥ 2.2 and
polars DataFrames, DuckDB relations, …) — read by pyarrow without copying
where the layout allows; older pandas DataFrames through
`pyarrow.Table.from_pandas`; and paths of CSV or Parquet files.

CSV files are read with every column as text (an empty cell is null), so
they are validated by the engine exactly as `weft run` validates a CSV
file. A floating-point money column is accepted only when every value is
exact to the fen; it is then handed over as Decimal128(18, 2).
"""

from __future__ import annotations

import csv
import decimal
import os
from typing import Any, Dict, Optional

import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError


def _read_csv(path: str) -> pa.Table:
    import pyarrow.csv as pcsv

    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f), None)
    if header is None:
        raise InputError(f"`{path}` is empty: a CSV file starts with a header")
    return pcsv.read_csv(
        path,
        convert_options=pcsv.ConvertOptions(
            column_types={c: pa.string() for c in header},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def to_table(obj: Any, name: str) -> pa.Table:
    """A pyarrow table from whatever the caller gave for input `name`."""
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    if isinstance(obj, pa.RecordBatchReader):
        return obj.read_all()
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        lower = path.lower()
        if lower.endswith(".csv"):
            return _read_csv(path)
        if lower.endswith(".parquet") or lower.endswith(".pq"):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        raise InputError(f"`{path}`: give a .csv or .parquet file for the input `{name}`")
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.table(obj)
    mod = type(obj).__module__
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(obj, preserve_index=False)
    if mod.startswith("polars"):
        return obj.to_arrow()
    raise InputError(
        f"the input `{name}` is a {type(obj).__name__}; give a pyarrow Table, a pandas or "
        "polars DataFrame, or the path of a CSV or Parquet file"
    )


def _exact_money(col: pa.ChunkedArray, column: str, name: str) -> pa.ChunkedArray:
    """Floating-point money as Decimal128(18, 2), if every value is exact to
    the fen (its shortest decimal text has at most two places)."""
    out = []
    for i, v in enumerate(col.to_pylist()):
        if v is None:
            out.append(None)
            continue
        d = decimal.Decimal(repr(float(v)))
        if not d.is_finite() or d != d.quantize(decimal.Decimal("0.01")):
            raise InputError(
                f"the column `{column}` of `{name}` holds floating-point money that is not "
                f"exact to the fen (row {i + 1}: {v!r}); give text or Decimal128 with scale ≤ 2"
            )
        out.append(d.quantize(decimal.Decimal("0.01")))
    try:
        return pa.chunked_array([pa.array(out, pa.decimal128(18, 2))])
    except (pa.ArrowInvalid, decimal.InvalidOperation) as e:
        raise InputError(f"the column `{column}` of `{name}`: {e}") from None


def prepare(table: pa.Table, name: str, kinds: Dict[str, str]) -> pa.Table:
    """Money columns of floats made exact; other columns as they are."""
    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type) and kinds.get(field.name) == "money":
            table = table.set_column(
                i, field.name, _exact_money(table.column(i), field.name, name)
            )
    return table


def to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def column_or_none(table: pa.Table, name: str) -> Optional[pa.ChunkedArray]:
    return table.column(name) if name in table.column_names else None


__all__ = ["to_table", "prepare", "to_ipc", "from_ipc", "column_or_none", "pc"]
