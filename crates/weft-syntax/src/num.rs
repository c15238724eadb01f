//! Exact numbers and calendar dates: the one definition of Weft's
//! arithmetic, rounding and date rules, shared by the parser (literals),
//! the checker (parameters), the interpreter and the JIT's helpers.
//!
//! * Money is an `i64` count of fen; Decimal an `i64` count of millionths.
//! * Products and quotients are computed in 128 bits; a rounded division
//!   rounds **half away from zero**, once, from the exact value.
//! * Dates are `i32` days since 1970-01-01 in the proleptic Gregorian
//!   calendar.

/// Fen per yuan.
pub const FEN: i64 = 100;
/// Millionths per unit of a Decimal.
pub const MICRO: i64 = 1_000_000;

/// `num / den` rounded half away from zero; `None` when `den == 0` or the
/// result does not fit in an `i64`.
pub fn div_round(num: i128, den: i128) -> Option<i64> {
    if den == 0 {
        return None;
    }
    let q = num / den;
    let r = num % den;
    // |2r| >= |den| means the fractional part is at least one half.
    let q = if r != 0 && r.unsigned_abs() * 2 >= den.unsigned_abs() {
        if (num < 0) != (den < 0) { q - 1 } else { q + 1 }
    } else {
        q
    };
    i64::try_from(q).ok()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146097 + doe - 719468) as i32
}

/// The civil date of a day number.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z as i64 + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

pub fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Earliest and latest dates Weft accepts (years 1..=9999).
pub const MIN_DATE: i32 = -719_162; // 0001-01-01
pub const MAX_DATE: i32 = 2_932_896; // 9999-12-31

/// A valid calendar date, or `None`.
pub fn make_date(y: i32, m: u32, d: u32) -> Option<i32> {
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Parse `YYYY-MM-DD` exactly.
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let y = digits(0..4)?;
    let m = digits(5..7)?;
    let d = digits(8..10)?;
    make_date(y as i32, m, d)
}

/// Parse `YYYY-MM` as the first day of that month.
pub fn parse_month(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 7 || b[4] != b'-' {
        return None;
    }
    let y: i32 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    if !s.get(0..4)?.bytes().all(|c| c.is_ascii_digit())
        || !s.get(5..7)?.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    make_date(y, m, 1)
}

pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn format_month(days: i32) -> String {
    let (y, m, _) = civil_from_days(days);
    format!("{y:04}-{m:02}")
}

/// `date` plus `n` months, keeping the day and clamping it to the last day
/// of the resulting month (2017-01-31 + 1 month = 2017-02-28).
pub fn add_months(date: i32, n: i64) -> Option<i32> {
    let (y, m, d) = civil_from_days(date);
    let total = ((y as i64) * 12 + (m as i64 - 1)).checked_add(n)?;
    let ny = total.div_euclid(12);
    let nm = (total.rem_euclid(12) + 1) as u32;
    let ny = i32::try_from(ny).ok()?;
    if !(1..=9999).contains(&ny) {
        return None;
    }
    let nd = d.min(days_in_month(ny, nm));
    make_date(ny, nm, nd)
}

pub fn add_days(date: i32, n: i64) -> Option<i32> {
    let r = i32::try_from((date as i64).checked_add(n)?).ok()?;
    if (MIN_DATE..=MAX_DATE).contains(&r) {
        Some(r)
    } else {
        None
    }
}

/// Whole years completed from `from` to `to` (an age); negative when `to`
/// is before `from`. A person born on 29 February has a birthday on
/// 28 February in common years (the day is clamped, as in `add_months`).
pub fn years_between(from: i32, to: i32) -> i64 {
    months_between(from, to).div_euclid(12)
}

/// Whole months completed from `from` to `to`.
pub fn months_between(from: i32, to: i32) -> i64 {
    let (y1, m1, d1) = civil_from_days(from);
    let (y2, m2, d2) = civil_from_days(to);
    let mut months = (y2 as i64 - y1 as i64) * 12 + (m2 as i64 - m1 as i64);
    // The anniversary in the month of `to`, clamped to that month's end.
    let anniversary = d1.min(days_in_month(y2, m2));
    if months > 0 && d2 < anniversary {
        months -= 1;
    } else if months < 0 && d2 > anniversary {
        months += 1;
    }
    months
}

/// The 31 December of the year before `date`'s year.
pub fn prior_year_end(date: i32) -> i32 {
    let (y, _, _) = civil_from_days(date);
    days_from_civil(y - 1, 12, 31)
}

/// Format fen as yuan with exactly two decimals (`-12.05`).
pub fn format_money(fen: i64) -> String {
    let mut s = String::with_capacity(24);
    push_money(&mut s, fen);
    s
}

/// Append [`format_money`]'s text to `out` without allocating.
pub fn push_money(out: &mut String, fen: i64) {
    if fen < 0 {
        out.push('-');
    }
    let a = fen.unsigned_abs();
    push_u64(out, a / 100);
    out.push('.');
    let c = (a % 100) as u8;
    out.push(char::from(b'0' + c / 10));
    out.push(char::from(b'0' + c % 10));
}

