"""`weft.spark.run` in local mode: results equal `weft run` cell for cell
(errors included) on the example population and on a synthetic one of
about 20,000 households with damaged rows, whatever the partitioning of the
inputs; the pack is compiled once per executor process."""

from __future__ import annotations

import pyarrow as pa
import pytest

import weft
import weft.spark
from conftest import JILIN, POP, assert_same, weft_run

AS_OF = "2019-08"


def to_arrow(df) -> pa.Table:
    return df.toArrow()


def read(spark, path):
    return spark.read.csv(str(path), header=True)


def compare(res, cli):
    for df, name in zip(res, ("persons", "households", "errors")):
        assert_same(to_arrow(df), cli[name], ordered=False)


def test_example_population_equals_weft_run(spark, tmp_path):
    cli = weft_run(JILIN, POP / "persons.csv", POP / "households.csv", AS_OF, tmp_path / "r")
    res = weft.spark.run(spark, str(JILIN), read(spark, POP / "persons.csv"), read(spark, POP / "households.csv"), AS_OF)
    compare(res, cli)
    assert len(cli["errors"]) > 0


def test_split_households_and_damaged_rows_equal_weft_run(spark, synthetic, tmp_path):
    cli = weft_run(JILIN, synthetic / "persons.csv", synthetic / "households.csv", AS_OF, tmp_path / "r")
    kinds = {e["column"] for e in cli["errors"]}
    assert {"monthly_income", "birth_date", "region"} <= kinds, kinds
    # Lines first (the rows' positions in the files), then a partitioning
    # that scatters every household's persons.
    persons = weft.spark.with_lines(read(spark, synthetic / "persons.csv"), "line").repartition(7)
    households = weft.spark.with_lines(read(spark, synthetic / "households.csv"), "line").repartition(3)
    from pyspark.sql import functions as F

    scattered = (
        persons.withColumn("part", F.spark_partition_id())
        .groupBy("household_id")
        .agg(F.countDistinct("part").alias("n"))
    )
    assert scattered.where("n > 1").count() > 0, "the test needs households split across partitions"
    partitions = 8
    # An overlay of a pack file on itself: the same results, but a pack the
    # workers (reused across the session's jobs) have not compiled yet.
    same = sorted((JILIN / "params").glob("*.toml"))[0]
    res = weft.spark.run(
        spark, str(JILIN), persons, households, AS_OF,
        params=str(same), line_column="line", num_partitions=partitions,
    )
    compare(res, cli)
    # Compiled once per Python worker process (local[2]: at most two at a
    # time, reused), not once per partition.
    assert 1 <= res.compilations.value <= 2 < partitions


def test_a_typed_dataframe_gives_the_same_result(spark, tmp_path):
    """Decimal money, dates and booleans as Spark types, not text."""
    cli = weft_run(JILIN, POP / "persons.csv", POP / "households.csv", AS_OF, tmp_path / "r")
    from pyspark.sql import functions as F

    p = read(spark, POP / "persons.csv")
    p = p.withColumn("monthly_income", F.col("monthly_income").cast("decimal(12,2)")).withColumn(
        "birth_date", F.to_date("birth_date")
    )
    h = read(spark, POP / "households.csv").withColumn("owns_vehicle", F.col("owns_vehicle").cast("boolean"))
    res = weft.spark.run(spark, str(JILIN), p, h, AS_OF)
    compare(res, cli)
