//! Overlays as values: one parameter's value changed from a date, for one
//! key combination, without writing a parameter file that restates every
//! key.
//!
//! [`Policy::with_param`] writes the overlay file itself: a version of
//! the parameter effective from the date given, holding the new value for
//! the keys given and, for every other key combination, the value of the
//! version in force on that date (so one region's standard can be raised
//! alone). The result is checked like any overlay, against the policy's
//! assertions too (see [`Policy::check_assertions`]); evaluators of it
//! share the compiled program ([`crate::Evaluator::rebind`]).

use crate::{Date, Error, Policy, Value};
use weft_check::hir::{PVal, ParamDef, Program};
use weft_check::ty::Ty;
use weft_syntax::num;

impl Policy {
    /// The same policy with the parameter `name` set to `value` from
    /// `from`, for the key combination `keys` (one enum code per key of
    /// the parameter, in declaration order; none for an unkeyed one). The
    /// other key combinations keep the values in force on `from`.
    ///
    /// ```
    /// # let policy = weft::Policy::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin")).unwrap();
    /// use weft::{Date, Money, Value};
    /// let from = Date::new(2018, 8, 1).unwrap();
    /// let raised = policy.with_param("dibao_standard_urban", &["changchun"], from, Value::Money(Money::from_fen(70_000)))?;
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn with_param(
        &self,
        name: &str,
        keys: &[&str],
        from: Date,
        value: Value,
    ) -> Result<Policy, Error> {
        let prog = &self.ir().hir;
        let param = prog
            .params
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| Error::Input(format!("the policy has no parameter `{name}`")))?;
        if param.series || matches!(param.ty, Ty::Bands(_)) {
            return Err(Error::Input(format!(
                "`{name}` is a series or bands; give it in a parameter file (Policy::with_params)"
            )));
        }
        if keys.len() != param.keys.len() {
            return Err(Error::Input(format!(
                "`{name}` has {} key(s); give one enum code for each",
                param.keys.len()
            )));
        }
        let mut variants = Vec::with_capacity(keys.len());
        for ((enum_id, _), code) in param.keys.iter().zip(keys) {
            let v = prog
                .enums
                .get(*enum_id)
                .and_then(|e| e.variants.iter().position(|v| v.code == *code))
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| Error::Input(format!("`{code}` is no key of `{name}`")))?;
            variants.push(v);
        }
        let slot = param
            .slot_of(&variants)
            .ok_or_else(|| Error::Input(format!("`{name}` has no value for {keys:?}")))?;
        let new = value_text(prog, &param.ty, &value)
            .ok_or_else(|| Error::Input(format!("{value:?} is not a value of `{name}`'s type")))?;
        // The values in force on `from`, the one given replaced.
        let in_force = param
            .versions
            .iter()
            .rev()
            .find(|v| v.effective <= from.days());
        let slots = param.slots().max(1);
        let texts: Vec<Option<String>> = (0..slots)
            .map(|s| {
                if s == slot {
                    return Some(new.clone());
                }
                match in_force.and_then(|v| v.values.get(s)).cloned().flatten() {
                    Some(PVal::Scalar(x)) => scalar_text(prog, &param.ty, x),
                    _ => None,
                }
            })
            .collect();
        let mut toml = format!(
            "[{name}]\n[[{name}.version]]\neffective = {}\n",
            num::format_date(from.days())
        );
        if param.keys.is_empty() {
            if let Some(Some(t)) = texts.first() {
                toml.push_str(&format!("value = {t}\n"));
            }
        } else {
            for line in keyed_lines(prog, param, &texts) {
                toml.push_str(&line);
                toml.push('\n');
            }
        }
        self.with_params(&[(&format!("with_param-{name}.toml"), &toml)])
    }
}

/// `code = value` lines of a keyed version (nested inline tables for a
/// second key and beyond); slots without a value are left out (the checker
/// reports them).
fn keyed_lines(prog: &Program, param: &ParamDef, texts: &[Option<String>]) -> Vec<String> {
    // The variants of each key set, in order.
    let sets: Vec<Vec<(u32, String)>> = param
        .keys
        .iter()
        .map(|(e, set)| {
            let codes = prog.enums.get(*e);
            (0..64u32)
                .filter(|v| set & (1u64 << v) != 0)
                .map(|v| {
                    let code = codes
                        .and_then(|en| en.variants.get(v as usize))
                        .map(|x| x.code.clone())
                        .unwrap_or_default();
                    (v, code)
                })
                .collect()
        })
        .collect();
    fn table(
        param: &ParamDef,
        sets: &[Vec<(u32, String)>],
        prefix: &mut Vec<u32>,
        texts: &[Option<String>],
    ) -> Vec<(String, String)> {
        let depth = prefix.len();
        let Some(set) = sets.get(depth) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (v, code) in set {
            prefix.push(*v);
            if depth + 1 == sets.len() {
                if let Some(Some(t)) = param.slot_of(prefix).and_then(|s| texts.get(s)) {
                    out.push((code.clone(), t.clone()));
                }
            } else {
                let inner = table(param, sets, prefix, texts);
                if !inner.is_empty() {
                    let body: Vec<String> =
                        inner.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    out.push((code.clone(), format!("{{ {} }}", body.join(", "))));
                }
            }
            prefix.pop();
        }
        out
    }
    table(param, &sets, &mut Vec::new(), texts)
        .into_iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect()
}

/// A parameter value as a parameter file writes it.
fn scalar_text(prog: &Program, ty: &Ty, x: i64) -> Option<String> {
    Some(match ty {
        Ty::Money(_) => num::format_money(x),
        Ty::Decimal => num::format_decimal(x),
        Ty::Int | Ty::Dur(_) => x.to_string(),
        Ty::Bool => (x != 0).to_string(),
        Ty::Date => num::format_date(i32::try_from(x).ok()?),
        Ty::Enum(e, _) => format!(
            "\"{}\"",
            prog.enums
                .get(*e)?
                .variants
                .get(usize::try_from(x).ok()?)?
                .code
        ),
        _ => return None,
    })
}

/// A value given by the caller, as a parameter file writes it (`None`
/// when it is not of the parameter's type).
fn value_text(prog: &Program, ty: &Ty, value: &Value) -> Option<String> {
    match (ty, value) {
        (Ty::Money(_), Value::Money(m)) => scalar_text(prog, ty, m.fen()),
        (Ty::Decimal, Value::Decimal(d)) => scalar_text(prog, ty, d.millionths()),
        (Ty::Int | Ty::Dur(_), Value::Int(i)) => scalar_text(prog, ty, *i),
        (Ty::Bool, Value::Bool(b)) => scalar_text(prog, ty, i64::from(*b)),
        (Ty::Date, Value::Date(d)) => scalar_text(prog, ty, i64::from(d.days())),
        (Ty::Enum(e, _), Value::Text(code)) => prog
            .enums
            .get(*e)?
            .variants
            .iter()
            .any(|v| v.code == *code)
            .then(|| format!("\"{code}\"")),
        _ => None,
    }
}
