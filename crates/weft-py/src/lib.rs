//! `weft._weft`: the extension module under the Python package in
//! `python/` (built by maturin; Python users import `weft`, never this).
//!
//! It goes through the `weft` crate's API only, as every front end does.
//! Tables cross the boundary as Arrow IPC streams: pyarrow writes one
//! (whatever the caller gave — a pyarrow table, a pandas or polars
//! DataFrame through the Arrow PyCapsule interface — is a pyarrow table
//! first), this module reads it into record batches, evaluates with the
//! GIL released, and writes each output back as a stream pyarrow opens
//! without copying. The Python layer (`python/weft/*.py`) shapes the API:
//! objects for diagnostics, tables, summaries, exceptions.
//!
//! Nothing here panics: every failure becomes a Python exception of
//! `weft.errors`, carrying the diagnostics when there are some.

use arrow_array::RecordBatch;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::atomic::{AtomicU64, Ordering};
use weft::python_support as support;

/// How many evaluators this process has compiled (the Spark runner checks
/// that each executor process compiles a policy once).
static COMPILATIONS: AtomicU64 = AtomicU64::new(0);

/// A diagnostic as a tuple: `(code, is_error, message, location, help)`.
type DiagTuple = (String, bool, String, Option<String>, Option<String>);

fn diag_tuples(d: &weft::Diagnostics) -> Vec<DiagTuple> {
    d.iter()
        .map(|i| (i.code, i.is_error, i.message, i.location, i.help))
        .collect()
}

/// A `weft.errors` exception: `kind` names its class.
fn error(
    py: Python<'_>,
    kind: &str,
    message: String,
    diags: Vec<DiagTuple>,
    text: String,
) -> PyErr {
    let made = py
        .import("weft.errors")
        .and_then(|m| m.getattr(kind))
        .and_then(|cls| cls.call1((message.clone(), diags, text)));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

fn to_py(py: Python<'_>, e: weft::Error) -> PyErr {
    use weft::Error as E;
    let message = e.to_string();
    let plain = |kind: &str| error(py, kind, message.clone(), Vec::new(), String::new());
    match &e {
        E::Policy(d) => error(
            py,
            "PolicyError",
            "the policy has errors".into(),
            diag_tuples(d),
            d.render(),
        ),
        E::Assertions(d) => error(
            py,
            "PolicyError",
            message.clone(),
            diag_tuples(d),
            d.render(),
        ),
        E::Io { .. } | E::File { .. } => plain("WeftIOError"),
        E::BadMonth { .. } | E::NoParameterVersion { .. } => plain("MonthError"),
        E::UnknownInput { .. }
        | E::MissingInput { .. }
        | E::MissingColumns { .. }
        | E::ColumnType { .. }
        | E::IntegerMoney { .. }
        | E::UnknownColumn { .. }
        | E::UnknownOutputColumn { .. }
        | E::NoSuchRecord { .. }
        | E::NotEvaluated { .. }
        | E::AmbiguousId { .. }
        | E::Input(_)
        | E::Usage(_) => plain("InputError"),
        E::Engine(_) | E::Internal(_) => plain("EngineError"),
        // Run, Stopped, Busy (runs over files, which this module does not
        // do) and variants added later.
        _ => plain("WeftError"),
    }
}

fn input_error(py: Python<'_>, m: String) -> PyErr {
    error(py, "InputError", m, Vec::new(), String::new())
}

/// An input as Python sees it: `(input, record, [(column, kind, is_key)])`.
type InputTuple = (String, String, Vec<(String, String, bool)>);
/// An input as the evaluator takes it: `(name, IPC stream, lines)`.
type InputView<'a> = (&'a str, &'a [u8], Option<&'a [u64]>);
/// Outputs as `(name, IPC stream)`, and the errors' IPC stream.
type Streams = (Vec<(String, Vec<u8>)>, Vec<u8>);

/// A checked policy pack.
#[pyclass(frozen, module = "weft._weft")]
struct Policy {
    inner: weft::Policy,
}

/// A parameter or module file: `(path, text)`.
type SourceFile = (String, String);

fn sources_of(files: &[SourceFile]) -> weft::Sources {
    files.iter().fold(weft::Sources::new(), |s, (path, text)| {
        if path.ends_with(".weft") {
            s.module(path, text)
        } else {
            s.params(path, text)
        }
    })
}

