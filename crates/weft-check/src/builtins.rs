//! The built-in functions and type names, in one table.
//!
//! Each built-in function is one row: its name, what it takes and gives (the
//! text a language server shows on hover), how many arguments it takes, and
//! the [`Fun`] the call checker dispatches on, which names the
//! [`hir::Builtin`](crate::hir::Builtin) it lowers to where there is one.
//! Nothing else in the checker lists built-in names: reserving them as
//! declaration names, recognising a call as built-in, and checking it all
//! read this table.

use crate::hir::Builtin;
use crate::ty::{DurUnit, Per};
use std::ops::RangeInclusive;

/// What the checker does with a call of a built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fun {
    /// `round(x)`, `round(x, to: unit)`, `round(x, places: n)`.
    Round,
    /// `prior_year(x)`: `x` on 31 December of the year before.
    PriorYear,
    /// `min`, `max`: values of one ordered type.
    Extreme(Builtin),
    Clamp,
    Abs,
    /// `per_month`, `per_year`: money of one period as money of another.
    Period {
        from: Per,
        to: Per,
    },
    /// `years_between` and the like: two dates to a duration.
    Between(Builtin, DurUnit),
    /// `add_months` and the like: a date plus a duration.
    AddDuration(DurUnit),
    /// `year`, `month`, `day`: a part of a date.
    DatePart(Builtin),
    IsSet,
    ToDecimal,
    ToInt,
    /// `bands_start` and the like: a fact about bands.
    Bands(Builtin),
    /// `sum`, `count`, `any`, `all`: only as comprehensions.
    Aggregate,
}

/// One built-in function.
#[derive(Debug)]
pub struct BuiltinFn {
    pub name: &'static str,
    /// What it takes and gives, for people.
    pub signature: &'static str,
    /// How many arguments it takes.
    pub arity: RangeInclusive<usize>,
    pub fun: Fun,
}

const fn f(
    name: &'static str,
    signature: &'static str,
    arity: RangeInclusive<usize>,
    fun: Fun,
) -> BuiltinFn {
    BuiltinFn {
        name,
        signature,
        arity,
        fun,
    }
}

