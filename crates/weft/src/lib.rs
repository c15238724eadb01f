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

mod batch;
mod diagnostics;
pub mod doc;
pub mod editor;
mod error;
pub mod explain;
pub mod files;
pub mod fmt;
pub mod lang;
pub mod openfisca;
mod overlay;
mod report;
pub mod run;
pub mod synth;
pub mod testing;
mod values;

pub mod python_support;

/// The Arrow arrays and record batches of this API's signatures.
pub use arrow_array;
pub use arrow_array::RecordBatch;
/// The Arrow schemas of [`Policy::input_schema`].
pub use arrow_schema;
pub use batch::{BatchOptions, IntegerMoney};
pub use diagnostics::{DiagnosticInfo, Diagnostics};
pub use error::Error;
/// The diagnostics library whose `Diagnostic` [`Diagnostics`] and
/// [`Error`] implement.
pub use miette;
pub use values::{Date, Decimal, Money, Value};

use std::path::Path;
use std::sync::Arc;
use weft_engine::engines::{Engine as EngineImpl, Interpreter, Jit};
use weft_engine::load::PackFiles;
use weft_engine::run::{plan_for, roots};

/// How an evaluator's compiled program was obtained ([`Evaluator::compiled`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compiled {
    /// How long compiling (or finding the program compiled before) took.
    pub time: std::time::Duration,
    /// Whether a program compiled before for the same binding (policy,
    /// month and parameter values) was reused.
    pub reused: bool,
}

impl From<Compiled> for weft_engine::engines::Compiled {
    fn from(c: Compiled) -> Self {
        weft_engine::engines::Compiled {
            time: c.time,
            reused: c.reused,
        }
    }
}

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

    /// Its first day, the date it is evaluated as of.
    pub fn first_day(self) -> Date {
        Date::from_days(self.days)
    }

    pub(crate) fn days(self) -> i32 {
        self.days
    }
}

impl std::str::FromStr for Month {
    type Err = Error;
    fn from_str(s: &str) -> Result<Month, Error> {
        weft_syntax::num::parse_month(s)
            .map(|days| Month { days })
            .ok_or_else(|| Error::BadMonth {
                text: s.to_string(),
            })
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&weft_syntax::num::format_month(self.days))
    }
}

/// Which engine evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// The reference interpreter: the definition of what a policy means.
    Interpreter,
    /// Native code compiled with cranelift; bit-identical to the interpreter.
    Jit,
}

impl Engine {
    /// `interp` or `jit`, as the command line and manifests name them.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Interpreter => "interp",
            Engine::Jit => "jit",
        }
    }

    /// The engine named `interp` or `jit`.
    ///
    /// ```
    /// assert_eq!(weft::Engine::from_name("jit"), Some(weft::Engine::Jit));
    /// ```
    pub fn from_name(name: &str) -> Option<Engine> {
        match name {
            "interp" => Some(Engine::Interpreter),
            "jit" => Some(Engine::Jit),
            _ => None,
        }
    }

    /// The fastest engine: the JIT.
    pub fn fastest() -> Engine {
        Engine::Jit
    }

    /// The engine crate's name for it.
    pub(crate) fn kind(self) -> weft_engine::engines::EngineKind {
        match self {
            Engine::Interpreter => weft_engine::engines::EngineKind::Interp,
            Engine::Jit => weft_engine::engines::EngineKind::Jit,
        }
    }
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
#[non_exhaustive]
pub struct InputInfo {
    /// The input's name (`persons`): the key in JSON, the `--persons` flag.
    pub name: String,
    /// The record kind it holds.
    pub record: String,
    /// The columns read, in declaration order.
    pub columns: Vec<String>,
}

/// How much a policy holds (what `weft check` reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyCounts {
    /// Modules (`.weft` files).
    pub modules: usize,
    /// Rules.
    pub rules: usize,
    /// Parameters.
    pub parameters: usize,
    /// Assertions on parameters.
    pub assertions: usize,
}

