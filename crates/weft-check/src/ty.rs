//! Weft's types.
//!
//! Every value of every type is held in one `i64` at run time (money in fen,
//! decimals in millionths, dates in days since 1970-01-01, enum variants by
//! index, booleans as 0/1, records by row); the type says how to read it.

use std::fmt;

/// The period of an amount of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Per {
    /// A stock or a one-off amount.
    Once,
    Month,
    Year,
    /// An unannotated money literal (`¥0`): takes the period its context needs.
    Any,
}

impl Per {
    pub fn join(self, other: Per) -> Option<Per> {
        match (self, other) {
            (Per::Any, p) | (p, Per::Any) => Some(p),
            (a, b) if a == b => Some(a),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurUnit {
    Days,
    Months,
    Years,
}

impl DurUnit {
    pub fn name(self) -> &'static str {
        match self {
            DurUnit::Days => "Days",
            DurUnit::Months => "Months",
            DurUnit::Years => "Years",
        }
    }
}

use crate::ids::RuleId;
pub use crate::ids::{EnumId, RecordId};

/// A set of variants of one enum, as a bit mask (enums have at most 64
/// variants).
pub type VariantSet = u64;

pub fn full_set(n: usize) -> VariantSet {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Int,
    /// An integer literal: becomes Decimal or a duration where one is needed.
    IntLit,
    Decimal,
    Money(Per),
    Date,
    Dur(DurUnit),
    Text,
    /// An enum, narrowed to a subset of its variants.
    Enum(EnumId, VariantSet),
    Record(RecordId),
    List(RecordId),
    Opt(Box<Ty>),
    /// Marginal bands of money with rates (parameters only).
    Bands(Per),
    /// The result of calling a cascade: only its parts can be used.
    Cascade(RuleId),
    /// The type of an expression that already failed to check.
    Error,
}

impl Ty {
    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Ty::Int | Ty::IntLit | Ty::Decimal | Ty::Money(_) | Ty::Dur(_)
        )
    }

    /// Values that are ordered (`<`, `min`, table ranges).
    pub fn is_ordered(&self) -> bool {
        self.is_numeric() || matches!(self, Ty::Date)
    }

    /// A type a value of which fits in one i64 and can be compared.
    pub fn is_scalar(&self) -> bool {
        !matches!(
            self,
            Ty::Record(_) | Ty::List(_) | Ty::Opt(_) | Ty::Bands(_) | Ty::Cascade(_)
        )
    }

    /// The common type of two branches, or `None` if they do not agree.
    pub fn join(&self, other: &Ty) -> Option<Ty> {
        use Ty::*;
        Some(match (self, other) {
            (Error, t) | (t, Error) => t.clone(),
            (IntLit, IntLit) => IntLit,
            (IntLit, Int) | (Int, IntLit) => Int,
            (IntLit, Decimal) | (Decimal, IntLit) => Decimal,
            (IntLit, Dur(u)) | (Dur(u), IntLit) => Dur(*u),
            (Money(a), Money(b)) => Money(a.join(*b)?),
            (Enum(a, s), Enum(b, t)) if a == b => Enum(*a, s | t),
            (a, b) if a == b => a.clone(),
            _ => return None,
        })
    }

    /// Whether a value of `self` may be used where `want` is expected.
    pub fn fits(&self, want: &Ty) -> bool {
        use Ty::*;
        match (self, want) {
            (Error, _) | (_, Error) => true,
            (IntLit, Int | Decimal | Dur(_)) => true,
            (Money(a), Money(b)) => *a == Per::Any || a == b || *b == Per::Any,
            (Enum(a, s), Enum(b, t)) => a == b && (s & !t) == 0,
            (Opt(a), Opt(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }

    /// The same type with literal flexibility removed.
    pub fn settle(&self) -> Ty {
        match self {
            Ty::IntLit => Ty::Int,
            Ty::Money(Per::Any) => Ty::Money(Per::Once),
            t => t.clone(),
        }
    }
}

/// Names needed to print a type.
pub trait TyNames {
    fn enum_name(&self, id: EnumId) -> String;
    fn enum_len(&self, id: EnumId) -> usize;
    fn variant_name(&self, id: EnumId, v: usize) -> String;
    fn record_name(&self, id: RecordId) -> String;
    fn cascade_name(&self, id: RuleId) -> String;
}

pub struct Show<'a, N: TyNames>(pub &'a Ty, pub &'a N);

impl<N: TyNames> fmt::Display for Show<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.1;
        match self.0 {
            Ty::Bool => f.write_str("Bool"),
            Ty::Int | Ty::IntLit => f.write_str("Int"),
            Ty::Decimal => f.write_str("Decimal"),
            Ty::Money(Per::Once) | Ty::Money(Per::Any) => f.write_str("Money"),
            Ty::Money(Per::Month) => f.write_str("Money per month"),
            Ty::Money(Per::Year) => f.write_str("Money per year"),
            Ty::Date => f.write_str("Date"),
            Ty::Dur(u) => f.write_str(u.name()),
            Ty::Text => f.write_str("Text"),
            Ty::Enum(e, set) => {
                let len = n.enum_len(*e);
                if *set == full_set(len) {
                    write!(f, "{}", n.enum_name(*e))
                } else {
                    let missing: Vec<String> = (0..len)
                        .filter(|v| set & (1u64 << v) == 0)
                        .map(|v| n.variant_name(*e, v))
                        .collect();
                    write!(f, "{} except {}", n.enum_name(*e), missing.join(", "))
                }
            }
            Ty::Record(r) => f.write_str(&n.record_name(*r)),
            Ty::List(r) => write!(f, "[{}]", n.record_name(*r)),
            Ty::Opt(t) => write!(f, "{}?", Show(t, n)),
            Ty::Bands(Per::Month) => f.write_str("Bands of Money per month"),
            Ty::Bands(Per::Year) => f.write_str("Bands of Money per year"),
            Ty::Bands(_) => f.write_str("Bands of Money"),
            Ty::Cascade(c) => write!(f, "the cascade `{}`", n.cascade_name(*c)),
            Ty::Error => f.write_str("?"),
        }
    }
}
