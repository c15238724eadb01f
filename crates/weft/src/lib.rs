//! Weft: social-assistance policy as exact, checked, fast code — the
//! embedding API.
//!
//! A [`Policy`] is a checked policy pack, loaded from a directory or from
//! sources held in memory (no file access needed). An [`Evaluator`] is a
//! policy bound to a month and compiled for an engine (the reference
//! interpreter or the cranelift JIT); it evaluates one household given as
//! JSON or [`Records`], a whole batch given as Arrow record batches, and
//! explains any record. Both are `Send + Sync`: one evaluator serves many
//! threads at once.
//!
//! ```
//! use weft::{Engine, Month, Policy, Sources};
//!
//! let policy = Policy::from_sources(
//!     Sources::new().module(
//!         "grant.weft",
//!         r#"
//!         record Person input persons {
//!           person_id: Text key
//!           income: Money per month
//!         }
//!         /// A grant of 10% of the income, at most ¥100.
//!         rule grant(p: Person): Money per month = min(10% * p.income, ¥100)
//!         output persons(p: Person) {
//!           person_id
//!           grant
//!         }
//!         "#,
//!     ),
//! )?;
//! let eval = policy.evaluator("2024-01".parse::<Month>()?, Engine::Interpreter)?;
//! let result = eval.evaluate_json(&serde_json::json!({
//!     "persons": [{"person_id": "P1", "income": "834.55"}]
//! }))?;
//! // 10% of 834.55 is 83.455: rounded once, half away from zero, to the fen.
//! assert_eq!(result.output("persons").unwrap().value(0, "grant").unwrap().to_string(), "83.46");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Money is exact (integer fen), decimals are fixed-point; see the language
//! reference in `docs/language.md`. Nothing here panics on bad input: bad
//! policy text gives [`Diagnostics`], bad records give [`ErrorRow`]s.

#![deny(missing_docs)]

mod values;

pub mod python_support;

pub use arrow_array::RecordBatch;
pub use values::{Date, Decimal, Money, Value};

use std::path::Path;
use std::sync::Arc;
use weft_engine::load::PackFiles;
use weft_engine::run::{ChunkEval, InterpEval, plan_for, roots};

/// The text of a policy pack held in memory.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pack: weft_check::pack::PackSources,
}

impl Sources {
    /// An empty pack.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Add a `.weft` module (`path` names it: `sub/rules.weft` is the
    /// module `sub.rules`).
    pub fn module(mut self, path: &str, text: &str) -> Sources {
        self.pack.modules.push((path.to_string(), text.to_string()));
        self
    }

    /// Add a parameter data file (TOML, or CSV named after its parameter).
    pub fn params(mut self, path: &str, text: &str) -> Sources {
        self.pack.params.push((path.to_string(), text.to_string()));
        self
    }
}

/// One diagnostic, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticInfo {
    /// A stable code (`E0330`), listed in the language reference.
    pub code: String,
    /// Whether it is an error (otherwise a warning).
    pub is_error: bool,
    /// One lowercase sentence.
    pub message: String,
    /// `file:line:column`, when the diagnostic has a place.
    pub location: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

/// Diagnostics about a policy, with the text they point into.
#[derive(Clone)]
pub struct Diagnostics {
    items: Vec<weft_syntax::Diagnostic>,
    sources: Arc<weft_syntax::SourceMap>,
}

impl Diagnostics {
    /// Each diagnostic as data.
    pub fn iter(&self) -> impl Iterator<Item = DiagnosticInfo> + '_ {
        self.items.iter().map(|d| DiagnosticInfo {
            code: d.code.to_string(),
            is_error: d.is_error(),
            message: d.message.clone(),
            location: d.span().map(|_| d.location(&self.sources)),
            help: d.help.clone(),
        })
    }

    /// How many diagnostics there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.is_error())
    }

    /// Rendered by miette, without colours, 80 columns wide.
    pub fn render(&self) -> String {
        weft_syntax::diag::render_plain(&self.items, &self.sources)
    }

    /// Rendered by miette with colours, for a terminal.
    pub fn render_color(&self) -> String {
        weft_syntax::diag::render_color(&self.items, &self.sources)
    }

    /// Each diagnostic as a miette report (source code attached).
    pub fn reports(&self) -> Vec<miette::Report> {
        self.items
            .iter()
            .map(|d| miette::Report::new(d.report(&self.sources)))
            .collect()
    }
}

impl std::fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

