//! `weft explain`: why a record's outputs have the values they have.
//!
//! The record's group is evaluated by the interpreter, in the same order as
//! a batch, with a [`Tracer`] recording every rule evaluated, every value it
//! used, every parameter it read and every table row and exception that
//! decided it. The explanation is that record, as a tree: each output's
//! value, the rules that decided it (with their citations and doc
//! comments), the parameters with their versions (and the prior-year
//! version where one was used), the intermediate values on the path — not a
//! dump of every value: lazy evaluation means only what was needed was
//! computed. A rule already explained higher in the tree is marked as such
//! rather than repeated.

use serde::Serialize;
use std::collections::HashMap;
use weft_interp::batch::{Plan, member_range};
use weft_interp::trace::Tracer;
use weft_interp::{EvalError, Interp};
use weft_ir::bind::Bound;
use weft_ir::data::{Chunk, Column};
use weft_ir::value::display_value;
use weft_ir::{Ctx, InstId, InstKind, Ir, NodeId, Note, ParamRefId};
use weft_syntax::{SourceMap, num};

/// What an evaluation used, in the order it used it.
enum Event {
    Call(InstId, usize),
    Param(ParamRefId, Vec<i64>, i64),
    /// An input field read: `(record, field)`, the record's row, the value.
    Field((u32, u32), usize, i64),
    /// A comparison: its node, both sides, the outcome.
    Cmp(NodeId, (i64, i64), bool),
}

#[derive(Default)]
struct Step {
    result: Option<Result<i64, EvalError>>,
    events: Vec<Event>,
    decisions: Vec<(NodeId, bool)>,
}

/// Records an evaluation.
#[derive(Default)]
pub struct Recorder {
    steps: HashMap<(InstId, usize), Step>,
    notes: std::collections::HashSet<NodeId>,
}

impl Tracer for Recorder {
    fn enter(&mut self, inst: InstId, row: Option<usize>) {
        self.steps.entry((inst, row.unwrap_or(0))).or_default();
    }
    fn exit(&mut self, inst: InstId, row: Option<usize>, result: &Result<i64, EvalError>) {
        self.steps
            .entry((inst, row.unwrap_or(0)))
            .or_default()
            .result = Some(result.clone());
    }
    fn used(
        &mut self,
        inst: InstId,
        row: Option<usize>,
        callee: InstId,
        callee_row: usize,
        _v: i64,
    ) {
        let s = self.steps.entry((inst, row.unwrap_or(0))).or_default();
        if !s
            .events
            .iter()
            .any(|e| matches!(e, Event::Call(c, r) if *c == callee && *r == callee_row))
        {
            s.events.push(Event::Call(callee, callee_row));
        }
    }
    fn param(
        &mut self,
        inst: InstId,
        row: Option<usize>,
        pref: ParamRefId,
        keys: &[i64],
        value: i64,
    ) {
        let s = self.steps.entry((inst, row.unwrap_or(0))).or_default();
        if !s
            .events
            .iter()
            .any(|e| matches!(e, Event::Param(p, k, _) if *p == pref && k == keys))
        {
            s.events.push(Event::Param(pref, keys.to_vec(), value));
        }
    }
    fn field(
        &mut self,
        inst: InstId,
        row: Option<usize>,
        field: (u32, u32),
        rec_row: usize,
        value: i64,
    ) {
        let s = self.steps.entry((inst, row.unwrap_or(0))).or_default();
        if !s
            .events
            .iter()
            .any(|e| matches!(e, Event::Field(f, r, _) if *f == field && *r == rec_row))
        {
            s.events.push(Event::Field(field, rec_row, value));
        }
    }
    fn compare(
        &mut self,
        inst: InstId,
        row: Option<usize>,
        node: NodeId,
        sides: (i64, i64),
        result: bool,
    ) {
        let s = self.steps.entry((inst, row.unwrap_or(0))).or_default();
        if !s
            .events
            .iter()
            .any(|e| matches!(e, Event::Cmp(n, x, _) if *n == node && *x == sides))
        {
            s.events.push(Event::Cmp(node, sides, result));
        }
    }
    fn branch(&mut self, inst: InstId, row: Option<usize>, node: NodeId, taken: bool) {
        if self.notes.contains(&node) {
            self.steps
                .entry((inst, row.unwrap_or(0)))
                .or_default()
                .decisions
                .push((node, taken));
        }
    }
}

