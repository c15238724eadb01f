//! Per-programme totals of a run: recipients and amounts by period.

use weft_check::ty::{Per, Ty};
use weft_data::OutCell;
use weft_ir::Ir;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgrammeTotals {
    pub name: String,
    pub display: Option<String>,
    pub recipients: u64,
    /// Fen per period: once, per month, per year.
    pub once: i128,
    pub per_month: i128,
    pub per_year: i128,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub programmes: Vec<ProgrammeTotals>,
}

impl Summary {
    pub fn new(ir: &Ir) -> Summary {
        Summary {
            programmes: ir
                .hir
                .programmes
                .iter()
                .map(|p| ProgrammeTotals {
                    name: p.name.clone(),
                    display: p.display.clone(),
                    ..ProgrammeTotals::default()
                })
                .collect(),
        }
    }

    /// Count one written row of output `oi`.
    pub fn add(&mut self, ir: &Ir, oi: usize, cells: &[OutCell]) {
        for (pi, p) in ir.hir.programmes.iter().enumerate() {
            if p.output != oi {
                continue;
            }
            let Some(t) = self.programmes.get_mut(pi) else {
                continue;
            };
            let mut any_positive = false;
            for &a in &p.amounts {
                let v = match cells.get(a) {
                    Some(OutCell::Money(v)) => *v,
                    _ => 0,
                };
                if v > 0 {
                    any_positive = true;
                }
                let per = ir
                    .outputs
                    .get(oi)
                    .and_then(|o| o.columns.get(a))
                    .map(|c| match c.ty {
                        Ty::Money(p) => p,
                        _ => Per::Once,
                    })
                    .unwrap_or(Per::Once);
                match per {
                    Per::Month => t.per_month += v as i128,
                    Per::Year => t.per_year += v as i128,
                    _ => t.once += v as i128,
                }
            }
            let recipient = match p.recipients {
                Some(c) => matches!(cells.get(c), Some(OutCell::Bool(true))),
                None => any_positive,
            };
            if recipient {
                t.recipients += 1;
            }
        }
    }

    pub fn merge(&mut self, other: &Summary) {
        for (a, b) in self.programmes.iter_mut().zip(&other.programmes) {
            a.recipients += b.recipients;
            a.once += b.once;
            a.per_month += b.per_month;
            a.per_year += b.per_year;
        }
    }
}

/// Fen as yuan with two decimals and thousands separators.
pub fn yuan(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let s = format!("{}.{:02}", a / 100, a % 100);
    format!("{sign}{}", weft_ir::value::group_thousands(&s))
}