/// Why something could not be done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy has errors.
    #[error("the policy has errors:\n{0}")]
    Policy(Diagnostics),
    /// A file could not be read.
    #[error("{0}")]
    Io(String),
    /// The month cannot be evaluated (a parameter has no version in force).
    #[error("{0}")]
    Month(String),
    /// The input does not fit the policy (a missing column, an unknown
    /// input name, malformed JSON).
    #[error("{0}")]
    Input(String),
    /// The engine could not compile the policy.
    #[error("{0}")]
    Engine(String),
}

/// A month, the unit of evaluation (`2018-08` evaluates as of 2018-08-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    days: i32,
}

impl Month {
    /// The month of a year (`None` for an impossible month).
    pub fn new(year: i32, month: u32) -> Option<Month> {
        weft_syntax::num::make_date(year, month, 1).map(|days| Month { days })
    }
}

impl std::str::FromStr for Month {
    type Err = Error;
    fn from_str(s: &str) -> Result<Month, Error> {
        weft_syntax::num::parse_month(s)
            .map(|days| Month { days })
            .ok_or_else(|| Error::Input(format!("`{s}` is not a month; write YYYY-MM")))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&weft_syntax::num::format_month(self.days))
    }
}

/// Which engine evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The reference interpreter: the definition of what a policy means.
    Interpreter,
    /// Native code compiled with cranelift; bit-identical to the interpreter.
    Jit,
}

struct PolicyInner {
    sources: Arc<weft_syntax::SourceMap>,
    ir: weft_ir::Ir,
    pack: weft_check::pack::PackSources,
    warnings: Vec<weft_syntax::Diagnostic>,
}

/// A checked policy pack. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Policy {
    inner: Arc<PolicyInner>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("modules", &self.inner.ir.hir.modules.len())
            .field("rules", &self.inner.ir.hir.rules.len())
            .finish()
    }
}

/// An input of a policy: a record kind read from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputInfo {
    /// The input's name (`persons`): the key in JSON, the `--persons` flag.
    pub name: String,
    /// The record kind it holds.
    pub record: String,
    /// The columns read, in declaration order.
    pub columns: Vec<String>,
}

/// An output of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputInfo {
    /// The output's name (the file written, without extension).
    pub name: String,
    /// The record kind it has a row for.
    pub record: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
}

impl Policy {
    /// Load and check the pack in a directory (every `.weft`, `.toml` and
    /// `.csv` file below it).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Policy, Error> {
        let pack = weft_check::pack::PackSources::from_dir(dir.as_ref())
            .map_err(|e| Error::Io(format!("{}: {e}", dir.as_ref().display())))?;
        Policy::compile(pack)
    }

    /// Check a pack held in memory.
    pub fn from_sources(sources: Sources) -> Result<Policy, Error> {
        Policy::compile(sources.pack)
    }

    fn compile(pack: weft_check::pack::PackSources) -> Result<Policy, Error> {
        let (sources, program, diags) = weft_check::pack::compile_sources(&pack);
        let sources = Arc::new(sources);
        if diags.iter().any(|d| d.is_error()) {
            return Err(Error::Policy(Diagnostics {
                items: diags,
                sources,
            }));
        }
        let ir = weft_ir::lower::lower(Arc::new(program)).map_err(|e| {
            Error::Engine(format!("internal error while lowering the policy: {}", e.0))
        })?;
        Ok(Policy {
            inner: Arc::new(PolicyInner {
                sources,
                ir,
                pack,
                warnings: diags,
            }),
        })
    }

    /// The same policy with parameter files overlaid (`(path, text)`): the
    /// overlays add versions by effective date, or replace a parameter's
    /// history with `replace = true`. The policy is checked again.
    pub fn with_params(&self, overlays: &[(&str, &str)]) -> Result<Policy, Error> {
        let mut pack = self.inner.pack.clone();
        pack.overlays
            .extend(overlays.iter().map(|(n, t)| (n.to_string(), t.to_string())));
        Policy::compile(pack)
    }

    /// Warnings found while checking.
    pub fn warnings(&self) -> Diagnostics {
        Diagnostics {
            items: self.inner.warnings.clone(),
            sources: self.inner.sources.clone(),
        }
    }

    /// Check the assertions on parameters (what `weft check` adds to
    /// checking): failures as diagnostics (errors and warnings).
    pub fn check_assertions(&self) -> Diagnostics {
        Diagnostics {
            items: weft_engine::asserts::check_assertions(&self.inner.ir, &self.inner.sources),
            sources: self.inner.sources.clone(),
        }
    }

    /// The inputs the policy reads.
    pub fn inputs(&self) -> Vec<InputInfo> {
        let prog = &self.inner.ir.hir;
        weft_data::schema::InputSchema::all(prog)
            .into_iter()
            .map(|s| InputInfo {
                name: s.input.clone(),
                record: prog
                    .records
                    .get(s.record as usize)
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                columns: s.columns.iter().map(|c| c.name.clone()).collect(),
            })
            .collect()
    }

    /// The outputs the policy declares.
    pub fn outputs(&self) -> Vec<OutputInfo> {
        let ir = &self.inner.ir;
        ir.outputs
            .iter()
            .map(|o| OutputInfo {
                name: o.name.clone(),
                record: ir
                    .hir
                    .records
                    .get(o.record as usize)
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                columns: o.columns.iter().map(|c| c.name.clone()).collect(),
            })
            .collect()
    }

    /// Bind the policy to a month and compile it for an engine.
    pub fn evaluator(&self, as_of: Month, engine: Engine) -> Result<Evaluator, Error> {
        let ir = &self.inner.ir;
        let bound = weft_ir::bind::bind(ir, as_of.days, &roots(ir))
            .map_err(|e| Error::Month(format!("cannot evaluate {as_of}: {e}")))?;
        let plan = plan_for(ir).map_err(|e| Error::Input(e.to_string()))?;
        let jit =
            match engine {
                Engine::Interpreter => None,
                Engine::Jit => Some(weft_jit::JitProgram::compile(ir, &bound).map_err(|e| {
                    Error::Engine(format!("the JIT cannot compile this policy: {e}"))
                })?),
            };
        Ok(Evaluator {
            policy: self.clone(),
            as_of,
            bound,
            plan,
            jit,
        })
    }
}