/// Every built-in function.
pub static FUNCTIONS: &[BuiltinFn] = &[
    f(
        "min",
        "min(a, b, …): the least of values of one ordered type",
        2..=usize::MAX,
        Fun::Extreme(Builtin::Min),
    ),
    f(
        "max",
        "max(a, b, …): the greatest of values of one ordered type",
        2..=usize::MAX,
        Fun::Extreme(Builtin::Max),
    ),
    f(
        "clamp",
        "clamp(x, lo, hi): x kept between lo and hi",
        3..=3,
        Fun::Clamp,
    ),
    f(
        "abs",
        "abs(x): the absolute value of a number",
        1..=1,
        Fun::Abs,
    ),
    f(
        "round",
        "round(x, to: unit | places: n): money to a unit, a decimal to places, half away from zero",
        1..=2,
        Fun::Round,
    ),
    f(
        "per_month",
        "per_month(Money/year) -> Money/month",
        1..=1,
        Fun::Period {
            from: Per::Year,
            to: Per::Month,
        },
    ),
    f(
        "per_year",
        "per_year(Money/month) -> Money/year",
        1..=1,
        Fun::Period {
            from: Per::Month,
            to: Per::Year,
        },
    ),
    f(
        "prior_year",
        "prior_year(x): x as of 31 December of the year before",
        1..=1,
        Fun::PriorYear,
    ),
    f(
        "years_between",
        "years_between(Date, Date) -> Years",
        2..=2,
        Fun::Between(Builtin::YearsBetween, DurUnit::Years),
    ),
    f(
        "months_between",
        "months_between(Date, Date) -> Months",
        2..=2,
        Fun::Between(Builtin::MonthsBetween, DurUnit::Months),
    ),
    f(
        "days_between",
        "days_between(Date, Date) -> Days",
        2..=2,
        Fun::Between(Builtin::DaysBetween, DurUnit::Days),
    ),
    f(
        "add_months",
        "add_months(Date, Months) -> Date",
        2..=2,
        Fun::AddDuration(DurUnit::Months),
    ),
    f(
        "add_days",
        "add_days(Date, Days) -> Date",
        2..=2,
        Fun::AddDuration(DurUnit::Days),
    ),
    f(
        "add_years",
        "add_years(Date, Years) -> Date",
        2..=2,
        Fun::AddDuration(DurUnit::Years),
    ),
    f(
        "year",
        "year(Date) -> Int",
        1..=1,
        Fun::DatePart(Builtin::Year),
    ),
    f(
        "month",
        "month(Date) -> Int",
        1..=1,
        Fun::DatePart(Builtin::Month),
    ),
    f(
        "day",
        "day(Date) -> Int",
        1..=1,
        Fun::DatePart(Builtin::Day),
    ),
    f(
        "is_set",
        "is_set(x?) -> Bool: whether an optional value is present",
        1..=1,
        Fun::IsSet,
    ),
    f("decimal", "decimal(Int) -> Decimal", 1..=1, Fun::ToDecimal),
    f("int", "int(duration) -> Int", 1..=1, Fun::ToInt),
    f(
        "bands_start",
        "bands_start(Bands) -> Money: where the first band starts",
        1..=1,
        Fun::Bands(Builtin::BandsStart),
    ),
    f(
        "bands_contiguous",
        "bands_contiguous(Bands) -> Bool: whether each band starts where the last ends",
        1..=1,
        Fun::Bands(Builtin::BandsContiguous),
    ),
    f(
        "min_rate",
        "min_rate(Bands) -> Decimal: the lowest rate",
        1..=1,
        Fun::Bands(Builtin::MinRate),
    ),
    f(
        "max_rate",
        "max_rate(Bands) -> Decimal: the highest rate",
        1..=1,
        Fun::Bands(Builtin::MaxRate),
    ),
    f(
        "sum",
        "sum(x for m in list where …): the total over members",
        1..=1,
        Fun::Aggregate,
    ),
    f(
        "count",
        "count(m in list where …) -> Int: how many members",
        1..=1,
        Fun::Aggregate,
    ),
    f(
        "any",
        "any(cond for m in list): whether some member satisfies it",
        1..=1,
        Fun::Aggregate,
    ),
    f(
        "all",
        "all(cond for m in list): whether every member satisfies it",
        1..=1,
        Fun::Aggregate,
    ),
];

/// The built-in function of that name.
pub fn function(name: &str) -> Option<&'static BuiltinFn> {
    FUNCTIONS.iter().find(|b| b.name == name)
}

/// The names of the built-in types (enums and records are declared).
pub const TYPE_NAMES: &[&str] = &[
    "Bool", "Int", "Decimal", "Money", "Text", "Date", "Days", "Months", "Years", "Bands",
];

/// Whether a name is taken by the language (a built-in function or type).
pub fn is_reserved(name: &str) -> bool {
    function(name).is_some() || TYPE_NAMES.contains(&name)
}

/// The kinds of evaluation error, by the name written in
/// `expect … fails with NAME` and in error rows, in the order of their
/// index ([`crate::hir::ErrKind`]).
pub fn error_kind_names() -> impl Iterator<Item = &'static str> {
    crate::hir::ErrKind::ALL.iter().map(|k| k.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, b) in FUNCTIONS.iter().enumerate() {
            assert!(
                FUNCTIONS.iter().skip(i + 1).all(|o| o.name != b.name),
                "{} twice",
                b.name
            );
            assert!(b.signature.starts_with(b.name), "{}", b.signature);
        }
    }

    #[test]
    fn reserved_names() {
        assert!(is_reserved("min"));
        assert!(is_reserved("Money"));
        assert!(!is_reserved("dibao"));
        assert_eq!(
            function("max").map(|b| b.fun),
            Some(Fun::Extreme(Builtin::Max))
        );
    }

    #[test]
    fn error_kinds_in_index_order() {
        use crate::hir::ErrKind;
        for (i, k) in ErrKind::ALL.iter().enumerate() {
            assert_eq!(usize::from(k.index()), i);
            assert_eq!(ErrKind::from_index(k.index()), Some(*k));
        }
        assert_eq!(ErrKind::from_index(ErrKind::ALL.len() as u8), None);
        let names: Vec<_> = error_kind_names().collect();
        assert_eq!(names.first(), Some(&"overflow"));
        assert_eq!(names.last(), Some(&"no_value"));
    }
}
