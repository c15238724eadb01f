//! A batch over a Parquet file: columns in, columns out.
//!
//! Generates a small population (with the `parquet` crate, as another
//! system would export it), evaluates it through `Evaluator::evaluate_batch`
//! and writes the results as Parquet again.
//!
//! Run: `cargo run -p weft --example batch_parquet`

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::File;
use std::sync::Arc;
use weft::{Engine, Policy};

fn money(v: &[i128]) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(v.to_vec())
            .with_precision_and_scale(18, 2)
            .unwrap_or_else(|_| Decimal128Array::from(vec![0i128; 0])),
    )
}

fn strings(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn bools(v: &[bool]) -> ArrayRef {
    Arc::new(BooleanArray::from(v.to_vec()))
}

fn write(path: &std::path::Path, batch: &RecordBatch) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = ArrowWriter::try_new(File::create(path)?, batch.schema(), None)?;
    w.write(batch)?;
    w.close()?;
    Ok(())
}

fn read(path: &std::path::Path) -> Result<RecordBatch, Box<dyn std::error::Error>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?.build()?;
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>()?;
    arrow_select_concat(&batches)
}

/// One batch from several (the example files are small: one batch).
fn arrow_select_concat(b: &[RecordBatch]) -> Result<RecordBatch, Box<dyn std::error::Error>> {
    b.first().cloned().ok_or_else(|| "empty file".into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let days = |y: i32, m: u32, d: u32| -> i32 { (chrono_days(y, m, d)) as i32 };
    let households = RecordBatch::try_from_iter([
        ("household_id", strings(&["A", "B"])),
        ("region", strings(&["changchun", "baicheng"])),
        ("residence", strings(&["urban", "rural"])),
        ("financial_assets", money(&[500_000, 120_000])),
        ("owns_vehicle", bools(&[false, false])),
        ("registered_poor", bools(&[false, true])),
    ])?;
    let n = 3;
    let persons = RecordBatch::try_from_iter([
        ("person_id", strings(&["A1", "B1", "B2"])),
        ("household_id", strings(&["A", "B", "B"])),
        (
            "birth_date",
            Arc::new(Date32Array::from(vec![
                days(1946, 3, 15),
                days(1978, 5, 2),
                days(2008, 1, 1),
            ])) as ArrayRef,
        ),
        (
            "disability_grade",
            Arc::new(Int64Array::from(vec![0, 0, 0])) as ArrayRef,
        ),
        ("disability_kind", strings(&["none"; 3])),
        ("self_care", strings(&["partial", "full", "full"])),
        ("serious_illness", bools(&[false; 3])),
        ("monthly_income", money(&[0, 30_000, 0])),
        ("rigid_expense", money(&[0; 3])),
        ("capable_supporter", bools(&[false, true, true])),
        (
            "father_status",
            strings(&["deceased", "present", "present"]),
        ),
        (
            "mother_status",
            strings(&["deceased", "present", "present"]),
        ),
        ("in_institution", bools(&[false; 3])),
        ("education_stage", strings(&["none", "none", "primary"])),
        ("boarding", bools(&[false, false, true])),
        ("hospital_level", strings(&["tertiary", "none", "none"])),
        ("medical_expense", money(&[6_000_000, 0, 0])),
        ("employment_type", strings(&["none"; 3])),
        (
            "employment_start",
            Arc::new(Date32Array::from(vec![None::<i32>; n])) as ArrayRef,
        ),
        (
            "unemployed_months_before",
            Arc::new(Int64Array::from(vec![0, 0, 0])) as ArrayRef,
        ),
        ("dibao_at_employment", bools(&[false; 3])),
    ])?;
    write(&dir.path().join("households.parquet"), &households)?;
    write(&dir.path().join("persons.parquet"), &persons)?;

    let policy = Policy::from_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/jilin"),
    )?;
    let eval = policy.evaluator("2018-08".parse()?, Engine::Jit)?;
    let h = read(&dir.path().join("households.parquet"))?;
    let p = read(&dir.path().join("persons.parquet"))?;
    let result = eval.evaluate_batch(&[("households", &h), ("persons", &p)])?;
    for (name, batch) in result.outputs() {
        write(&dir.path().join(format!("{name}.out.parquet")), batch)?;
        println!(
            "{name}: {} rows, {} columns",
            batch.num_rows(),
            batch.num_columns()
        );
    }
    println!("errors: {} rows", result.errors().len());
    let persons_out = result.output("persons").ok_or("no persons output")?;
    let col = persons_out
        .column_by_name("tekun_basic_living")
        .ok_or("no column")?;
    let v = col
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .ok_or("not a decimal")?;
    assert_eq!(
        v.value(0),
        72_800,
        "A1's basic living is ¥728.00 (72,800 fen)"
    );
    Ok(())
}

/// Days since 1970-01-01 (the civil calendar).
fn chrono_days(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}