/// A parameter read on the path.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ParamUse {
    pub name: String,
    pub key: Option<String>,
    pub value: String,
    /// The effective date of the version used.
    pub version: String,
    /// Where the version was given (a file of the pack).
    pub origin: String,
    /// The date it was read as of, when not the evaluation date.
    pub as_of: Option<String>,
}

/// An input field read on the path, with its value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InputUse {
    /// The record kind (`Household`).
    pub record_kind: String,
    /// The record's id.
    pub record: String,
    pub field: String,
    pub value: String,
}

/// A comparison evaluated on the path, both sides shown.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Condition {
    /// `financial_assets ¥19,990.79 > dibao_asset_limit ¥13,200.00`.
    pub text: String,
    pub holds: bool,
}

/// One step of the reasoning.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExplainNode {
    /// What was computed: `tekun_care(A1)`, `medical(A1).out_of_pocket`.
    pub what: String,
    pub rule: Option<String>,
    pub record: Option<String>,
    pub value: Option<String>,
    pub error: Option<String>,
    /// The article it implements.
    pub source: Option<String>,
    pub doc: Option<String>,
    /// The date its parameters were read as of, when not the evaluation date.
    pub as_of: Option<String>,
    /// Table rows and exceptions that decided it (and the rows before
    /// that did not apply).
    pub decided_by: Vec<String>,
    /// Input fields it read, with their values.
    pub inputs: Vec<InputUse>,
    /// Comparisons it evaluated, both sides shown.
    pub conditions: Vec<Condition>,
    pub parameters: Vec<ParamUse>,
    pub uses: Vec<ExplainNode>,
    /// Explained higher in the tree.
    pub see_above: bool,
}

/// The explanation of one record.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Explanation {
    pub record: String,
    pub record_kind: String,
    pub as_of: String,
    /// One entry per output column explained: `(column, tree)`.
    pub outputs: Vec<(String, ExplainNode)>,
    /// Why the group could not be evaluated, if it could not.
    pub rejected: Option<String>,
    /// The typed value of each output column explained (`None`: it could
    /// not be evaluated), for programs; the tree shows it to people.
    #[serde(skip)]
    pub values: Vec<(String, Option<weft_data::OutCell>)>,
}

struct Builder<'a> {
    ir: &'a Ir,
    bound: &'a Bound,
    chunk: &'a Chunk,
    sources: Option<&'a SourceMap>,
    rec: &'a Recorder,
    shown: std::collections::HashSet<(InstId, usize)>,
    /// Rules whose doc comment was shown already (shown once per tree).
    docs: std::collections::HashSet<String>,
}