#[pymethods]
impl Policy {
    /// Load and check the pack in a directory.
    #[staticmethod]
    fn from_dir(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Policy> {
        let r = py.detach(|| weft::Policy::from_dir(&path));
        r.map(|inner| Policy { inner }).map_err(|e| to_py(py, e))
    }

    /// Check a pack given as `(path, text)` pairs (`.weft` files are
    /// modules, the others parameter files).
    #[staticmethod]
    fn from_sources(py: Python<'_>, files: Vec<SourceFile>) -> PyResult<Policy> {
        let r = py.detach(|| weft::Policy::from_sources(sources_of(&files)));
        r.map(|inner| Policy { inner }).map_err(|e| to_py(py, e))
    }

    /// The same policy with parameter files overlaid.
    fn with_params(&self, py: Python<'_>, files: Vec<SourceFile>) -> PyResult<Policy> {
        let overlays: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let r = py.detach(|| self.inner.with_params(&overlays));
        r.map(|inner| Policy { inner }).map_err(|e| to_py(py, e))
    }

    /// Warnings found while checking: `(diagnostics, rendered text)`.
    fn warnings(&self) -> (Vec<DiagTuple>, String) {
        let d = self.inner.warnings();
        (diag_tuples(&d), d.render())
    }

    /// What `weft check` adds: the parameter assertions.
    fn check_assertions(&self, py: Python<'_>) -> (Vec<DiagTuple>, String) {
        let d = py.detach(|| self.inner.check_assertions());
        (diag_tuples(&d), d.render())
    }

    /// `(input, record, [(column, kind, is_key)])` per input.
    fn inputs(&self) -> Vec<InputTuple> {
        let types = support::input_column_types(&self.inner);
        self.inner
            .inputs()
            .into_iter()
            .map(|i| {
                let cols = types
                    .iter()
                    .find(|(n, _)| *n == i.name)
                    .map(|(_, cols)| {
                        cols.iter()
                            .map(|c| (c.name.clone(), c.kind.to_string(), c.key))
                            .collect()
                    })
                    .unwrap_or_default();
                (i.name, i.record, cols)
            })
            .collect()
    }

    /// `(output, record, [column])` per output.
    fn outputs(&self) -> Vec<(String, String, Vec<String>)> {
        self.inner
            .outputs()
            .into_iter()
            .map(|o| (o.name, o.record, o.columns))
            .collect()
    }

    /// `(name, display, output, [(column, period)], recipients)`.
    #[allow(clippy::type_complexity)]
    fn programmes(
        &self,
    ) -> Vec<(
        String,
        Option<String>,
        String,
        Vec<(String, String)>,
        Option<String>,
    )> {
        support::programmes(&self.inner)
            .into_iter()
            .map(|p| {
                (
                    p.name,
                    p.display,
                    p.output,
                    p.amounts
                        .into_iter()
                        .map(|(c, per)| (c, per.to_string()))
                        .collect(),
                    p.recipients,
                )
            })
            .collect()
    }

    /// `(group input, group key, member input, member link)`, if members
    /// belong to groups.
    fn hierarchy(&self) -> Option<(String, String, String, String)> {
        support::hierarchy(&self.inner)
            .map(|h| (h.group_input, h.group_key, h.member_input, h.member_link))
    }

    /// Bind to a month (`YYYY-MM`) and compile for an engine (`jit` or
    /// `interp`). The GIL is released while compiling.
    fn evaluator(&self, py: Python<'_>, as_of: &str, engine: &str) -> PyResult<Evaluator> {
        let engine = match engine {
            "jit" => weft::Engine::Jit,
            "interp" | "interpreter" => weft::Engine::Interpreter,
            other => {
                return Err(PyValueError::new_err(format!(
                    "`{other}` is not an engine; write `jit` or `interp`"
                )));
            }
        };
        let month: weft::Month = as_of.parse().map_err(|e| to_py(py, e))?;
        let r = py.detach(|| self.inner.evaluator(month, engine));
        let inner = r.map_err(|e| to_py(py, e))?;
        COMPILATIONS.fetch_add(1, Ordering::Relaxed);
        Ok(Evaluator { inner })
    }
}

/// A policy bound to a month and compiled for an engine.
#[pyclass(frozen, module = "weft._weft")]
struct Evaluator {
    inner: weft::Evaluator,
}

fn read_ipc(name: &str, bytes: &[u8]) -> Result<RecordBatch, String> {
    let bad = |e: &dyn std::fmt::Display| format!("the input `{name}` is not an Arrow stream: {e}");
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .map_err(|e| bad(&e))?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| bad(&e))?;
    arrow_select::concat::concat_batches(&schema, &batches).map_err(|e| bad(&e))
}