/// An output of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    ///
    /// ```
    /// let policy = weft::Policy::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin"))?;
    /// assert!(policy.warnings().iter().all(|w| !w.is_error));
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Policy, Error> {
        Policy::load(dir, &[] as &[&Path])
    }

    /// Load and check the pack in a directory with parameter files (or
    /// directories of them) overlaid, as `weft run --params` does. The
    /// overlays are not checked against the policy's assertions: see
    /// [`Policy::check_assertions`].
    ///
    /// ```
    /// let policy = weft::Policy::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin"), &["/no/such/overlay.toml"]);
    /// // A file that cannot be read is a diagnostic (E0001) like any other.
    /// assert!(matches!(policy, Err(weft::Error::Policy(d)) if d.iter().any(|x| x.code == "E0001")));
    /// ```
    pub fn load<P: AsRef<Path>>(dir: impl AsRef<Path>, overlays: &[P]) -> Result<Policy, Error> {
        let dir = dir.as_ref();
        let mut pack =
            weft_check::pack::PackSources::from_dir(dir).map_err(|source| Error::Io {
                doing: "cannot read the policy",
                path: dir.to_path_buf(),
                source,
            })?;
        for o in overlays {
            let o = o.as_ref();
            pack.add_overlay(o).map_err(|source| Error::Io {
                doing: "cannot read the parameters",
                path: o.to_path_buf(),
                source,
            })?;
        }
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
            return Err(Error::Policy(Diagnostics::new(diags, sources)));
        }
        let ir = weft_ir::lower::lower(Arc::new(program)).map_err(|e| Error::Internal(e.0))?;
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
        Diagnostics::new(self.inner.warnings.clone(), self.inner.sources.clone())
    }

    /// Check the assertions on parameters (what `weft check` adds to
    /// checking): failures as diagnostics (errors and warnings).
    pub fn check_assertions(&self) -> Diagnostics {
        Diagnostics::new(
            weft_engine::asserts::check_assertions(&self.inner.ir, &self.inner.sources),
            self.inner.sources.clone(),
        )
    }

    /// Everything `weft check` reports: the warnings of checking and the
    /// assertion failures, in file order.
    ///
    /// ```
    /// let policy = weft::Policy::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin"))?;
    /// for d in policy.check().iter() {
    ///     println!("{} {} at {:?}:{:?}", d.code, d.message, d.file, d.line);
    /// }
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn check(&self) -> Diagnostics {
        self.warnings().sorted_with(self.check_assertions())
    }

    /// How much the policy holds.
    pub fn counts(&self) -> PolicyCounts {
        let hir = &self.inner.ir.hir;
        PolicyCounts {
            modules: hir.modules.len(),
            rules: hir.rules.len(),
            parameters: hir.params.len(),
            assertions: hir.asserts.len(),
        }
    }

    /// `(path, SHA-256 in hex)` of every file of the pack and of the
    /// overlays, sorted: what a run's manifest records.
    pub fn file_hashes(&self) -> Vec<(String, String)> {
        use sha2::Digest;
        let pack = &self.inner.pack;
        let mut files: Vec<(String, String)> = pack
            .modules
            .iter()
            .chain(pack.params.iter())
            .chain(pack.overlays.iter())
            .map(|(n, t)| {
                let hash = sha2::Sha256::digest(t.as_bytes());
                (n.clone(), weft_engine::run::hex(&hash))
            })
            .collect();
        files.sort();
        files
    }

    /// The Arrow schema of a record batch for the input `name` (`None`
    /// when the policy has no such input): one field per column the
    /// policy reads, in declaration order, of the type it prefers — money
    /// `Decimal128(18, 2)` in yuan, dates `Date32`, booleans `Boolean`,
    /// whole numbers `Int64`, decimals `Decimal128(18, 6)`, enums, ids and
    /// text `Utf8` (enums by their codes). Optional fields are nullable.
    /// [`Evaluator::evaluate_batch`] accepts other types too; see
    /// [`BatchOptions`] and the table in the crate's `batch` module docs.
    ///
    /// ```
    /// # let policy = weft::Policy::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin")).unwrap();
    /// use weft::arrow_schema::DataType;
    /// let schema = policy.input_schema("persons").unwrap();
    /// let income = schema.field_with_name("monthly_income").unwrap();
    /// assert_eq!(income.data_type(), &DataType::Decimal128(18, 2));
    /// ```
    pub fn input_schema(&self, name: &str) -> Option<arrow_schema::Schema> {
        weft_data::schema::InputSchema::all(&self.inner.ir.hir)
            .iter()
            .find(|s| s.input == name)
            .map(batch::arrow_schema)
    }

    pub(crate) fn ir(&self) -> &weft_ir::Ir {
        &self.inner.ir
    }

    pub(crate) fn sources(&self) -> &weft_syntax::SourceMap {
        &self.inner.sources
    }

    /// The inputs the policy reads.
    ///
    /// ```
    /// let policy = weft::Policy::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin"))?;
    /// let names: Vec<String> = policy.inputs().into_iter().map(|i| i.name).collect();
    /// assert!(names.contains(&"persons".to_string()));
    /// assert_eq!(policy.group_input().map(|i| i.name).as_deref(), Some("households"));
    /// # Ok::<(), weft::Error>(())
    /// ```
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

    /// The input of the group record (`households`): the one record that
    /// holds others, or the only input.
    pub fn group_input(&self) -> Option<InputInfo> {
        let plan = plan_for(&self.inner.ir).ok()?;
        self.input_of_record(plan.group.0)
    }

    /// The input of the member record (`persons`), when the policy has one.
    pub fn member_input(&self) -> Option<InputInfo> {
        let plan = plan_for(&self.inner.ir).ok()?;
        self.input_of_record(plan.member.as_ref()?.0)
    }

    fn input_of_record(&self, record: u32) -> Option<InputInfo> {
        let name = self
            .inner
            .ir
            .hir
            .records
            .get(record as usize)
            .map(|r| r.name.clone())?;
        self.inputs().into_iter().find(|i| i.record == name)
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
        self.bind(as_of, as_of, engine, None)
    }

    /// The population as of `as_of` (ages, the evaluation date) under the
    /// rules, parameters and series in force in another month,
    /// `rules_as_of`: what `--rules-as-of` does. Comparing
    /// `evaluator_with_rules(m, m0)` with `evaluator(m)` isolates the
    /// effect of what changed in the policy between `m0` and `m` from the
    /// population's own changes (ages, births).
    pub fn evaluator_with_rules(
        &self,
        as_of: Month,
        rules_as_of: Month,
        engine: Engine,
    ) -> Result<Evaluator, Error> {
        self.bind(as_of, rules_as_of, engine, None)
    }

    /// Bind to a month and compile for an engine, reusing `base`'s
    /// compiled program when it fits (see [`Evaluator::rebind`]).
    fn bind(
        &self,
        as_of: Month,
        rules_as_of: Month,
        engine: Engine,
        base: Option<&Evaluator>,
    ) -> Result<Evaluator, Error> {
        let ir = &self.inner.ir;
        let mut bound = weft_ir::bind::bind(ir, rules_as_of.days, &roots(ir))?;
        if rules_as_of != as_of {
            // Rules and parameters chosen as of `rules_as_of`; the dates
            // the rules compute with (ages, prior-year ends) are `as_of`'s.
            bound.as_of = as_of.days;
            bound.ctx_dates = (0..ir.contexts.len())
                .map(|c| context_date(ir, as_of.days, c, 0))
                .collect();
        }
        let plan = plan_for(ir)?;
        let t = std::time::Instant::now();
        let reusable = base
            .and_then(|b| b.jit.as_ref().map(|j| (b, j)))
            .filter(|(b, (j, _))| same_program(b.ir(), ir) && j.fits(&bound))
            .map(|(_, (j, _))| j.clone());
        let jit = match (engine, reusable) {
            (Engine::Interpreter, _) => None,
            (Engine::Jit, Some(j)) => Some((
                j,
                Compiled {
                    time: t.elapsed(),
                    reused: true,
                },
            )),
            (Engine::Jit, None) => {
                let jit = Jit::new(ir, &bound).map_err(|e| {
                    Error::Engine(format!("the JIT cannot compile this policy: {e}"))
                })?;
                let c = match jit.compiled() {
                    Some(c) => Compiled {
                        time: c.time,
                        reused: c.reused,
                    },
                    None => Compiled {
                        time: t.elapsed(),
                        reused: false,
                    },
                };
                Some((jit.program().clone(), c))
            }
        };
        let schemas = weft_data::schema::InputSchema::all(&ir.hir);
        let group_schema = schemas.get(plan.group.0 as usize).cloned();
        let member_schema = plan
            .member
            .as_ref()
            .and_then(|(r, _)| schemas.get(*r as usize))
            .cloned();
        Ok(Evaluator {
            policy: self.clone(),
            as_of,
            rules_as_of,
            bound,
            plan,
            jit,
            group_schema,
            member_schema,
        })
    }
}