impl Builder<'_> {
    fn record_id(&self, record: u32, row: usize) -> String {
        let Some(r) = self.ir.hir.records.get(record as usize) else {
            return row.to_string();
        };
        match r.key.and_then(|k| self.chunk.col(record, k.raw())) {
            Some(Column::Text(v)) => v.get(row).cloned().unwrap_or_default(),
            Some(Column::I64(v)) => v.get(row).map(|x| x.to_string()).unwrap_or_default(),
            _ => row.to_string(),
        }
    }

    fn label(&self, inst: InstId, row: usize) -> (String, Option<String>) {
        let Some(d) = self.ir.inst(inst) else {
            return ("?".into(), None);
        };
        let rec = d.entity.map(|r| self.record_id(r, row));
        let arg = rec.clone().map(|r| format!("({r})")).unwrap_or_default();
        let steps: Vec<String> = d
            .rule
            .and_then(|r| self.ir.hir.rules.get(r as usize))
            .and_then(|r| match &r.kind {
                weft_check::hir::RuleKind::Cascade(c) => {
                    let mut v: Vec<String> = c.steps.iter().map(|s| s.name.clone()).collect();
                    v.push(c.remainder.clone());
                    Some(v)
                }
                _ => None,
            })
            .unwrap_or_default();
        let what = match &d.kind {
            InstKind::CascadePart { part } => format!(
                "{}{arg}.{}",
                d.name,
                steps.get(*part).cloned().unwrap_or_default()
            ),
            InstKind::CascadeRemains { after: 0 } => format!("{}{arg}: the amount", d.name),
            InstKind::CascadeRemains { after } => format!(
                "{}{arg}: what remains after {}",
                d.name,
                steps.get(after - 1).cloned().unwrap_or_default()
            ),
            InstKind::Column { .. } => d.name.clone(),
            _ => format!("{}{arg}", d.name),
        };
        (what, rec)
    }

    fn node(&mut self, inst: InstId, row: usize) -> ExplainNode {
        let ir = self.ir;
        let d = ir.inst(inst);
        let (what, record) = self.label(inst, row);
        let step = self.rec.steps.get(&(inst, row));
        let ty = d.map(|d| d.ty.clone()).unwrap_or(weft_check::ty::Ty::Int);
        let (value, error) = match step.and_then(|s| s.result.as_ref()) {
            Some(Ok(v)) => (Some(display_value(&ir.hir, &ty, *v)), None),
            Some(Err(e)) => (None, Some(format!("{} ({})", e.detail, e.kind.code()))),
            None => (None, Some("not evaluated".into())),
        };
        let rule = d
            .and_then(|d| d.rule)
            .and_then(|r| ir.hir.rules.get(r as usize));
        let as_of = d.and_then(|d| {
            let c = d.ctx;
            match ir.contexts.get(c as usize) {
                Some(Ctx::AsOf) | None => None,
                Some(Ctx::PriorYear(_)) => self
                    .bound
                    .ctx_dates
                    .get(c as usize)
                    .map(|x| format!("{} (the end of the prior year)", num::format_date(*x))),
                Some(Ctx::Fixed(x)) => Some(num::format_date(*x)),
            }
        });
        let mut node = ExplainNode {
            what,
            rule: rule.map(|r| r.name.clone()),
            record,
            value,
            error,
            source: rule.and_then(|r| r.source.clone()),
            doc: step_doc(ir, inst).or_else(|| rule.and_then(|r| r.doc.clone())),
            as_of,
            decided_by: Vec::new(),
            inputs: Vec::new(),
            conditions: Vec::new(),
            parameters: Vec::new(),
            uses: Vec::new(),
            see_above: false,
        };
        if !self.shown.insert((inst, row)) {
            node.see_above = true;
            node.doc = None;
            return node;
        }
        if !self.docs.insert(
            node.what.split('(').next().unwrap_or("").to_string()
                + node.what.rsplit(')').next().unwrap_or(""),
        ) {
            node.doc = None;
        }
        let Some(step) = step else { return node };
        for (n, taken) in &step.decisions {
            match ir.notes.get(n) {
                Some(Note::Row { rule, row }) if !taken => {
                    let r = ir.hir.rules.get(*rule as usize);
                    if let Some(weft_check::hir::RuleKind::Table(t)) = r.map(|r| &r.kind) {
                        let text = self.row_text(t, *row);
                        node.decided_by.push(format!(
                            "row {} does not apply: {}",
                            row + 1,
                            text.trim_start_matches('|').trim()
                        ));
                    }
                }
                _ if !taken => {}
                Some(Note::Row { rule, row }) => {
                    let r = ir.hir.rules.get(*rule as usize);
                    if let Some(weft_check::hir::RuleKind::Table(t)) = r.map(|r| &r.kind) {
                        let text = t
                            .rows
                            .get(*row)
                            .map(|x| {
                                self.sources
                                    .map(|s| one_line(s.slice(x.span)))
                                    .unwrap_or_default()
                            })
                            .unwrap_or_default();
                        node.decided_by.push(format!(
                            "row {} applies: {}",
                            row + 1,
                            text.trim_start_matches('|').trim()
                        ));
                    }
                }
                Some(Note::Exception { rule, index }) => {
                    if let Some(x) = ir
                        .hir
                        .rules
                        .get(*rule as usize)
                        .and_then(|r| r.exceptions.get(*index))
                    {
                        let cite = x
                            .source
                            .as_ref()
                            .map(|s| format!(" ({s})"))
                            .unwrap_or_default();
                        node.decided_by
                            .push(format!("exception `{}`{cite} applies", x.label));
                    }
                }
                None => {}
            }
        }
        if let Some(weft_check::hir::RuleKind::Table(t)) = rule.map(|r| &r.kind) {
            if node.decided_by.is_empty()
                && t.rows.iter().any(|r| r.cond.is_none())
                && node.error.is_none()
            {
                node.decided_by.push("no row applies: `otherwise`".into());
            }
        }
        for e in &step.events {
            match e {
                Event::Param(pref, keys, v) => {
                    let p = self.param(*pref, keys, *v);
                    node.uses.push(ExplainNode {
                        what: match &p.key {
                            Some(k) => format!("{}[{k}]", p.name),
                            None => p.name.clone(),
                        },
                        rule: None,
                        record: None,
                        value: Some(p.value.clone()),
                        error: None,
                        source: None,
                        doc: None,
                        as_of: p.as_of.clone(),
                        decided_by: Vec::new(),
                        inputs: Vec::new(),
                        conditions: Vec::new(),
                        parameters: Vec::new(),
                        uses: Vec::new(),
                        see_above: false,
                    });
                    node.parameters.push(p);
                }
                Event::Field((r, f), rec_row, v) => {
                    if let Some(i) = self.input(*r, *f, *rec_row, *v) {
                        node.inputs.push(i);
                    }
                }
                Event::Cmp(n, sides, holds) => {
                    if let Some(text) = self.condition(step, *n, *sides) {
                        node.conditions.push(Condition {
                            text,
                            holds: *holds,
                        });
                    }
                }
                Event::Call(c, r) => {
                    let child = self.node(*c, *r);
                    node.uses.push(child);
                }
            }
        }
        node
    }

    /// A table row's source text on one line.
    fn row_text(&self, t: &weft_check::hir::TableDef, row: usize) -> String {
        t.rows
            .get(row)
            .map(|x| {
                self.sources
                    .map(|s| one_line(s.slice(x.span)))
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// An input field read, unless it is a link (a row number, shown as the
    /// record it names instead) or a list of members.
    fn input(&self, record: u32, field: u32, rec_row: usize, v: i64) -> Option<InputUse> {
        let r = self.ir.hir.records.get(record as usize)?;
        let f = r.fields.get(field as usize)?;
        let ty = match &f.ty {
            weft_check::ty::Ty::Opt(t) => (**t).clone(),
            t => t.clone(),
        };
        if matches!(
            ty,
            weft_check::ty::Ty::Record(_) | weft_check::ty::Ty::List(_)
        ) {
            return None;
        }
        Some(InputUse {
            record_kind: r.name.clone(),
            record: self.record_id(record, rec_row),
            field: f.name.clone(),
            value: display_value(&self.ir.hir, &ty, v),
        })
    }

    /// `lhs value OP rhs value` for a comparison node.
    /// The values of a formula's leaves as this step read them
    /// (`¥550.00 × 24 months × 1`), when every leaf was read.
    fn formula_values(&self, step: &Step, n: NodeId, depth: usize) -> Option<String> {
        use weft_ir::{ArithOp, Node};
        if depth > 6 {
            return None;
        }
        let shown = |t: Option<weft_check::ty::Ty>, v: i64| match t {
            Some(t) => strip_period(&display_value(&self.ir.hir, &t, v)),
            None => v.to_string(),
        };
        match self.ir.node(n)? {
            Node::Const(v) => Some(shown(ty_of(self.ir, n), *v)),
            Node::Param { pref, .. } => step.events.iter().find_map(|e| match e {
                Event::Param(p, _, v) if p == pref => Some(shown(ty_of(self.ir, n), *v)),
                _ => None,
            }),
            Node::Call { inst: c, .. } => step.events.iter().find_map(|e| match e {
                Event::Call(x, r) if x == c => match self.rec.steps.get(&(*c, *r))?.result {
                    Some(Ok(v)) => Some(shown(ty_of(self.ir, n), v)),
                    _ => None,
                },
                _ => None,
            }),
            Node::Field { record, field, .. } => step.events.iter().find_map(|e| match e {
                Event::Field((r, f), _, v) if r == record && f == field => {
                    Some(shown(ty_of(self.ir, n), *v))
                }
                _ => None,
            }),
            Node::Arith(op, a, b) => {
                let sym = match op {
                    ArithOp::Add | ArithOp::AddDays | ArithOp::AddMonths { .. } => "+",
                    ArithOp::Sub | ArithOp::SubDates => "−",
                    ArithOp::Mul | ArithOp::MulRound { .. } => "×",
                    ArithOp::DivRound { .. } => "÷",
                };
                Some(format!(
                    "{} {sym} {}",
                    self.formula_values(step, *a, depth + 1)?,
                    self.formula_values(step, *b, depth + 1)?
                ))
            }
            _ => None,
        }
    }

    fn condition(&self, step: &Step, n: NodeId, (x, y): (i64, i64)) -> Option<String> {
        let Some(weft_ir::Node::Cmp(op, a, b)) = self.ir.node(n) else {
            return None;
        };
        let ta = ty_of(self.ir, *a);
        let tb = ty_of(self.ir, *b);
        let (ta, tb) = (ta.clone().or(tb.clone()), tb.or(ta));
        // A side the policy's text does not name (a count, a local) says
        // nothing to a reader: such comparisons are left out.
        let unnamed = |m: NodeId| {
            !matches!(self.ir.node(m), Some(weft_ir::Node::Const(_)))
                && expr_text(self.ir, m, 0).contains('…')
        };
        if unnamed(*a) || unnamed(*b) {
            return None;
        }
        let side = |node: NodeId, v: i64, ty: &Option<weft_check::ty::Ty>| {
            let value = match ty {
                Some(t) => display_value(&self.ir.hir, t, v),
                None => v.to_string(),
            };
            let value = strip_period(&value);
            let text = expr_text(self.ir, node, 0);
            match self.ir.node(node) {
                Some(weft_ir::Node::Const(_)) => value,
                Some(weft_ir::Node::Arith(..)) => match self.formula_values(step, node, 0) {
                    Some(f) => format!("{text} {value} ({f})"),
                    None => format!("{text} {value}"),
                },
                _ => format!("{text} {value}"),
            }
        };
        Some(format!(
            "{} {} {}",
            side(*a, x, &ta),
            op.symbol(),
            side(*b, y, &tb)
        ))
    }

    fn param(&self, pref: ParamRefId, keys: &[i64], v: i64) -> ParamUse {
        let ir = self.ir;
        let pr = ir.param_refs.get(pref as usize);
        let pd = pr.and_then(|p| ir.hir.params.get(p.param as usize));
        let date = pr
            .and_then(|p| self.bound.ctx_dates.get(p.ctx as usize))
            .copied()
            .unwrap_or(self.bound.as_of);
        // The version bound (with `--rules-as-of`, not the one of `date`).
        let bound_effective = pr
            .and_then(|_| self.bound.params.get(pref as usize))
            .and_then(|b| b.as_ref())
            .map(|b| b.effective);
        let version = pd.and_then(|p| {
            bound_effective
                .and_then(|e| p.version_at(e))
                .or_else(|| p.version_at(date))
        });
        let key = pd.filter(|p| !p.keys.is_empty()).map(|p| {
            p.keys
                .iter()
                .zip(keys)
                .map(|((e, _), k)| {
                    ir.hir
                        .enums
                        .get(*e)
                        .and_then(|en| en.variants.get(*k as usize))
                        .map(|x| x.code.clone())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
        let value = match (
            pd,
            pr.and_then(|_| self.bound.params.get(pref as usize))
                .and_then(|b| b.as_ref()),
        ) {
            (Some(p), Some(b)) if matches!(p.ty, weft_check::ty::Ty::Bands(_)) => b
                .bands
                .iter()
                .map(|x| {
                    let hi =
                        x.hi.map(|h| {
                            format!(
                                "¥{}",
                                weft_ir::value::group_thousands(&num::format_money(h))
                            )
                        })
                        .unwrap_or_default();
                    format!(
                        "¥{}..{hi}: {}",
                        weft_ir::value::group_thousands(&num::format_money(x.lo)),
                        num::format_decimal(x.rate)
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            (Some(p), _) => display_value(&ir.hir, &p.ty, v),
            _ => String::new(),
        };
        ParamUse {
            name: pd.map(|p| p.name.clone()).unwrap_or_default(),
            key,
            value,
            version: version
                .map(|x| {
                    if pd.map(|p| p.series).unwrap_or(false) {
                        num::format_month(x.effective)
                    } else {
                        num::format_date(x.effective)
                    }
                })
                .unwrap_or_default(),
            origin: version.map(|x| x.origin.clone()).unwrap_or_default(),
            as_of: (date != self.bound.as_of).then(|| num::format_date(date)),
        }
    }
}

/// The doc comment of a cascade's step, for its part.
fn step_doc(ir: &Ir, inst: InstId) -> Option<String> {
    let d = ir.inst(inst)?;
    let InstKind::CascadePart { part } = d.kind else {
        return None;
    };
    match &ir.hir.rules.get(d.rule? as usize)?.kind {
        weft_check::hir::RuleKind::Cascade(c) => c.steps.get(part).and_then(|s| s.doc.clone()),
        _ => None,
    }
}

/// Explain the outputs of one record: `(record, row)` is row `row` of record
/// kind `record` in `chunk` (a chunk holding its group). `columns` limits the output
/// columns explained (all when empty).
pub fn explain(
    ir: &Ir,
    bound: &Bound,
    chunk: &Chunk,
    plan: &Plan,
    (record, row): (u32, usize),
    columns: &[String],
    sources: Option<&SourceMap>,
) -> Explanation {
    let mut rec = Recorder {
        notes: ir.notes.keys().copied().collect(),
        ..Default::default()
    };
    let mut first_error: Option<EvalError> = None;
    {
        let mut it = Interp::new(ir, bound, chunk).with_tracer(&mut rec);
        // The group, in batch order (so errors are the batch's).
        let groups = chunk.rows(plan.group.0);
        let target_group = if record == plan.group.0 {
            row
        } else {
            (0..groups)
                .find(|g| member_range(ir, chunk, plan, *g).contains(&row))
                .unwrap_or(0)
        };
        'eval: {
            if let Some((_, cols)) = &plan.member {
                for m in member_range(ir, chunk, plan, target_group) {
                    for i in cols {
                        if let Err(e) = it.eval_inst(*i, m) {
                            first_error = Some(e);
                            break 'eval;
                        }
                    }
                }
            }
            for i in &plan.group.1 {
                if let Err(e) = it.eval_inst(*i, target_group) {
                    first_error = Some(e);
                    break 'eval;
                }
            }
        }
    }
    let mut b = Builder {
        ir,
        bound,
        chunk,
        sources,
        rec: &rec,
        shown: std::collections::HashSet::new(),
        docs: std::collections::HashSet::new(),
    };
    let mut outputs = Vec::new();
    let mut values = Vec::new();
    for o in ir.outputs.iter().filter(|o| o.record == record) {
        for c in &o.columns {
            if !columns.is_empty() && !columns.contains(&c.name) {
                continue;
            }
            let weft_ir::ColumnValue::Inst(inst) = c.value else {
                continue;
            };
            let typed = rec
                .steps
                .get(&(inst, row))
                .and_then(|st| st.result.as_ref())
                .and_then(|r| r.as_ref().ok())
                .map(|v| {
                    let ty = ir
                        .inst(inst)
                        .map(|d| d.ty.clone())
                        .unwrap_or(weft_check::ty::Ty::Int);
                    crate::synth::cell_of(&ir.hir, &ty, Some(*v))
                });
            values.push((c.name.clone(), typed));
            let mut n = b.node(inst, row);
            // A column that is just a rule applied to the record: show the rule.
            if n.uses.len() == 1
                && n.parameters.is_empty()
                && n.decided_by.is_empty()
                && n.uses[0].value == n.value
                && n.uses[0].error == n.error
            {
                n = n.uses.remove(0);
            }
            outputs.push((c.name.clone(), n));
        }
    }
    let rkind = ir
        .hir
        .records
        .get(record as usize)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    Explanation {
        record: b.record_id(record, row),
        record_kind: rkind,
        as_of: num::format_month(bound.as_of),
        outputs,
        values,
        rejected: first_error.map(|e| {
            let name = ir.inst(e.inst).map(|i| i.name.clone()).unwrap_or_default();
            format!(
                "the group could not be evaluated: rule `{name}`: {}",
                e.detail
            )
        }),
    }
}

/// The explanation as a tree of text, for people.
pub fn render_text(e: &Explanation) -> String {
    let mut out = format!("{} {} as of {}\n", e.record_kind, e.record, e.as_of);
    if let Some(r) = &e.rejected {
        out.push_str(&format!("  rejected: {r}\n"));
    }
    for (col, n) in &e.outputs {
        out.push('\n');
        out.push_str(&format!("{col}\n"));
        render_node(n, "", true, &mut out, true);
    }
    out
}

fn render_node(n: &ExplainNode, prefix: &str, last: bool, out: &mut String, root: bool) {
    let (branch, cont) = if root {
        ("", "")
    } else if last {
        ("└─ ", "   ")
    } else {
        ("├─ ", "│  ")
    };
    let value = match (&n.value, &n.error) {
        (Some(v), _) => format!(" = {v}"),
        (None, Some(e)) => format!(" failed: {e}"),
        _ => String::new(),
    };
    let cite = n
        .source
        .as_ref()
        .map(|s| format!("  [{s}]"))
        .unwrap_or_default();
    let when = n
        .as_of
        .as_ref()
        .map(|d| format!(", as of {d}"))
        .unwrap_or_default();
    let again = if n.see_above { "  (see above)" } else { "" };
    out.push_str(&format!(
        "{prefix}{branch}{}{value}{when}{cite}{again}\n",
        n.what
    ));
    if n.see_above {
        return;
    }
    let inner = format!("{prefix}{cont}");
    let has_children = !n.uses.is_empty();
    let bar = if has_children { "│ " } else { "  " };
    if let Some(doc) = &n.doc {
        // The first paragraph, as one line.
        let para: Vec<&str> = doc
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .map(|l| l.trim())
            .collect();
        if !para.is_empty() {
            out.push_str(&format!("{inner}{bar} {}\n", para.join(" ")));
        }
    }
    for d in &n.decided_by {
        out.push_str(&format!("{inner}{bar} {d}\n"));
    }
    for i in &n.inputs {
        out.push_str(&format!(
            "{inner}{bar} input {} {}: {} = {}\n",
            i.record_kind.to_lowercase(),
            i.record,
            i.field,
            i.value
        ));
    }
    for c in &n.conditions {
        out.push_str(&format!(
            "{inner}{bar} {}: {}\n",
            c.text,
            if c.holds { "true" } else { "false" }
        ));
    }
    let total = n.uses.len();
    let mut params = n.parameters.iter();
    for (i, u) in n.uses.iter().enumerate() {
        let last = i + 1 == total;
        if u.rule.is_none() && u.record.is_none() && u.uses.is_empty() && u.doc.is_none() {
            // A parameter.
            if let Some(p) = params.next() {
                let b = if last { "└─ " } else { "├─ " };
                let when = p
                    .as_of
                    .as_ref()
                    .map(|d| format!(", in force on {d}"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{inner}{b}{} = {}  (parameter: version from {}{when}, {})\n",
                    u.what, p.value, p.version, p.origin
                ));
                continue;
            }
        }
        render_node(u, &inner, last, out, false);
    }
}

/// A row's source text on one line, with each run of white space (outside
/// strings) as one space: the text of an explanation does not depend on how
/// the row is laid out (`weft fmt` pads the cells of a table into columns).
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_str, mut escaped, mut space) = (false, false, false);
    for c in text.trim().chars() {
        if !in_str && c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        }
        out.push(c);
    }
    out
}

/// `¥1.00 per month` → `¥1.00`: both sides of a comparison have the same
/// period, said once is enough.
fn strip_period(s: &str) -> String {
    for p in [" per month", " per year"] {
        if let Some(x) = s.strip_suffix(p) {
            return x.to_string();
        }
    }
    s.to_string()
}

/// The type of a node's value, where the IR tells it (for showing values).
fn ty_of(ir: &Ir, n: NodeId) -> Option<weft_check::ty::Ty> {
    use weft_check::ty::Ty;
    use weft_ir::{ArithOp, Node};
    let unopt = |t: &Ty| match t {
        Ty::Opt(t) => (**t).clone(),
        t => t.clone(),
    };
    match ir.node(n)? {
        Node::Field { record, field, .. } => ir
            .hir
            .records
            .get(*record as usize)
            .and_then(|r| r.fields.get(*field as usize))
            .map(|f| unopt(&f.ty)),
        Node::Call { inst: c, .. } => ir.inst(*c).map(|d| unopt(&d.ty)),
        Node::Param { pref, .. } => ir
            .param_refs
            .get(*pref as usize)
            .and_then(|p| ir.hir.params.get(p.param as usize))
            .map(|p| p.ty.clone())
            .filter(|t| !matches!(t, Ty::Bands(_))),
        Node::Neg(a) => ty_of(ir, *a),
        Node::AsOf | Node::CtxDate(_) => Some(Ty::Date),
        Node::Arith(op, a, b) => {
            let (x, y) = (ty_of(ir, *a), ty_of(ir, *b));
            let plain = |t: &Option<Ty>| matches!(t, None | Some(Ty::Int) | Some(Ty::IntLit));
            match op {
                ArithOp::SubDates => Some(Ty::Dur(weft_check::ty::DurUnit::Days)),
                ArithOp::AddDays | ArithOp::AddMonths { .. } => Some(Ty::Date),
                ArithOp::Add | ArithOp::Sub => x.filter(|_| true).or(y),
                _ => match (&x, &y) {
                    (Some(Ty::Money(p)), _) | (_, Some(Ty::Money(p))) => Some(Ty::Money(*p)),
                    _ if plain(&x) => y,
                    _ if plain(&y) => x,
                    _ => x,
                },
            }
        }
        Node::Builtin(_, args) => args.first().and_then(|a| ty_of(ir, *a)),
        _ => None,
    }
}

/// A node as the policy's text would name it (rules, parameters and fields
/// by name, arithmetic spelled out), for a comparison's sides.
fn expr_text(ir: &Ir, n: NodeId, depth: usize) -> String {
    use weft_ir::{ArithOp, Node};
    if depth > 4 {
        return "…".into();
    }
    let sub = |m: NodeId| {
        let t = expr_text(ir, m, depth + 1);
        let outer_mul = matches!(
            ir.node(n),
            Some(Node::Arith(
                ArithOp::Mul | ArithOp::MulRound { .. } | ArithOp::DivRound { .. },
                ..
            ))
        );
        match ir.node(m) {
            Some(Node::Arith(ArithOp::Add | ArithOp::Sub, ..)) if outer_mul => format!("({t})"),
            _ => t,
        }
    };
    match ir.node(n) {
        Some(Node::Const(v)) => match ty_of(ir, n) {
            Some(t) => display_value(&ir.hir, &t, *v),
            None => v.to_string(),
        },
        Some(Node::AsOf | Node::CtxDate(_)) => "the evaluation date".into(),
        Some(Node::Field { rec, record, field }) => {
            let name = ir
                .hir
                .records
                .get(*record as usize)
                .and_then(|r| r.fields.get(*field as usize))
                .map(|f| f.name.clone())
                .unwrap_or_default();
            match ir.node(*rec) {
                Some(Node::Field { .. }) => {
                    format!("{}.{name}", expr_text(ir, *rec, depth + 1))
                }
                _ => name,
            }
        }
        Some(Node::Call { inst: c, .. }) => ir.inst(*c).map(|d| d.name.clone()).unwrap_or_default(),
        Some(Node::Param { pref, .. }) => ir
            .param_refs
            .get(*pref as usize)
            .and_then(|p| ir.hir.params.get(p.param as usize))
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        Some(Node::Neg(a)) => format!("−{}", sub(*a)),
        Some(Node::Arith(op, a, b)) => {
            let sym = match op {
                ArithOp::Add | ArithOp::AddDays | ArithOp::AddMonths { .. } => "+",
                ArithOp::Sub | ArithOp::SubDates => "−",
                ArithOp::Mul | ArithOp::MulRound { .. } => "×",
                ArithOp::DivRound { .. } => "÷",
            };
            format!("{} {sym} {}", sub(*a), sub(*b))
        }
        Some(Node::Builtin(b, args)) => {
            let name = format!("{b:?}").to_lowercase();
            let args: Vec<String> = args.iter().map(|a| expr_text(ir, *a, depth + 1)).collect();
            format!("{name}({})", args.join(", "))
        }
        _ => "…".into(),
    }
}

/// Every value on an explanation's paths, `(what, value)` in tree order,
/// each once: outputs (`column = …`), rules' values, inputs
/// (`input household H1: financial_assets`), parameters.
pub fn values(e: &Explanation) -> Vec<(String, String)> {
    fn walk(n: &ExplainNode, out: &mut Vec<(String, String)>) {
        let mut push = |w: String, v: String| {
            if !out.iter().any(|(x, _)| *x == w) {
                out.push((w, v));
            }
        };
        push(
            n.what.clone(),
            n.value
                .clone()
                .or_else(|| n.error.clone())
                .unwrap_or_default(),
        );
        for i in &n.inputs {
            push(
                format!(
                    "input {} {}: {}",
                    i.record_kind.to_lowercase(),
                    i.record,
                    i.field
                ),
                i.value.clone(),
            );
        }
        for u in &n.uses {
            walk(u, out);
        }
    }
    let mut out = Vec::new();
    for (c, n) in &e.outputs {
        out.push((
            c.clone(),
            n.value
                .clone()
                .or_else(|| n.error.clone())
                .unwrap_or_default(),
        ));
        walk(n, &mut out);
    }
    out
}
