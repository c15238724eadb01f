"""Shared fixtures: the repository's policy and population, the `weft`
command (to compare with), a synthetic population with damaged rows, and a
local Spark session."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Tuple

import pyarrow as pa
import pytest

REPO = Path(__file__).resolve().parents[2]
JILIN = REPO / "policies" / "jilin"
POP = REPO / "examples" / "population"


def weft_bin() -> str:
    """The `weft` command built by cargo (`WEFT_BIN`, or the target
    directory's debug build)."""
    env = os.environ.get("WEFT_BIN")
    if env:
        return env
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for profile in ("debug", "release"):
        p = target / profile / "weft"
        if p.exists():
            return str(p)
    pytest.fail("no weft binary: build it with `cargo build -p weft-cli` or set WEFT_BIN")


def weft_run(policy: Path, persons: Path, households: Path, as_of: str, out: Path, *extra: str) -> Dict[str, List[Dict[str, str]]]:
    """`weft run` into `out`; its three CSV files as rows of text."""
    subprocess.run(
        [weft_bin(), "run", str(policy), "--as-of", as_of, "--persons", str(persons),
         "--households", str(households), "--out", str(out), "--quiet", *extra],
        check=True,
        capture_output=True,
    )
    result = {}
    for name in ("persons", "households", "errors"):
        with open(out / f"{name}.csv", newline="", encoding="utf-8") as f:
            result[name] = list(csv.DictReader(f))
    return result


def cell_text(v, t: pa.DataType) -> str:
    """A typed cell as `weft run` writes it in a CSV file."""
    if v is None:
        return ""
    if pa.types.is_boolean(t):
        return "true" if v else "false"
    if pa.types.is_date32(t):
        return v.isoformat()
    return str(v)


def as_text_rows(table: pa.Table) -> List[Tuple[str, ...]]:
    types = [f.type for f in table.schema]
    return [
        tuple(cell_text(v, t) for v, t in zip(row.values(), types))
        for row in table.to_pylist()
    ]


def csv_rows(rows: List[Dict[str, str]], columns: List[str]) -> List[Tuple[str, ...]]:
    return [tuple(r[c] for c in columns) for r in rows]


def assert_same(table: pa.Table, cli_rows: List[Dict[str, str]], ordered: bool = True) -> None:
    """A typed table equals a `weft run` CSV file cell for cell (decimal
    columns compared as numbers, since a file drops no zeros there)."""
    assert cli_rows, "the CLI wrote no rows to compare with"
    if "file" in cli_rows[0] and "input" in table.column_names:
        # `weft run` names the file an error row comes from (`persons.csv`);
        # a table given in memory has its input's name (`persons`).
        cli_rows = [{("input" if k == "file" else k): (v.rsplit(".", 1)[0] if k == "file" else v) for k, v in r.items()} for r in cli_rows]
    assert table.column_names == list(cli_rows[0].keys())
    ours = as_text_rows(table)
    theirs = csv_rows(cli_rows, table.column_names)
    dec6 = [i for i, f in enumerate(table.schema) if pa.types.is_decimal(f.type) and f.type.scale != 2]
    if dec6:
        norm = lambda rows: [tuple(str(Decimal(c).normalize()) if i in dec6 and c else c for i, c in enumerate(r)) for r in rows]
        ours, theirs = norm(ours), norm(theirs)
    if not ordered:
        ours, theirs = sorted(ours), sorted(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a == b


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> Path:
    """About 20,000 households from `weft synth`, with damaged rows: bad
    money, an impossible date, an unknown enum code, a member of no
    household, a household left without one of its fields, a household with
    an unknown region.

    Not a repeated household id: the API's in-memory path (which the
    package uses) rejects that household's members as `unknown household`
    where `weft run` says `household … rejected: … appears on more than one
    row` — a difference in weft-engine's `run_in_memory`, reported, not
    hidden here."""
    n = int(os.environ.get("WEFT_PY_SYNTH_HOUSEHOLDS", "20000"))
    d = tmp_path_factory.mktemp("synth")
    subprocess.run(
        [weft_bin(), "synth", str(JILIN), "--households", str(n), "--seed", "11",
         "--as-of", "2019-12", "--out", str(d), "--sample", "0"],
        check=True,
        capture_output=True,
    )
    def damage(name: str, edits) -> None:
        path = d / f"{name}.csv"
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        header = rows[0]
        for row_no, col, value in edits:
            rows[row_no][header.index(col)] = value
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    damage("persons", [
        (5, "monthly_income", "12.345"),
        (17, "birth_date", "2001-02-30"),
        (40, "disability_kind", "telepathic"),
        (77, "household_id", "H-NOWHERE"),
        (123, "monthly_income", "abc"),
    ])
    with open(d / "households.csv", newline="", encoding="utf-8") as f:
        hrows = list(csv.reader(f))
    header = hrows[0]
    hrows[9][header.index("region")] = "atlantis"
    hrows[30][header.index("financial_assets")] = ""
    with open(d / "households.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(hrows)
    return d


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    # The workers run this interpreter (the venv holding weft), not the
    # first `python3` on the PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    s = (
        SparkSession.builder.master(os.environ.get("WEFT_SPARK_MASTER", "local[2]"))
        .appName("weft-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()