/// The date a context stands for when the evaluation date is `as_of` (as
/// binding computes it).
fn context_date(ir: &weft_ir::Ir, as_of: i32, c: usize, depth: usize) -> i32 {
    match ir.contexts.get(c) {
        _ if depth > 64 => as_of,
        Some(weft_ir::Ctx::AsOf) | None => as_of,
        Some(weft_ir::Ctx::Fixed(d)) => *d,
        Some(weft_ir::Ctx::PriorYear(p)) => {
            weft_syntax::num::prior_year_end(context_date(ir, as_of, *p as usize, depth + 1))
        }
    }
}

/// Whether two lowered policies are the same program (rules, formulas,
/// date contexts, outputs), so that one's compiled code evaluates the
/// other given its own binding: they may differ in parameter values, which
/// are read from the binding at each evaluation.
fn same_program(a: &weft_ir::Ir, b: &weft_ir::Ir) -> bool {
    let same_instances = a.instances.len() == b.instances.len()
        && a.instances.iter().zip(&b.instances).all(|(x, y)| {
            x.name == y.name
                && x.kind == y.kind
                && x.rule == y.rule
                && x.ctx == y.ctx
                && x.entity == y.entity
                && x.ty == y.ty
                && x.versions == y.versions
                && x.slots == y.slots
        });
    let same_outputs = a.outputs.len() == b.outputs.len()
        && a.outputs.iter().zip(&b.outputs).all(|(x, y)| {
            x.name == y.name
                && x.record == y.record
                && x.columns.len() == y.columns.len()
                && x.columns.iter().zip(&y.columns).all(|(c, d)| {
                    c.name == d.name
                        && c.ty == d.ty
                        && match (&c.value, &d.value) {
                            (weft_ir::ColumnValue::Inst(i), weft_ir::ColumnValue::Inst(j)) => {
                                i == j
                            }
                            (weft_ir::ColumnValue::Text(p), weft_ir::ColumnValue::Text(q)) => {
                                p == q
                            }
                            _ => false,
                        }
                })
        });
    a.nodes == b.nodes
        && a.contexts == b.contexts
        && a.param_refs == b.param_refs
        && a.texts == b.texts
        && a.fails == b.fails
        && a.checks == b.checks
        && same_instances
        && same_outputs
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
/// A record that could not be evaluated, as in `errors.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

impl ErrorRow {
    pub(crate) fn from_cells(
        (input, line, record_id, column, message): weft_engine::run::ErrorCells,
    ) -> ErrorRow {
        ErrorRow {
            input,
            line,
            record_id,
            column,
            message,
        }
    }

    /// As JSON: `{"input", "line", "record_id", "column", "message"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"input": self.input, "line": self.line, "record_id": self.record_id, "column": self.column, "message": self.message})
    }
}

/// The rows of one output.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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

    /// The value of `column` in the row of the record `id`.
    pub fn get(&self, id: &str, column: &str) -> Option<&Value> {
        let c = self.columns.iter().position(|x| x == column)?;
        self.row_by_id(id)?.get(c)
    }
}