/// Records given in code: rows of `(column, text)` per input, the text in
/// the formats of the data files (`1234.50`, `2018-08-01`, `true`, codes).
#[derive(Debug, Clone, Default)]
pub struct Records {
    inputs: Vec<(String, Vec<Row>)>,
}

/// One record given in code: `(column, text)` pairs.
type Row = Vec<(String, String)>;

impl Records {
    /// No records yet.
    pub fn new() -> Records {
        Records::default()
    }

    /// Add a record to an input (`persons`, `households`).
    pub fn add<K: Into<String>, V: Into<String>>(
        mut self,
        input: &str,
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Records {
        let row: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        match self.inputs.iter_mut().find(|(n, _)| n == input) {
            Some((_, rows)) => rows.push(row),
            None => self.inputs.push((input.to_string(), vec![row])),
        }
        self
    }
}

/// A record that could not be evaluated, as in `errors.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRow {
    /// The input's name.
    pub input: String,
    /// The record's position in its input (1-based).
    pub line: u64,
    /// The record's id (empty if it has none).
    pub record_id: String,
    /// The column at fault (`rule:NAME` for an evaluation error), or empty
    /// when the record was rejected because of another.
    pub column: String,
    /// A sentence for people.
    pub message: String,
}

/// The rows of one output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputRows {
    /// The output's name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// One row per record evaluated, in input order.
    pub rows: Vec<Vec<Value>>,
}

impl OutputRows {
    /// The value of a column in a row.
    pub fn value(&self, row: usize, column: &str) -> Option<&Value> {
        let c = self.columns.iter().position(|x| x == column)?;
        self.rows.get(row)?.get(c)
    }

    /// The row whose first column (the record's id) is `id`.
    pub fn row_by_id(&self, id: &str) -> Option<&[Value]> {
        self.rows
            .iter()
            .find(|r| matches!(r.first(), Some(Value::Text(t)) if t == id))
            .map(|r| r.as_slice())
    }
}

/// The result of evaluating some records.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// One entry per output declared by the policy.
    pub outputs: Vec<OutputRows>,
    /// The records that could not be evaluated.
    pub errors: Vec<ErrorRow>,
}

impl Evaluation {
    /// An output by name.
    pub fn output(&self, name: &str) -> Option<&OutputRows> {
        self.outputs.iter().find(|o| o.name == name)
    }

