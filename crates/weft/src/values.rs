//! Values in results: exact money and decimals, dates, text.

use weft_data::OutCell;
use weft_syntax::num;

/// An amount of money, exact to the fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// An amount of fen.
    pub fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    /// The amount in fen.
    pub fn fen(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Money {
    /// Yuan with two decimals (`1234.50`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&num::format_money(self.0))
    }
}

/// A fixed-point decimal with six places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(i64);

impl Decimal {
    /// A decimal from its count of millionths.
    pub fn from_millionths(m: i64) -> Decimal {
        Decimal(m)
    }

    /// The count of millionths.
    pub fn millionths(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&num::format_decimal(self.0))
    }
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// A date, if it exists in the calendar.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        num::make_date(year, month, day).map(Date)
    }

    /// `(year, month, day)`.
    pub fn ymd(self) -> (i32, u32, u32) {
        num::civil_from_days(self.0)
    }

    /// The date `days` days after 1970-01-01 (Arrow's `Date32`).
    ///
    /// ```
    /// let d = weft::Date::from_days(17_744);
    /// assert_eq!(d.to_string(), "2018-08-01");
    /// assert_eq!(d.days(), 17_744);
    /// ```
    pub fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01 (Arrow's `Date32`).
    pub fn days(self) -> i32 {
        self.0
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&num::format_date(self.0))
    }
}

/// One value of an output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    /// No value (an absent optional).
    Null,
    /// True or false.
    Bool(bool),
    /// A whole number (also durations and ages).
    Int(i64),
    /// An amount of money.
    Money(Money),
    /// A decimal.
    Decimal(Decimal),
    /// A date.
    Date(Date),
    /// Text, and enum values by their code.
    Text(String),
}

impl Value {
    pub(crate) fn from_cell(c: OutCell) -> Value {
        match c {
            OutCell::Null => Value::Null,
            OutCell::Bool(b) => Value::Bool(b),
            OutCell::Int(i) => Value::Int(i),
            OutCell::Money(m) => Value::Money(Money(m)),
            OutCell::Decimal(d) => Value::Decimal(Decimal(d)),
            OutCell::Date(d) => Value::Date(Date(d)),
            OutCell::Text(t) => Value::Text(t),
        }
    }

    /// The amount, if this is money.
    ///
    /// ```
    /// use weft::{Money, Value};
    /// assert_eq!(Value::Money(Money::from_fen(80_600)).as_money(), Some(Money::from_fen(80_600)));
    /// assert_eq!(Value::Int(3).as_money(), None);
    /// ```
    pub fn as_money(&self) -> Option<Money> {
        match self {
            Value::Money(m) => Some(*m),
            _ => None,
        }
    }

    /// The date, if this is a date.
    pub fn as_date(&self) -> Option<Date> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The whole number, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The decimal, if this is one.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Value::Decimal(d) => Some(*d),
            _ => None,
        }
    }

    /// The text (or an enum value's code), if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Whether this is no value (an absent optional).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Money and decimals as exact strings; integers and booleans as JSON
    /// numbers and booleans.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            other => serde_json::Value::String(other.to_string()),
        }
    }
}

impl std::fmt::Display for Value {
    /// As in the output files (`1234.50`, `true`, `2019-07-01`, codes).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Money(m) => write!(f, "{m}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Text(t) => f.write_str(t),
        }
    }
}