/// Append the decimal digits of `v` to `out` without allocating.
pub fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// Format millionths with up to six decimals, trailing zeros removed
/// (`0.05`, `1.3`, `2`).
pub fn format_decimal(micro: i64) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let a = micro.unsigned_abs();
    let int = a / MICRO as u64;
    let frac = a % MICRO as u64;
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:06}");
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    }
}

/// Parse plain decimal digits with an optional fraction of at most `scale`
/// digits (`1234`, `1234.5`) into units of 10^-scale. No sign, exponent or
/// separators. `None` if malformed or too large.
pub fn parse_fixed(s: &str, scale: u32) -> Option<i64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for c in int.bytes() {
        v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
    }
    let mut digits = 0u32;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > scale as usize || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        for c in f.bytes() {
            v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
            digits += 1;
        }
    }
    v.checked_mul(10i64.checked_pow(scale - digits)?)
}

/// Like [`parse_fixed`] but allowing a leading `-`.
pub fn parse_fixed_signed(s: &str, scale: u32) -> Option<i64> {
    match s.strip_prefix('-') {
        Some(rest) => parse_fixed(rest, scale).and_then(|v| v.checked_neg()),
        None => parse_fixed(s, scale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(div_round(5, 10), Some(1));
        assert_eq!(div_round(-5, 10), Some(-1));
        assert_eq!(div_round(4, 10), Some(0));
        assert_eq!(div_round(-4, 10), Some(0));
        assert_eq!(div_round(15, -10), Some(-2));
        assert_eq!(div_round(1, 0), None);
        assert_eq!(div_round(i64::MAX as i128 * 2, 2), Some(i64::MAX));
        assert_eq!(div_round(i64::MAX as i128 * 2 + 2, 2), None);
    }

    #[test]
    fn dates_round_trip() {
        for d in [-719_162, -1, 0, 1, 17_532, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2017-02-30"), None);
        assert_eq!(
            parse_date("2016-02-29").map(format_date).as_deref(),
            Some("2016-02-29")
        );
        assert_eq!(make_date(1, 1, 1), Some(MIN_DATE));
        assert_eq!(make_date(9999, 12, 31), Some(MAX_DATE));
    }

    #[test]
    fn add_months_clamps_to_month_end() {
        let d = parse_date("2017-01-31").unwrap();
        assert_eq!(format_date(add_months(d, 1).unwrap()), "2017-02-28");
        assert_eq!(format_date(add_months(d, 36).unwrap()), "2020-01-31");
        assert_eq!(format_date(add_months(d, 13).unwrap()), "2018-02-28");
        let leap = parse_date("2016-01-31").unwrap();
        assert_eq!(format_date(add_months(leap, 1).unwrap()), "2016-02-29");
        assert_eq!(format_date(add_months(d, -2).unwrap()), "2016-11-30");
    }

    #[test]
    fn ages_count_whole_years() {
        let on = parse_date("2018-01-01").unwrap();
        assert_eq!(years_between(parse_date("2002-01-01").unwrap(), on), 16);
        assert_eq!(years_between(parse_date("2002-01-02").unwrap(), on), 15);
        let feb29 = parse_date("2000-02-29").unwrap();
        assert_eq!(years_between(feb29, parse_date("2018-02-28").unwrap()), 18);
        assert_eq!(years_between(feb29, parse_date("2018-02-27").unwrap()), 17);
    }

    #[test]
    fn fixed_point_parsing() {
        assert_eq!(parse_fixed("1234", 2), Some(123_400));
        assert_eq!(parse_fixed("1234.5", 2), Some(123_450));
        assert_eq!(parse_fixed("12.345", 2), None);
        assert_eq!(parse_fixed("-1", 2), None);
        assert_eq!(parse_fixed("1e3", 2), None);
        assert_eq!(parse_fixed(".5", 2), None);
        assert_eq!(format_money(-1205), "-12.05");
        // Date arithmetic at the i64 limits fails, it never overflows.
        let d = days_from_civil(2020, 1, 31);
        for n in [i64::MAX, i64::MIN, i64::MAX - 5, i64::MIN + 5] {
            assert_eq!(add_days(d, n), None);
            assert_eq!(add_months(d, n), None);
        }
        for (fen, text) in [
            (0, "0.00"),
            (5, "0.05"),
            (-5, "-0.05"),
            (100, "1.00"),
            (123_456_789, "1234567.89"),
            (i64::MAX, "92233720368547758.07"),
            (i64::MIN, "-92233720368547758.08"),
        ] {
            assert_eq!(format_money(fen), text);
        }
        let mut s = String::from("x");
        push_u64(&mut s, 0);
        push_u64(&mut s, u64::MAX);
        assert_eq!(s, "x018446744073709551615");
        assert_eq!(format_decimal(1_300_000), "1.3");
        assert_eq!(format_decimal(50_000), "0.05");
    }
}
