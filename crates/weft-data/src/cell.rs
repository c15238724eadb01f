//! Rows of cells, and parsing a cell into a typed value.
//!
//! Every reader normalises a cell to a kind and a text: CSV cells are text;
//! JSON strings are text, JSON numbers keep their literal text (never parsed
//! through binary floating point); Parquet decimals, dates, booleans and
//! integers are written in the canonical text of their value. Parsing then
//! follows spec §2 for every format alike.

use weft_check::Program;
use weft_check::ty::Ty;
use weft_syntax::num;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Empty (CSV), `null` or a missing key (JSON), null (Parquet).
    Null,
    Text,
    /// A JSON number, by its literal text.
    Number,
    /// A JSON or Parquet boolean.
    Bool,
    /// A Parquet floating-point value (never accepted as money).
    Float,
    /// A JSON array or object.
    Nested,
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub kind: CellKind,
    pub text: String,
}

/// One row as read: its physical line (CSV, JSON Lines) or row number + 1
/// (Parquet), and one cell per header column.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<Cell>,
}

impl Row {
    /// Make room for `n` cells, reusing buffers.
    pub fn reset(&mut self, n: usize) {
        self.cells.truncate(n);
        for c in &mut self.cells {
            c.kind = CellKind::Null;
            c.text.clear();
        }
        while self.cells.len() < n {
            self.cells.push(Cell {
                kind: CellKind::Null,
                text: String::new(),
            });
        }
    }

    pub fn set(&mut self, i: usize, kind: CellKind, text: &str) {
        if let Some(c) = self.cells.get_mut(i) {
            c.kind = kind;
            c.text.clear();
            c.text.push_str(text);
        }
    }

    pub fn text(&self, i: usize) -> &str {
        self.cells.get(i).map(|c| c.text.as_str()).unwrap_or("")
    }

    pub fn is_null(&self, i: usize) -> bool {
        self.cells
            .get(i)
            .map(|c| c.kind == CellKind::Null)
            .unwrap_or(true)
    }
}

/// Money in spec §2's format: digits, optionally a point and one or two
/// digits; at most 1,000,000,000,000.00.
pub fn parse_money(s: &str) -> Option<i64> {
    let v = num::parse_fixed(s, 2)?;
    if v > 100_000_000_000_000 {
        return None;
    }
    Some(v)
}

fn show(s: &str) -> String {
    // Keep messages short and printable.
    let t: String = s.chars().take(40).collect();
    if t.is_empty() {
        "an empty value".to_string()
    } else {
        t
    }
}

/// Parse a cell into a value of `ty`; `Ok(None)` for an absent optional.
/// The error is the message of the error row (the column is named apart).
pub fn parse_value(prog: &Program, ty: &Ty, cell: &Cell) -> Result<Option<i64>, String> {
    parse_text(prog, ty, cell.kind, &cell.text)
}

/// [`parse_value`] of a cell given as its kind and (untrimmed) text: the
/// one definition of spec §2's value formats, used by every reader.
pub fn parse_text(
    prog: &Program,
    ty: &Ty,
    kind: CellKind,
    text: &str,
) -> Result<Option<i64>, String> {
    let (ty, optional) = match ty {
        Ty::Opt(t) => (&**t, true),
        t => (t, false),
    };
    let text = text.trim();
    if kind == CellKind::Null || (kind == CellKind::Text && text.is_empty()) {
        return if optional {
            Ok(None)
        } else {
            Err("a value is required".to_string())
        };
    }
    if kind == CellKind::Nested {
        return Err(format!("{} is not a single value", show(text)));
    }
    let v = match ty {
        Ty::Money(_) => {
            if kind == CellKind::Float {
                return Err(format!(
                    "{} is a floating-point number, not an exact amount of money",
                    show(text)
                ));
            }
            parse_money(text).ok_or_else(|| format!("{} is not an amount of money", show(text)))?
        }
        Ty::Bool => match text {
            "true" => 1,
            "false" => 0,
            _ => return Err(format!("{} is not true or false", show(text))),
        },
        Ty::Int | Ty::Dur(_) => {
            let ok = !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit());
            match (ok, text.parse::<i64>()) {
                (true, Ok(v)) => v,
                _ => return Err(format!("{} is not a whole number", show(text))),
            }
        }
        Ty::Decimal => {
            let parsed = match text.strip_prefix('-') {
                Some(r) => num::parse_fixed(r, 6).map(|v| -v),
                None => num::parse_fixed(text, 6),
            };
            parsed.ok_or_else(|| format!("{} is not a decimal number", show(text)))?
        }
        Ty::Date => num::parse_date(text)
            .map(|d| d as i64)
            .ok_or_else(|| format!("{} is not a date", show(text)))?,
        Ty::Enum(e, set) => {
            let en = prog
                .enums
                .get(*e)
                .ok_or_else(|| "unknown enum".to_string())?;
            // The code, or else the label (`urban` or `城镇`): an
            // extension of spec §2, so a register exported with labels reads.
            let at = en.variants.iter().position(|v| v.code == text).or_else(|| {
                en.variants
                    .iter()
                    .position(|v| v.display.as_deref() == Some(text))
            });
            match at {
                Some(i) if set & (1u64 << i) != 0 => i as i64,
                _ => {
                    let codes: Vec<&str> = en
                        .variants
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| set & (1u64 << i) != 0)
                        .map(|(_, v)| v.code.as_str())
                        .collect();
                    return Err(format!("{} is not one of {}", show(text), codes.join("|")));
                }
            }
        }
        _ => return Err("a value of a type that cannot be read from data".to_string()),
    };
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(s: &str) -> Cell {
        Cell {
            kind: CellKind::Text,
            text: s.to_string(),
        }
    }

    #[test]
    fn money_follows_the_spec_format() {
        let p = Program::default();
        let m = Ty::Money(weft_check::ty::Per::Once);
        assert_eq!(parse_value(&p, &m, &cell("1234")), Ok(Some(123_400)));
        assert_eq!(parse_value(&p, &m, &cell("1234.5")), Ok(Some(123_450)));
        assert_eq!(
            parse_value(&p, &m, &cell("1000000000000.00")),
            Ok(Some(100_000_000_000_000))
        );
        for bad in [
            "12.345",
            "-1",
            "1e3",
            "1,000",
            "¥5",
            "1000000000000.01",
            " ",
            ".",
        ] {
            assert!(parse_value(&p, &m, &cell(bad)).is_err(), "{bad}");
        }
        let e = parse_value(&p, &m, &cell("12.345")).unwrap_err();
        assert_eq!(e, "12.345 is not an amount of money");
        let float = Cell {
            kind: CellKind::Float,
            text: "1.5".into(),
        };
        assert!(parse_value(&p, &m, &float).is_err());
    }

    #[test]
    fn dates_and_optionals() {
        let p = Program::default();
        assert_eq!(
            parse_value(&p, &Ty::Date, &cell("2017-02-30")),
            Err("2017-02-30 is not a date".into())
        );
        let opt = Ty::Opt(Box::new(Ty::Date));
        assert_eq!(parse_value(&p, &opt, &cell("")), Ok(None));
        assert_eq!(
            parse_value(&p, &Ty::Date, &cell("")),
            Err("a value is required".into())
        );
        assert_eq!(
            parse_value(&p, &Ty::Int, &cell("+3")),
            Err("+3 is not a whole number".into())
        );
    }
}