    /// As JSON: `{"persons": [{column: value, …}], …, "errors": […]}`
    /// (money and decimals as exact strings).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for o in &self.outputs {
            let rows: Vec<serde_json::Value> = o
                .rows
                .iter()
                .map(|r| {
                    serde_json::Value::Object(
                        o.columns
                            .iter()
                            .cloned()
                            .zip(r.iter().map(Value::to_json))
                            .collect(),
                    )
                })
                .collect();
            m.insert(o.name.clone(), serde_json::Value::Array(rows));
        }
        let errs: Vec<serde_json::Value> = self
            .errors
            .iter()
            .map(|e| serde_json::json!({"input": e.input, "line": e.line, "record_id": e.record_id, "column": e.column, "message": e.message}))
            .collect();
        m.insert("errors".into(), serde_json::Value::Array(errs));
        serde_json::Value::Object(m)
    }
}

/// Outputs of a batch as Arrow record batches.
#[derive(Debug, Clone)]
pub struct BatchResult {
    /// `(output name, batch)`, rows in input order.
    pub outputs: Vec<(String, RecordBatch)>,
    /// `input, line, record_id, column, message`.
    pub errors: RecordBatch,
}

/// An explanation of one record's outputs.
#[derive(Debug, Clone)]
pub struct Explanation {
    inner: weft_engine::explain::Explanation,
}

impl Explanation {
    /// A tree a caseworker can read.
    pub fn to_text(&self) -> String {
        weft_engine::explain::render_text(&self.inner)
    }

    /// As JSON: each output column with its tree of steps.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.inner).unwrap_or(serde_json::Value::Null)
    }

    /// The explained value of an output column (as shown to people).
    pub fn value(&self, column: &str) -> Option<&str> {
        self.inner
            .outputs
            .iter()
            .find(|(c, _)| c == column)
            .and_then(|(_, n)| n.value.as_deref())
    }
}

/// A policy bound to a month and compiled for an engine. `Send + Sync`.
pub struct Evaluator {
    policy: Policy,
    as_of: Month,
    bound: weft_ir::bind::Bound,
    plan: weft_interp::batch::Plan,
    jit: Option<weft_jit::JitProgram>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("as_of", &self.as_of)
            .field("engine", &self.engine())
            .finish()
    }
}

struct JitEval<'a> {
    ev: &'a Evaluator,
    jit: &'a weft_jit::JitProgram,
}

impl ChunkEval for JitEval<'_> {
    fn name(&self) -> &'static str {
        "jit"
    }
    fn eval_chunk(&self, chunk: &weft_ir::data::Chunk) -> weft_interp::batch::ChunkResult {
        self.jit.eval_chunk(
            &self.ev.policy.inner.ir,
            &self.ev.bound,
            chunk,
            &self.ev.plan,
        )
    }
}

fn rows_of_json(v: &serde_json::Value) -> (Vec<String>, Vec<weft_data::Row>) {
    use weft_data::cell::CellKind;
    let objs: Vec<&serde_json::Map<String, serde_json::Value>> = match v {
        serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_object()).collect(),
        serde_json::Value::Object(o) => vec![o],
        _ => Vec::new(),
    };
    let mut header: Vec<String> = Vec::new();
    for o in &objs {
        for k in o.keys() {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    let mut rows = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        let mut r = weft_data::Row::default();
        r.reset(header.len());
        r.line = i as u64 + 1;
        for (ci, h) in header.iter().enumerate() {
            match o.get(h) {
                None | Some(serde_json::Value::Null) => {}
                Some(serde_json::Value::String(s)) => r.set(ci, CellKind::Text, s),
                Some(serde_json::Value::Number(n)) => r.set(ci, CellKind::Number, &n.to_string()),
                Some(serde_json::Value::Bool(b)) => {
                    r.set(ci, CellKind::Bool, if *b { "true" } else { "false" })
                }
                Some(other) => r.set(ci, CellKind::Nested, &other.to_string()),
            }
        }
        rows.push(r);
    }
    (header, rows)
}

type Table = (Vec<String>, Vec<weft_data::Row>);

impl Evaluator {
    /// The month evaluated.
    pub fn as_of(&self) -> Month {
        self.as_of
    }

    /// The engine it runs on.
    pub fn engine(&self) -> Engine {
        if self.jit.is_some() {
            Engine::Jit
        } else {
            Engine::Interpreter
        }
    }