/// The result of evaluating some records.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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

    /// The value of `column` of output `output` for the record `id`.
    ///
    /// ```
    /// # use weft::{Engine, Money, Policy, Sources};
    /// # let policy = Policy::from_sources(Sources::new().module("g.weft", r#"
    /// #     record Person input persons {
    /// #       person_id: Text key
    /// #       income: Money per month
    /// #     }
    /// #     rule grant(p: Person): Money per month = min(10% * p.income, ¥100)
    /// #     output persons(p: Person) {
    /// #       person_id
    /// #       grant
    /// #     }"#)).unwrap();
    /// # let eval = policy.evaluator("2024-01".parse().unwrap(), Engine::Interpreter).unwrap();
    /// let r = eval.evaluate_json(&serde_json::json!({"persons": [
    ///     {"person_id": "P1", "income": "834.55"},
    ///     {"person_id": "P2", "income": "5000.00"},
    /// ]})).unwrap();
    /// let grant = r.get("persons", "P2", "grant").and_then(|v| v.as_money());
    /// assert_eq!(grant, Some(Money::from_fen(10_000)));
    /// ```
    pub fn get(&self, output: &str, id: &str, column: &str) -> Option<&Value> {
        self.output(output)?.get(id, column)
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
        let errs: Vec<serde_json::Value> = self.errors.iter().map(ErrorRow::to_json).collect();
        m.insert("errors".into(), serde_json::Value::Array(errs));
        serde_json::Value::Object(m)
    }
}

/// Outputs of a batch as Arrow record batches.
#[derive(Debug, Clone)]
pub struct BatchResult {
    outputs: Vec<(String, RecordBatch)>,
    errors: Vec<ErrorRow>,
}

impl BatchResult {
    /// An output by name: money `Decimal128(18, 2)` in yuan, dates
    /// `Date32`, booleans `Boolean`, whole numbers `Int64`, decimals
    /// `Decimal128(18, 6)`, enums and text `Utf8` (as `weft run` writes
    /// Parquet); rows in input order.
    pub fn output(&self, name: &str) -> Option<&RecordBatch> {
        self.outputs.iter().find(|(n, _)| n == name).map(|(_, b)| b)
    }

    /// Every output, `(name, batch)`, in declaration order.
    pub fn outputs(&self) -> &[(String, RecordBatch)] {
        &self.outputs
    }

    /// The records that could not be evaluated, groups first.
    pub fn errors(&self) -> &[ErrorRow] {
        &self.errors
    }

    /// The error rows as a record batch (`input, line, record_id, column,
    /// message`), as `errors.parquet` holds them.
    pub fn errors_batch(&self) -> Result<RecordBatch, Error> {
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
        for e in &self.errors {
            eb.push(&[
                OutCell::Text(e.input.clone()),
                OutCell::Int(i64::try_from(e.line).unwrap_or(i64::MAX)),
                OutCell::Text(e.record_id.clone()),
                OutCell::Text(e.column.clone()),
                OutCell::Text(e.message.clone()),
            ])
            .map_err(Error::Input)?;
        }
        eb.finish().map_err(Error::Input)
    }
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

    /// As pretty-printed JSON (what `weft explain --format json` prints).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.inner).unwrap_or_default()
    }

    /// The typed value of an explained output column (`None`: no such
    /// column explained, or it could not be evaluated).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), weft::Error> {
    /// # let policy = weft::Policy::from_dir("policies/jilin")?;
    /// # let eval = policy.evaluator("2019-08".parse()?, weft::Engine::Jit)?;
    /// # let household = serde_json::json!({});
    /// let why = eval.explain_json(&household, "P1", &["tekun_care"])?;
    /// let care = why.value("tekun_care").and_then(|v| v.as_money()); // exact fen
    /// # Ok(()) }
    /// ```
    pub fn value(&self, column: &str) -> Option<Value> {
        self.inner
            .values
            .iter()
            .find(|(c, _)| c == column)
            .and_then(|(_, v)| v.clone())
            .map(Value::from_cell)
    }

    /// The explained value of an output column as shown to people
    /// (`¥806.00 per month`).
    pub fn value_text(&self, column: &str) -> Option<&str> {
        self.inner
            .outputs
            .iter()
            .find(|(c, _)| c == column)
            .and_then(|(_, n)| n.value.as_deref())
    }

    /// The output columns explained.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.inner.outputs.iter().map(|(c, _)| c.as_str())
    }

    /// Why the record's group could not be evaluated, if it could not.
    pub fn rejected(&self) -> Option<&str> {
        self.inner.rejected.as_deref()
    }
}

/// A compiled program and how it was obtained.
type Program = (Arc<weft_jit::JitProgram>, Compiled);

/// A policy bound to a month and compiled for an engine. `Send + Sync`.
pub struct Evaluator {
    policy: Policy,
    as_of: Month,
    /// The month whose rules and parameters are in force (`as_of` unless
    /// [`Policy::evaluator_with_rules`]).
    rules_as_of: Month,
    bound: weft_ir::bind::Bound,
    plan: weft_interp::batch::Plan,
    /// The compiled program (shared by evaluators it fits: [`Evaluator::rebind`]).
    jit: Option<Program>,
    /// The inputs of the group record and of the member record.
    group_schema: Option<weft_data::schema::InputSchema>,
    member_schema: Option<weft_data::schema::InputSchema>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("as_of", &self.as_of)
            .field("engine", &self.engine())
            .finish()
    }
}