fn write_ipc(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let bad = |e: &dyn std::fmt::Display| format!("cannot hand a result to Python: {e}");
    let mut out = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, batch.schema_ref())
        .map_err(|e| bad(&e))?;
    w.write(batch).map_err(|e| bad(&e))?;
    w.finish().map_err(|e| bad(&e))?;
    drop(w);
    Ok(out)
}

/// An input: `(name, Arrow IPC stream, line of each row or None)`.
type BatchInput<'py> = (String, Bound<'py, PyBytes>, Option<Vec<u64>>);
/// Outputs as `(name, IPC stream)`, then the errors as an IPC stream.
type BatchOutput<'py> = (Vec<(String, Bound<'py, PyBytes>)>, Bound<'py, PyBytes>);

enum EvalFailure {
    Weft(weft::Error),
    Other(String),
}

#[pymethods]
impl Evaluator {
    /// Evaluate inputs given as Arrow IPC streams; returns the outputs and
    /// the error rows as IPC streams. The GIL is released meanwhile.
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<BatchInput<'py>>,
    ) -> PyResult<BatchOutput<'py>> {
        let inputs: Vec<InputView<'_>> = inputs
            .iter()
            .map(|(n, b, l)| (n.as_str(), b.as_bytes(), l.as_deref()))
            .collect();
        let done = py.detach(|| -> Result<Streams, EvalFailure> {
            let batches = inputs
                .iter()
                .map(|(n, b, _)| read_ipc(n, b))
                .collect::<Result<Vec<_>, _>>()
                .map_err(EvalFailure::Other)?;
            let args: Vec<(&str, &RecordBatch, Option<&[u64]>)> = inputs
                .iter()
                .zip(&batches)
                .map(|((n, _, l), b)| (*n, b, *l))
                .collect();
            let res =
                support::evaluate_batch_lines(&self.inner, &args).map_err(EvalFailure::Weft)?;
            let outs = res
                .outputs()
                .iter()
                .map(|(n, b)| write_ipc(b).map(|bytes| (n.clone(), bytes)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(EvalFailure::Other)?;
            let errs = res.errors_batch().map_err(EvalFailure::Weft)?;
            let errs = write_ipc(&errs).map_err(EvalFailure::Other)?;
            Ok((outs, errs))
        });
        match done {
            Ok((outs, errs)) => Ok((
                outs.into_iter()
                    .map(|(n, b)| (n, PyBytes::new(py, &b)))
                    .collect(),
                PyBytes::new(py, &errs),
            )),
            Err(EvalFailure::Weft(e)) => Err(to_py(py, e)),
            Err(EvalFailure::Other(m)) => Err(input_error(py, m)),
        }
    }

    /// Explain the record `id` among records given as JSON text: `(text,
    /// JSON text)`.
    fn explain(
        &self,
        py: Python<'_>,
        json: &str,
        id: &str,
        columns: Vec<String>,
    ) -> PyResult<(String, String)> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| input_error(py, format!("the records are not JSON: {e}")))?;
        let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
        let r = py.detach(|| self.inner.explain_json(&value, id, &cols));
        let ex = r.map_err(|e| to_py(py, e))?;
        Ok((ex.to_text(), ex.to_json().to_string()))
    }

    /// The month evaluated, `YYYY-MM`.
    #[getter]
    fn as_of(&self) -> String {
        self.inner.as_of().to_string()
    }

    /// `jit` or `interp`.
    #[getter]
    fn engine(&self) -> &'static str {
        self.inner.engine().name()
    }
}

/// How many evaluators this process has compiled.
#[pyfunction]
fn compilations() -> u64 {
    COMPILATIONS.load(Ordering::Relaxed)
}

#[pymodule]
fn _weft(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Policy>()?;
    m.add_class::<Evaluator>()?;
    m.add_function(wrap_pyfunction!(compilations, m)?)?;
    Ok(())
}