    /// The policy it evaluates.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn inputs(&self) -> (String, Option<String>) {
        let prog = &self.policy.inner.ir.hir;
        let schemas = weft_data::schema::InputSchema::all(prog);
        let g = schemas
            .get(self.plan.group.0 as usize)
            .map(|s| s.input.clone())
            .unwrap_or_default();
        let m = self
            .plan
            .member
            .as_ref()
            .and_then(|(r, _)| schemas.get(*r as usize))
            .map(|s| s.input.clone());
        (g, m)
    }

    fn tables_of_json(&self, json: &serde_json::Value) -> Result<(Table, Option<Table>), Error> {
        let Some(obj) = json.as_object() else {
            return Err(Error::Input(
                "the input should be an object with one key per input".into(),
            ));
        };
        let (g, m) = self.inputs();
        for k in obj.keys() {
            if *k != g && Some(k) != m.as_ref() {
                return Err(Error::Input(format!("the policy has no input `{k}`")));
            }
        }
        let gt = rows_of_json(obj.get(&g).unwrap_or(&serde_json::Value::Null));
        let mt =
            m.map(|m| rows_of_json(obj.get(&m).unwrap_or(&serde_json::Value::Array(Vec::new()))));
        Ok((gt, mt))
    }

    fn run(
        &self,
        group: &Table,
        members: Option<&Table>,
    ) -> Result<weft_engine::run::MemoryResult, Error> {
        let ir = &self.policy.inner.ir;
        let interp = InterpEval {
            ir,
            bound: &self.bound,
            plan: &self.plan,
        };
        let jit;
        let ev: &dyn ChunkEval = match &self.jit {
            Some(j) => {
                jit = JitEval { ev: self, jit: j };
                &jit
            }
            None => &interp,
        };
        weft_engine::run::run_in_memory(
            ir,
            &self.bound,
            ev,
            (&group.0, &group.1),
            members.map(|m| (m.0.as_slice(), m.1.as_slice())),
        )
        .map_err(|e| Error::Input(e.to_string()))
    }

    fn evaluation(&self, r: weft_engine::run::MemoryResult) -> Evaluation {
        let ir = &self.policy.inner.ir;
        let outputs = ir
            .outputs
            .iter()
            .zip(r.outputs)
            .map(|(o, rows)| OutputRows {
                name: o.name.clone(),
                columns: o.columns.iter().map(|c| c.name.clone()).collect(),
                rows: rows
                    .into_iter()
                    .map(|cells| cells.into_iter().map(Value::from_cell).collect())
                    .collect(),
            })
            .collect();
        let errors = r
            .errors
            .into_iter()
            .map(|(input, line, record_id, column, message)| ErrorRow {
                input,
                line,
                record_id,
                column,
                message,
            })
            .collect();
        Evaluation { outputs, errors }
    }

    /// Evaluate records given as JSON: `{"households": {…} or […],
    /// "persons": […]}` (keys are the policy's input names; values as in a
    /// JSON Lines file: money and dates as strings).
    pub fn evaluate_json(&self, json: &serde_json::Value) -> Result<Evaluation, Error> {
        let (g, m) = self.tables_of_json(json)?;
        let r = self.run(&g, m.as_ref())?;
        Ok(self.evaluation(r))
    }

    /// Evaluate records given in code.
    pub fn evaluate(&self, records: &Records) -> Result<Evaluation, Error> {
        let mut obj = serde_json::Map::new();
        for (input, rows) in &records.inputs {
            let arr: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::Value::Object(
                        r.iter()
                            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                            .collect(),
                    )
                })
                .collect();
            obj.insert(input.clone(), serde_json::Value::Array(arr));
        }
        self.evaluate_json(&serde_json::Value::Object(obj))
    }

    /// Evaluate a batch given as Arrow record batches, `(input name,
    /// batch)`: columns in, columns out. Money columns may be Decimal128
    /// (scale ≤ 2) or text; floating-point money is refused.
    pub fn evaluate_batch(&self, inputs: &[(&str, &RecordBatch)]) -> Result<BatchResult, Error> {
        let (g, m) = self.inputs();
        for (n, _) in inputs {
            if *n != g && Some(*n) != m.as_deref() {
                return Err(Error::Input(format!("the policy has no input `{n}`")));
            }
        }
        let table = |name: &str| -> Option<Table> {
            inputs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| weft_data::parquetio::rows_of_batch(b, 1))
        };
        let gt =
            table(&g).ok_or_else(|| Error::Input(format!("the batch needs the input `{g}`")))?;
        let mt = match &m {
            Some(m) => Some(
                table(m).ok_or_else(|| Error::Input(format!("the batch needs the input `{m}`")))?,
            ),
            None => None,
        };
        for t in std::iter::once(&gt).chain(mt.iter()) {
            for r in &t.1 {
                if r.cells
                    .iter()
                    .any(|c| c.kind == weft_data::cell::CellKind::Float)
                {
                    return Err(Error::Input("a column holds floating-point numbers; money must be exact (Decimal128 with scale ≤ 2, or text)".into()));
                }
            }
        }
        let res = self.run(&gt, mt.as_ref())?;
        let ir = &self.policy.inner.ir;
        let mut outputs = Vec::new();
        for (o, rows) in ir.outputs.iter().zip(&res.outputs) {
            let cols: Vec<(String, weft_data::OutType)> = o
                .columns
                .iter()
                .map(|c| (c.name.clone(), values::out_type(&c.ty)))
                .collect();
            let mut b = weft_data::parquetio::BatchBuilder::new(&cols).map_err(Error::Input)?;
            for r in rows {
                b.push(r).map_err(Error::Input)?;
            }
            outputs.push((o.name.clone(), b.finish().map_err(Error::Input)?));
        }
        use weft_data::{OutCell, OutType};
        let ecols: Vec<(String, OutType)> = [
            ("input", OutType::Text),
            ("line", OutType::Int),
            ("record_id", OutType::Text),
            ("column", OutType::Text),
            ("message", OutType::Text),
        ]
        .iter()
        .map(|(n, t)| (n.to_string(), *t))
        .collect();
        let mut eb = weft_data::parquetio::BatchBuilder::new(&ecols).map_err(Error::Input)?;
        for (f, l, id, c, msg) in &res.errors {
            eb.push(&[
                OutCell::Text(f.clone()),
                OutCell::Int(*l as i64),
                OutCell::Text(id.clone()),
                OutCell::Text(c.clone()),
                OutCell::Text(msg.clone()),
            ])
            .map_err(Error::Input)?;
        }
        Ok(BatchResult {
            outputs,
            errors: eb.finish().map_err(Error::Input)?,
        })
    }

    /// Explain the outputs of the record `id` among records given as JSON
    /// (the interpreter traces the evaluation; the values are those every
    /// engine computes). `columns` limits the outputs explained.
    pub fn explain_json(
        &self,
        json: &serde_json::Value,
        id: &str,
        columns: &[&str],
    ) -> Result<Explanation, Error> {
        let ir = &self.policy.inner.ir;
        let (g, m) = self.tables_of_json(json)?;
        let prepared = weft_engine::run::prepare_in_memory(
            ir,
            (&g.0, &g.1),
            m.as_ref().map(|t| (t.0.as_slice(), t.1.as_slice())),
        )
        .map_err(|e| Error::Input(e.to_string()))?;
        let (keep, errors) = weft_engine::run::check_groups(ir, &self.bound, prepared.groups)
            .map_err(|e| Error::Input(e.to_string()))?;
        // The group holding the record.
        let pos = keep.iter().enumerate().find_map(|(gi, grp)| {
            if grp.row.id == id {
                Some((gi, None))
            } else {
                grp.members
                    .iter()
                    .position(|p| p.id == id)
                    .map(|mi| (gi, Some(mi)))
            }
        });
        let Some((gi, mi)) = pos else {
            let why = errors
                .iter()
                .find(|e| e.2 == id)
                .map(|e| format!(": {}", e.4))
                .unwrap_or_default();
            return Err(Error::Input(format!(
                "the record `{id}` is not evaluated{why}"
            )));
        };
        let prog = &ir.hir;
        let schemas = weft_data::schema::InputSchema::all(prog);
        let gs = schemas
            .get(self.plan.group.0 as usize)
            .ok_or_else(|| Error::Input("no group record".into()))?;
        let ms = self
            .plan
            .member
            .as_ref()
            .and_then(|(r, _)| schemas.get(*r as usize));
        let one = [&keep[gi]];
        let chunk = weft_engine::rows::build_chunk(prog, gs, ms, &one);
        let (record, row) = match mi {
            Some(i) => (ms.map(|s| s.record).unwrap_or(0), i),
            None => (gs.record, 0),
        };
        let cols: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let inner = weft_engine::explain::explain(
            ir,
            &self.bound,
            &chunk,
            &self.plan,
            (record, row),
            &cols,
            Some(&self.policy.inner.sources),
        );
        Ok(Explanation { inner })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn policies_and_evaluators_are_send_and_sync() {
        assert_send_sync::<Policy>();
        assert_send_sync::<Evaluator>();
        assert_send_sync::<Diagnostics>();
    }
}
