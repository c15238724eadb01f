//! Exact numbers for OpenFisca's expected values: YAML numbers read from
//! their text and the arithmetic expressions the format allows (`600 - 200
//! / 12`), as fractions, never through binary floating point.

use std::cmp::Ordering;
use std::fmt;

/// A fraction `n / d` with `d > 0`, reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Q {
    n: i128,
    d: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a.max(1)
}

impl Q {
    pub(crate) fn int(n: i128) -> Q {
        Q { n, d: 1 }
    }

    fn new(n: i128, d: i128) -> Option<Q> {
        if d == 0 {
            return None;
        }
        let (n, d) = if d < 0 {
            (n.checked_neg()?, d.checked_neg()?)
        } else {
            (n, d)
        };
        let g = gcd(n, d);
        Some(Q { n: n / g, d: d / g })
    }

    pub(crate) fn add(self, o: Q) -> Option<Q> {
        let n = self
            .n
            .checked_mul(o.d)?
            .checked_add(o.n.checked_mul(self.d)?)?;
        Q::new(n, self.d.checked_mul(o.d)?)
    }

    pub(crate) fn sub(self, o: Q) -> Option<Q> {
        self.add(Q {
            n: o.n.checked_neg()?,
            d: o.d,
        })
    }

    pub(crate) fn mul(self, o: Q) -> Option<Q> {
        Q::new(self.n.checked_mul(o.n)?, self.d.checked_mul(o.d)?)
    }

    pub(crate) fn div(self, o: Q) -> Option<Q> {
        Q::new(self.n.checked_mul(o.d)?, self.d.checked_mul(o.n)?)
    }

    pub(crate) fn abs(self) -> Q {
        Q {
            n: self.n.abs(),
            d: self.d,
        }
    }

    /// The largest multiple of `1/scale` not above this value, in units of
    /// `1/scale`.
    pub(crate) fn floor_units(self, scale: i128) -> Option<i128> {
        let x = self.n.checked_mul(scale)?;
        Some(x.div_euclid(self.d))
    }

    /// The smallest multiple of `1/scale` not below this value, in units of
    /// `1/scale`.
    pub(crate) fn ceil_units(self, scale: i128) -> Option<i128> {
        let x = self.n.checked_mul(scale)?;
        let q = x.div_euclid(self.d);
        Some(if x.rem_euclid(self.d) == 0 { q } else { q + 1 })
    }

    /// The value in units of `1/scale` when it is a whole number of them.
    pub(crate) fn exact_units(self, scale: i128) -> Option<i128> {
        let x = self.n.checked_mul(scale)?;
        (x % self.d == 0).then_some(x / self.d)
    }

    /// Read a YAML number's text: `12`, `-0.5`, `1_000`, `2.5e3`.
    pub(crate) fn parse(text: &str) -> Option<Q> {
        let t: String = text.trim().chars().filter(|c| *c != '_').collect();
        let (mantissa, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
            None => (t.as_str(), 0),
        };
        let (neg, digits) = match mantissa.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
            || int.len() + frac.len() > 30
            || !(-30..=30).contains(&exp)
        {
            return None;
        }
        let mut n: i128 = format!("{int}{frac}").parse().ok()?;
        if neg {
            n = -n;
        }
        let scale = frac.len() as i32 - exp;
        if scale >= 0 {
            Q::new(n, 10i128.checked_pow(scale as u32)?)
        } else {
            Q::new(n.checked_mul(10i128.checked_pow((-scale) as u32)?)?, 1)
        }
    }

    /// Evaluate an arithmetic expression: numbers, `+ - * /`, brackets and
    /// unary minus (what OpenFisca's test files write as expected values).
    pub(crate) fn eval(text: &str) -> Result<Q, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.sum()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!(
                "`{text}` is not a number or an arithmetic expression of numbers (+ - * / and brackets)"
            ));
        }
        Ok(v)
    }
}