/// Rows of JSON objects as text cells (the header: every key, in order of
/// first appearance).
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

    /// The month whose rules, parameters and series are in force (the
    /// month evaluated, unless [`Policy::evaluator_with_rules`]).
    pub fn rules_as_of(&self) -> Month {
        self.rules_as_of
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

    /// This evaluator's month and engine for another version of its policy
    /// — typically `self.policy().with_params(…)`, an overlay of parameter
    /// values. The JIT compiles parameter values in (they are constants of
    /// a run), so an overlay that changes values is compiled for them —
    /// once: compiled programs are kept by the hash of what was bound, and
    /// an evaluator for a binding compiled before (this one's, or an equal
    /// overlay's) shares its program.
    ///
    /// ```
    /// # use weft::{Engine, Policy, Sources};
    /// let policy = Policy::from_sources(Sources::new()
    ///     .module("g.weft", r#"
    ///         param rate: Decimal
    ///         record Person input persons {
    ///           person_id: Text key
    ///           income: Money per month
    ///         }
    ///         rule grant(p: Person): Money per month = rate * p.income
    ///         output persons(p: Person) {
    ///           person_id
    ///           grant
    ///         }"#)
    ///     .params("rate.toml", "[rate]\n[[rate.version]]\neffective = 2020-01-01\nvalue = 0.1\n"))?;
    /// let eval = policy.evaluator("2024-01".parse()?, Engine::Jit)?;
    /// let raised = policy.with_params(&[("raise.toml", "[rate]\n[[rate.version]]\neffective = 2024-01-01\nvalue = 0.2\n")])?;
    /// let eval2 = eval.rebind(&raised)?; // compiled for rate = 0.2, once
    /// let json = serde_json::json!({"persons": [{"person_id": "P1", "income": "100.00"}]});
    /// assert_eq!(eval2.evaluate_json(&json)?.get("persons", "P1", "grant").unwrap().to_string(), "20.00");
    /// assert_eq!(eval.evaluate_json(&json)?.get("persons", "P1", "grant").unwrap().to_string(), "10.00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rebind(&self, policy: &Policy) -> Result<Evaluator, Error> {
        policy.bind(self.as_of, self.rules_as_of, self.engine(), Some(self))
    }

    pub(crate) fn ir(&self) -> &weft_ir::Ir {
        &self.policy.inner.ir
    }

    pub(crate) fn bound(&self) -> &weft_ir::bind::Bound {
        &self.bound
    }

    /// Call `f` with this evaluator's engine.
    pub(crate) fn with_chunk_eval<R>(&self, f: impl FnOnce(&dyn EngineImpl) -> R) -> R {
        match &self.jit {
            Some((j, c)) => f(&Jit::with_program(
                self.ir(),
                &self.bound,
                j.clone(),
                (*c).into(),
            )),
            None => f(&Interpreter::new(self.ir(), &self.bound)),
        }
    }

    /// On the JIT: how long getting the compiled program took, and
    /// whether a program compiled before for the same binding (the same
    /// policy, month and parameter values) was reused. `None` on the
    /// interpreter.
    pub fn compiled(&self) -> Option<Compiled> {
        self.jit.as_ref().map(|(_, c)| *c)
    }

    /// The schemas of the group input and of the member input.
    fn schemas(
        &self,
    ) -> (
        Option<&weft_data::schema::InputSchema>,
        Option<&weft_data::schema::InputSchema>,
    ) {
        (self.group_schema.as_ref(), self.member_schema.as_ref())
    }

    fn input_names(&self) -> (String, Option<String>) {
        let (g, m) = self.schemas();
        (
            g.map(|s| s.input.clone()).unwrap_or_default(),
            m.map(|s| s.input.clone()),
        )
    }

    fn unknown_input(&self, name: &str) -> Error {
        let (g, m) = self.input_names();
        Error::UnknownInput {
            name: name.to_string(),
            inputs: std::iter::once(g).chain(m).collect(),
        }
    }

    fn tables_of_json(
        &self,
        json: &serde_json::Value,
        opts: &BatchOptions,
    ) -> Result<(Table, Option<Table>), Error> {
        let Some(obj) = json.as_object() else {
            return Err(Error::Input(
                "the input should be an object with one key per input".into(),
            ));
        };
        let (gs, ms) = self.schemas();
        let g = gs.map(|s| s.input.clone()).unwrap_or_default();
        let m = ms.map(|s| s.input.clone());
        for k in obj.keys() {
            if *k != g && Some(k) != m.as_ref() {
                return Err(self.unknown_input(k));
            }
        }
        let gt = rows_of_json(obj.get(&g).unwrap_or(&serde_json::Value::Null));
        let mt =
            m.map(|m| rows_of_json(obj.get(&m).unwrap_or(&serde_json::Value::Array(Vec::new()))));
        if opts.strict {
            for (schema, table) in [(gs, Some(&gt)), (ms, mt.as_ref())] {
                let (Some(schema), Some((header, _))) = (schema, table) else {
                    continue;
                };
                if let Some(h) = header
                    .iter()
                    .find(|h| !schema.columns.iter().any(|c| c.name == **h))
                {
                    return Err(Error::UnknownColumn {
                        input: schema.input.clone(),
                        column: h.clone(),
                    });
                }
            }
        }
        Ok((gt, mt))
    }

    fn run(
        &self,
        group: &Table,
        members: Option<&Table>,
    ) -> Result<weft_engine::run::MemoryResult, Error> {
        let ir = &self.policy.inner.ir;
        self.with_chunk_eval(|ev| {
            weft_engine::run::run_in_memory(
                ir,
                &self.bound,
                ev,
                (&group.0, &group.1),
                members.map(|t| (t.0.as_slice(), t.1.as_slice())),
            )
        })
        .map_err(Error::from)
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
        let errors = r.errors.into_iter().map(ErrorRow::from_cells).collect();
        Evaluation { outputs, errors }
    }

    /// Evaluate records given as JSON: `{"households": {…} or […],
    /// "persons": […]}` (keys are the policy's input names; values as in a
    /// JSON Lines file: money and dates as strings). Fields the policy
    /// does not read are ignored.
    pub fn evaluate_json(&self, json: &serde_json::Value) -> Result<Evaluation, Error> {
        self.evaluate_json_with(json, &BatchOptions::default())
    }

    /// [`Evaluator::evaluate_json`] with options: in strict mode a field
    /// the policy does not read is an [`Error::UnknownColumn`].
    ///
    /// ```
    /// # let policy = weft::Policy::from_sources(weft::Sources::new().module("g.weft", r#"
    /// #     record Person input persons {
    /// #       person_id: Text key
    /// #       income: Money per month
    /// #     }
    /// #     rule grant(p: Person): Money per month = min(10% * p.income, ¥100)
    /// #     output persons(p: Person) {
    /// #       person_id
    /// #       grant
    /// #     }"#))?;
    /// # let eval = policy.evaluator("2024-01".parse()?, weft::Engine::Interpreter)?;
    /// let json = serde_json::json!({"persons": [{"person_id": "P1", "income": "300.00", "nickname": "Wang"}]});
    /// let strict = weft::BatchOptions::new().strict(true);
    /// assert!(matches!(eval.evaluate_json_with(&json, &strict), Err(weft::Error::UnknownColumn { .. })));
    /// assert!(eval.evaluate_json(&json).is_ok()); // ignored by default
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate_json_with(
        &self,
        json: &serde_json::Value,
        opts: &BatchOptions,
    ) -> Result<Evaluation, Error> {
        let (g, m) = self.tables_of_json(json, opts)?;
        let r = self.run(&g, m.as_ref())?;
        Ok(self.evaluation(r))
    }

    /// Evaluate records given in code.
    ///
    /// ```
    /// # let policy = weft::Policy::from_sources(weft::Sources::new().module("g.weft", r#"
    /// #     record Person input persons {
    /// #       person_id: Text key
    /// #       income: Money per month
    /// #     }
    /// #     rule grant(p: Person): Money per month = min(10% * p.income, ¥100)
    /// #     output persons(p: Person) {
    /// #       person_id
    /// #       grant
    /// #     }"#))?;
    /// # let eval = policy.evaluator("2024-01".parse()?, weft::Engine::Interpreter)?;
    /// let records = weft::Records::new().add("persons", [("person_id", "P1"), ("income", "2000.00")]);
    /// let r = eval.evaluate(&records)?;
    /// assert_eq!(r.get("persons", "P1", "grant").and_then(|v| v.as_money()), Some(weft::Money::from_fen(10_000)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// batch)`: columns in, columns out. Each batch's schema is checked
    /// before any row is read ([`Error::ColumnType`],
    /// [`Error::MissingColumns`], [`Error::IntegerMoney`]); columns the
    /// policy does not read are ignored. [`Policy::input_schema`] gives
    /// the schema the policy prefers; integer money is refused (use
    /// [`Evaluator::evaluate_batch_with`] to say whether it is fen or
    /// yuan). Typed arrays are read as they are, without text.
    pub fn evaluate_batch(&self, inputs: &[(&str, &RecordBatch)]) -> Result<BatchResult, Error> {
        self.evaluate_batch_with(inputs, &BatchOptions::default())
    }

    /// [`Evaluator::evaluate_batch`] with options.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use weft::arrow_array::{Int64Array, RecordBatch, StringArray};
    /// use weft::{BatchOptions, Engine, IntegerMoney, Policy, Sources};
    /// let policy = Policy::from_sources(Sources::new().module("g.weft", r#"
    ///     record Person input persons {
    ///       person_id: Text key
    ///       income: Money per month
    ///     }
    ///     rule grant(p: Person): Money per month = min(10% * p.income, ¥100)
    ///     output persons(p: Person) {
    ///       person_id
    ///       grant
    ///     }"#))?;
    /// let eval = policy.evaluator("2024-01".parse()?, Engine::Interpreter)?;
    /// let persons = RecordBatch::try_from_iter([
    ///     ("person_id", Arc::new(StringArray::from(vec!["P1"])) as _),
    ///     ("income", Arc::new(Int64Array::from(vec![83_455])) as _), // fen
    /// ])?;
    /// // Integers could be fen or yuan: refused unless the caller says.
    /// assert!(matches!(eval.evaluate_batch(&[("persons", &persons)]), Err(weft::Error::IntegerMoney { .. })));
    /// let fen = BatchOptions::new().integer_money(IntegerMoney::Fen);
    /// let r = eval.evaluate_batch_with(&[("persons", &persons)], &fen)?;
    /// assert_eq!(r.output("persons").unwrap().num_rows(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate_batch_with(
        &self,
        inputs: &[(&str, &RecordBatch)],
        opts: &BatchOptions,
    ) -> Result<BatchResult, Error> {
        let inputs: Vec<(&str, &RecordBatch, Option<&[u64]>)> =
            inputs.iter().map(|(n, b)| (*n, *b, None)).collect();
        self.evaluate_batch_lines(&inputs, opts)
    }

    /// [`Evaluator::evaluate_batch_with`] where each input may give the
    /// line of each of its rows (`None`: the row's position plus one).
    pub(crate) fn evaluate_batch_lines(
        &self,
        inputs: &[(&str, &RecordBatch, Option<&[u64]>)],
        opts: &BatchOptions,
    ) -> Result<BatchResult, Error> {
        let (gs, ms) = self.schemas();
        let gs = gs.ok_or_else(|| Error::Input("the policy has no group record".into()))?;
        for (i, (n, _, _)) in inputs.iter().enumerate() {
            if *n != gs.input && Some(*n) != ms.map(|m| m.input.as_str()) {
                return Err(self.unknown_input(n));
            }
            if inputs.iter().take(i).any(|(m, _, _)| m == n) {
                return Err(Error::Input(format!("the input `{n}` is given twice")));
            }
        }
        let find = |name: &str| {
            inputs
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, b, l)| (*b, *l))
        };
        let (group, group_lines) = find(&gs.input).ok_or_else(|| Error::MissingInput {
            input: gs.input.clone(),
        })?;
        let group = batch::conform(gs, group, opts)?;
        let members = match &ms {
            Some(ms) => {
                let (b, l) = find(&ms.input).ok_or_else(|| Error::MissingInput {
                    input: ms.input.clone(),
                })?;
                Some((batch::conform(ms, b, opts)?, l))
            }
            None => None,
        };
        let ir = &self.policy.inner.ir;
        let res = self
            .with_chunk_eval(|ev| {
                weft_engine::run::run_batches_at(
                    ir,
                    &self.bound,
                    ev,
                    (&group, group_lines),
                    members.as_ref().map(|(b, l)| (b, *l)),
                )
            })
            .map_err(Error::from)?;
        Ok(BatchResult {
            outputs: ir
                .outputs
                .iter()
                .map(|o| o.name.clone())
                .zip(res.outputs)
                .collect(),
            errors: res.errors.into_iter().map(ErrorRow::from_cells).collect(),
        })
    }

    /// Explain the outputs of the record `id` among records given as JSON
    /// (the interpreter traces the evaluation; the values are those every
    /// engine computes). `columns` limits the outputs explained; names
    /// that are not output columns are ignored.
    ///
    /// ```
    /// # let policy = weft::Policy::from_sources(weft::Sources::new().module("g.weft", r#"
    /// #     record Person input persons {
    /// #       person_id: Text key
    /// #       income: Money per month
    /// #     }
    /// #     rule grant(p: Person): Money per month = min(10% * p.income, ¥100)
    /// #     output persons(p: Person) {
    /// #       person_id
    /// #       grant
    /// #     }"#))?;
    /// # let eval = policy.evaluator("2024-01".parse()?, weft::Engine::Interpreter)?;
    /// let json = serde_json::json!({"persons": [{"person_id": "P1", "income": "300.00"}]});
    /// let why = eval.explain_json(&json, "P1", &["grant"])?;
    /// assert_eq!(why.columns().collect::<Vec<_>>(), ["grant"]);
    /// assert!(why.to_text().contains("grant"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain_json(
        &self,
        json: &serde_json::Value,
        id: &str,
        columns: &[&str],
    ) -> Result<Explanation, Error> {
        self.explain_json_with(json, id, columns, &BatchOptions::default())
    }

    /// [`Evaluator::explain_json`] with options: in strict mode an unknown
    /// field is an [`Error::UnknownColumn`] and a name in `columns` that is
    /// no output column an [`Error::UnknownOutputColumn`].
    pub fn explain_json_with(
        &self,
        json: &serde_json::Value,
        id: &str,
        columns: &[&str],
        opts: &BatchOptions,
    ) -> Result<Explanation, Error> {
        let ir = &self.policy.inner.ir;
        if opts.strict {
            let unknown: Vec<String> = columns
                .iter()
                .filter(|c| {
                    !ir.outputs
                        .iter()
                        .any(|o| o.columns.iter().any(|x| x.name == **c))
                })
                .map(|c| c.to_string())
                .collect();
            if !unknown.is_empty() {
                return Err(Error::UnknownOutputColumn { columns: unknown });
            }
        }
        let (g, m) = self.tables_of_json(json, opts)?;
        let prepared = weft_engine::run::prepare_in_memory(
            ir,
            (&g.0, &g.1),
            m.as_ref().map(|t| (t.0.as_slice(), t.1.as_slice())),
        )?;
        let (keep, errors) = weft_engine::run::check_groups(ir, &self.bound, prepared.groups)?;
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
            return Err(match errors.into_iter().find(|e| e.2 == id) {
                Some(e) => Error::NotEvaluated {
                    id: id.to_string(),
                    error: Box::new(ErrorRow::from_cells(e)),
                },
                None => Error::NoSuchRecord { id: id.to_string() },
            });
        };
        let (gs, ms) = self.schemas();
        let gs = gs.ok_or_else(|| Error::Input("the policy has no group record".into()))?;
        let Some(group) = keep.get(gi) else {
            return Err(Error::NoSuchRecord { id: id.to_string() });
        };
        let one = [group];
        let chunk = weft_engine::rows::build_chunk(&ir.hir, gs, ms, &one);
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
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    fn jilin() -> Policy {
        Policy::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin")).unwrap()
    }

    fn population() -> serde_json::Value {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/jilin/spec-examples"
        );
        let table = |name: &str| -> serde_json::Value {
            let text = std::fs::read_to_string(format!("{dir}/{name}.csv")).unwrap();
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            lines
                .map(|l| {
                    serde_json::Value::Object(
                        header
                            .iter()
                            .zip(l.split(','))
                            .filter(|(_, v)| !v.is_empty())
                            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.into())))
                            .collect(),
                    )
                })
                .collect()
        };
        serde_json::json!({"households": table("households"), "persons": table("persons")})
    }

    const RAISE: &str = "[dibao_standard_urban]\n[[dibao_standard_urban.version]]\neffective = 2018-08-01\nchangchun = 700\njilin = 545\nsiping = 540\nliaoyuan = 550\ntonghua = 550\nbaishan = 540\nsongyuan = 543\nbaicheng = 470\nyanbian = 620\nchangbaishan = 550\n";

    /// An overlay of parameter values is compiled for its values, once: an
    /// equal binding shares the program; results are what a program
    /// compiled afresh, and the interpreter, give.
    #[test]
    fn an_overlay_of_values_is_compiled_once_for_its_values() {
        let policy = jilin();
        let month: Month = "2018-08".parse().unwrap();
        let eval = policy.evaluator(month, Engine::Jit).unwrap();
        let raised = policy.with_params(&[("raise.toml", RAISE)]).unwrap();
        let rebound = eval.rebind(&raised).unwrap();
        let (Some((a, _)), Some((b, _))) = (&eval.jit, &rebound.jit) else {
            panic!("both on the JIT")
        };
        assert!(!Arc::ptr_eq(a, b), "other values, another program");
        let again = eval.rebind(&raised).unwrap().jit.unwrap().0;
        assert!(Arc::ptr_eq(b, &again), "the same values share the program");
        let same = eval.rebind(&policy).unwrap().jit.unwrap().0;
        assert!(Arc::ptr_eq(a, &same), "the base binding shares its program");
        let one = policy
            .with_param(
                "dibao_standard_urban",
                &["changchun"],
                month.first_day(),
                Value::Money(Money::from_fen(70_000)),
            )
            .unwrap();
        let c = eval.rebind(&one).unwrap();
        assert!(!Arc::ptr_eq(a, &c.jit.as_ref().unwrap().0));
        let fresh = raised.evaluator(month, Engine::Jit).unwrap();
        let input = population();
        let got = rebound.evaluate_json(&input).unwrap();
        assert_eq!(got, fresh.evaluate_json(&input).unwrap());
        assert_ne!(
            got,
            eval.evaluate_json(&input).unwrap(),
            "the overlay changes results"
        );
        let interp = raised.evaluator(month, Engine::Interpreter).unwrap();
        assert_eq!(got, interp.evaluate_json(&input).unwrap());
    }

    /// `Evaluator::compiled` (what `weft run --timings` shows): binding
    /// the same program, month and parameters again reuses the compiled
    /// program from the cache; an overlay of other values is compiled.
    #[test]
    fn a_second_binding_is_a_cache_hit_and_an_overlay_is_not() {
        let policy = jilin();
        // A month no other test binds, so the first binding compiles.
        let month: Month = "2019-03".parse().unwrap();
        let first = policy.evaluator(month, Engine::Jit).unwrap();
        let second = policy.evaluator(month, Engine::Jit).unwrap();
        assert_eq!(second.compiled().map(|c| c.reused), Some(true));
        let (Some((a, _)), Some((b, _))) = (&first.jit, &second.jit) else {
            panic!("both on the JIT")
        };
        assert!(Arc::ptr_eq(a, b), "the same program");
        let raised = policy
            .with_param(
                "dibao_standard_urban",
                &["changchun"],
                month.first_day(),
                Value::Money(Money::from_fen(71_234)),
            )
            .unwrap();
        let overlay = raised.evaluator(month, Engine::Jit).unwrap();
        assert_eq!(overlay.compiled().map(|c| c.reused), Some(false));
        let again = raised.evaluator(month, Engine::Jit).unwrap();
        assert_eq!(again.compiled().map(|c| c.reused), Some(true));
        let interp = policy.evaluator(month, Engine::Interpreter).unwrap();
        assert_eq!(interp.compiled(), None);
    }

    /// Another formula, or another month choosing other formula versions,
    /// is compiled afresh.
    #[test]
    fn other_formulas_are_compiled_again() {
        let src = |rate: &str| {
            Sources::new().module(
                "g.weft",
                &format!(
                    "record Person input persons {{\n  person_id: Text key\n  income: Money per month\n}}\nrule grant(p: Person): Money per month = min({rate} * p.income, ¥100)\noutput persons(p: Person) {{\n  person_id\n  grant\n}}\n"
                ),
            )
        };
        let a = Policy::from_sources(src("10%")).unwrap();
        let b = Policy::from_sources(src("20%")).unwrap();
        let eval = a
            .evaluator("2024-01".parse().unwrap(), Engine::Jit)
            .unwrap();
        let other = eval.rebind(&b).unwrap();
        let (Some((x, _)), Some((y, _))) = (&eval.jit, &other.jit) else {
            panic!("both on the JIT")
        };
        assert!(!Arc::ptr_eq(x, y));
        let json = serde_json::json!({"persons": [{"person_id": "P1", "income": "300.00"}]});
        let grant = |e: &Evaluator| {
            e.evaluate_json(&json)
                .unwrap()
                .get("persons", "P1", "grant")
                .cloned()
        };
        assert_eq!(grant(&eval), Some(Value::Money(Money::from_fen(3_000))));
        assert_eq!(grant(&other), Some(Value::Money(Money::from_fen(6_000))));
        // On the interpreter there is nothing to share.
        let interp = a
            .evaluator("2024-01".parse().unwrap(), Engine::Interpreter)
            .unwrap();
        assert!(interp.rebind(&b).unwrap().jit.is_none());
    }

    #[test]
    fn policies_and_evaluators_are_send_and_sync() {
        assert_send_sync::<Policy>();
        assert_send_sync::<Evaluator>();
        assert_send_sync::<Diagnostics>();
        assert_send_sync::<Error>();
    }
}
