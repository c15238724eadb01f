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
            if p.output.index() != oi {
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

    /// Count the rows of a block of output `oi` (as [`Summary::add`] would
    /// one by one).
    pub fn add_block(&mut self, ir: &Ir, oi: usize, block: &crate::run::output::OutBlock) {
        use crate::run::output::OutVals;
        let Some(out) = ir.outputs.get(oi) else {
            return;
        };
        for (pi, p) in ir.hir.programmes.iter().enumerate() {
            if p.output.index() != oi {
                continue;
            }
            let Some(t) = self.programmes.get_mut(pi) else {
                continue;
            };
            let n = block.len();
            // Money columns only (as `add` reads `OutCell::Money`).
            let amounts: Vec<(&[i64], Per)> = p
                .amounts
                .iter()
                .filter_map(|&a| {
                    let per = match out.columns.get(a).map(|c| &c.ty) {
                        Some(Ty::Money(p)) => *p,
                        Some(Ty::Opt(inner)) => match **inner {
                            Ty::Money(p) => p,
                            _ => return None,
                        },
                        _ => return None,
                    };
                    match block.cols.get(a) {
                        Some(OutVals::I64(v)) => Some((v.as_slice(), per)),
                        _ => None,
                    }
                })
                .collect();
            let flag: Option<Option<&[i64]>> = p.recipients.map(|c| {
                let is_bool = matches!(
                    out.columns.get(c).map(|c| &c.ty),
                    Some(Ty::Bool) | Some(Ty::Opt(_))
                ) && matches!(out.columns.get(c).map(|c| c.ty.clone()), Some(Ty::Bool))
                    || matches!(out.columns.get(c).map(|c| &c.ty), Some(Ty::Opt(t)) if **t == Ty::Bool);
                match (is_bool, block.cols.get(c)) {
                    (true, Some(OutVals::I64(v))) => Some(v.as_slice()),
                    _ => None,
                }
            });
            for i in 0..n {
                let mut any_positive = false;
                for (v, per) in &amounts {
                    let x = v.get(i).copied().unwrap_or(0);
                    if x > 0 {
                        any_positive = true;
                    }
                    match per {
                        Per::Month => t.per_month += x as i128,
                        Per::Year => t.per_year += x as i128,
                        _ => t.once += x as i128,
                    }
                }
                let recipient = match flag {
                    Some(Some(v)) => v.get(i).copied().unwrap_or(0) != 0,
                    Some(None) => false,
                    None => any_positive,
                };
                if recipient {
                    t.recipients += 1;
                }
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