impl PartialOrd for Q {
    fn partial_cmp(&self, other: &Q) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Q {
    fn cmp(&self, other: &Q) -> Ordering {
        // Both denominators are positive; products fit for the values read
        // here (at most 30 digits each side), else compare as floats.
        match (self.n.checked_mul(other.d), other.n.checked_mul(self.d)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => (self.n as f64 / self.d as f64).total_cmp(&(other.n as f64 / other.d as f64)),
        }
    }
}

impl fmt::Display for Q {
    /// Exact when the decimal expansion ends within 6 places, else 6
    /// places followed by `…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.n < 0;
        let n = self.n.unsigned_abs();
        let d = self.d.unsigned_abs();
        let int = n / d;
        let mut rem = n % d;
        let mut frac = String::new();
        while rem != 0 && frac.len() < 6 {
            rem *= 10;
            frac.push(char::from(b'0' + (rem / d) as u8));
            rem %= d;
        }
        if neg {
            f.write_str("-")?;
        }
        write!(f, "{int}")?;
        if !frac.is_empty() {
            write!(f, ".{frac}")?;
        }
        if rem != 0 {
            f.write_str("…")?;
        }
        Ok(())
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn overflow() -> String {
        "the expression's value is too large to compare exactly".to_string()
    }

    fn sum(&mut self) -> Result<Q, String> {
        let mut v = self.product()?;
        while let Some(c @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let r = self.product()?;
            v = if c == b'+' { v.add(r) } else { v.sub(r) }.ok_or_else(Self::overflow)?;
        }
        Ok(v)
    }

    fn product(&mut self) -> Result<Q, String> {
        let mut v = self.unary()?;
        while let Some(c @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            let r = self.unary()?;
            v = if c == b'*' {
                v.mul(r).ok_or_else(Self::overflow)?
            } else {
                if r == Q::int(0) {
                    return Err("the expression divides by zero".to_string());
                }
                v.div(r).ok_or_else(Self::overflow)?
            };
        }
        Ok(v)
    }

    fn unary(&mut self) -> Result<Q, String> {
        match self.peek() {
            Some(b'-') => {
                self.i += 1;
                let v = self.unary()?;
                Q::int(0).sub(v).ok_or_else(Self::overflow)
            }
            Some(b'+') => {
                self.i += 1;
                self.unary()
            }
            Some(b'(') => {
                self.i += 1;
                let v = self.sum()?;
                if self.peek() != Some(b')') {
                    return Err("a bracket is not closed".to_string());
                }
                self.i += 1;
                Ok(v)
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || matches!(self.s[self.i], b'.' | b'_'))
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                Q::parse(text).ok_or_else(|| {
                    let rest = String::from_utf8_lossy(&self.s[start..]);
                    format!("expected a number at `{rest}`")
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Q;

    #[test]
    fn reads_numbers_exactly() {
        assert_eq!(Q::parse("0.1").and_then(|q| q.exact_units(100)), Some(10));
        assert_eq!(
            Q::parse("-2.5e2").and_then(|q| q.exact_units(1)),
            Some(-250)
        );
        assert_eq!(Q::parse("1_000").and_then(|q| q.exact_units(1)), Some(1000));
        assert_eq!(Q::parse("abc"), None);
        assert_eq!(Q::parse("1.2.3"), None);
    }

    #[test]
    fn evaluates_expressions() {
        let v = Q::eval("600 - 200 / 12").unwrap_or(Q::int(0));
        assert_eq!(v.to_string(), "583.333333…");
        assert_eq!(v.floor_units(100), Some(58333));
        assert_eq!(v.ceil_units(100), Some(58334));
        assert_eq!(Q::eval("100*0.1").ok(), Q::parse("10"));
        assert_eq!(Q::eval("-(1 + 2) * 3").ok(), Some(Q::int(-9)));
        assert!(Q::eval("1 / 0").is_err());
        assert!(Q::eval("max(1, 2)").is_err());
        assert!(Q::eval("1 +").is_err());
    }
}
