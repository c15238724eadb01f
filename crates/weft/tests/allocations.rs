//! A batch allocates per batch, not per record: a counting global
//! allocator counts the allocations of `evaluate_batch` over about 3,000
//! households (typed Arrow columns). The text round trip this replaced made
//! 117 allocations per household (`examples/allocations.rs` reports the
//! numbers). One test only in this file: tests running beside it would be
//! counted too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use weft::arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use weft::arrow_schema::DataType;
use weft::{Date, Engine, Policy};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn counted<T>(f: impl FnOnce() -> T) -> (T, u64, u64) {
    let (a, b) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let t = f();
    (
        t,
        ALLOCS.load(Ordering::Relaxed) - a,
        BYTES.load(Ordering::Relaxed) - b,
    )
}

type Table = (Vec<String>, Vec<Vec<String>>);

fn csv_rows(path: &Path) -> Result<Table, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or("empty file")?
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    Ok((header, rows))
}

fn fen(text: &str) -> Option<i128> {
    let (yuan, cents) = text.split_once('.').unwrap_or((text, "0"));
    Some(yuan.parse::<i128>().ok()? * 100 + format!("{cents:0<2}").parse::<i128>().ok()?)
}

fn days(text: &str) -> Option<i32> {
    let mut p = text.split('-').map(|x| x.parse::<u32>().ok());
    let (y, m, d) = (p.next()??, p.next()??, p.next()??);
    Date::new(y as i32, m, d).map(Date::days)
}

/// Text cells as an array of `ty`.
fn column(cells: &[&str], ty: &DataType) -> Result<ArrayRef, Box<dyn std::error::Error>> {
    let some = |c: &&str| !c.is_empty();
    Ok(match ty {
        DataType::Decimal128(p, s) => Arc::new(
            Decimal128Array::from(
                cells
                    .iter()
                    .map(|c| some(c).then(|| fen(c)).flatten())
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(*p, *s)?,
        ),
        DataType::Date32 => Arc::new(Date32Array::from(
            cells
                .iter()
                .map(|c| some(c).then(|| days(c)).flatten())
                .collect::<Vec<_>>(),
        )),
        DataType::Boolean => Arc::new(BooleanArray::from(
            cells
                .iter()
                .map(|c| some(c).then_some(*c == "true"))
                .collect::<Vec<_>>(),
        )),
        DataType::Int64 => Arc::new(Int64Array::from(
            cells
                .iter()
                .map(|c| c.parse::<i64>().ok())
                .collect::<Vec<_>>(),
        )),
        _ => Arc::new(StringArray::from(
            cells
                .iter()
                .map(|c| some(c).then_some(*c))
                .collect::<Vec<_>>(),
        )),
    })
}

fn batch(
    policy: &Policy,
    input: &str,
    (header, rows): &Table,
) -> Result<RecordBatch, Box<dyn std::error::Error>> {
    let schema = policy.input_schema(input).ok_or("no such input")?;
    let mut cols = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let cells: Vec<&str> = rows
            .iter()
            .map(|r| r.get(i).map(String::as_str).unwrap_or(""))
            .collect();
        let ty = schema
            .field_with_name(h)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Utf8);
        cols.push((h.clone(), column(&cells, &ty)?));
    }
    Ok(RecordBatch::try_from_iter(cols)?)
}

#[test]
fn a_batch_allocates_per_batch_not_per_household() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("tests/jilin/spec-examples/population-small");
    let (hh, hrows) = csv_rows(&dir.join("households.csv")).unwrap();
    let (ph, prows) = csv_rows(&dir.join("persons.csv")).unwrap();
    let policy = Policy::from_dir(root.join("policies/jilin")).unwrap();
    let eval = policy
        .evaluator("2018-08".parse().unwrap(), Engine::Jit)
        .unwrap();
    let mut big_h = (hh, Vec::new());
    let mut big_p = (ph, Vec::new());
    for c in 0..20 {
        for r in &hrows {
            let mut r = r.clone();
            r[0] = format!("{}-{c}", r[0]);
            big_h.1.push(r);
        }
        for r in &prows {
            let mut r = r.clone();
            r[0] = format!("{}-{c}", r[0]);
            r[1] = format!("{}-{c}", r[1]);
            big_p.1.push(r);
        }
    }
    let h = batch(&policy, "households", &big_h).unwrap();
    let p = batch(&policy, "persons", &big_p).unwrap();
    let (r, allocs, _) = counted(|| eval.evaluate_batch(&[("households", &h), ("persons", &p)]));
    let r = r.unwrap();
    let n = big_h.1.len() as u64;
    assert_eq!(r.output("households").unwrap().num_rows() as u64, n);
    assert!(r.errors().is_empty());
    assert!(
        allocs < 16 * n,
        "{allocs} allocations for {n} households ({} per household)",
        allocs / n
    );
}
