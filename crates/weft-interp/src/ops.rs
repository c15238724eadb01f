//! The arithmetic of `docs/language.md`, once for every engine: the
//! interpreter calls these directly and the JIT calls them for its slow
//! paths.

use weft_ir::{ArithOp, Builtin, CmpOp, ErrKind};
use weft_syntax::num::{self, MICRO};

/// `(a × b) ÷ den`, rounded half away from zero to a multiple of `unit`.
pub fn mul_round(a: i64, b: i64, den: i64, unit: i64) -> Result<i64, ErrKind> {
    let q = num::div_round(a as i128 * b as i128, den as i128 * unit as i128)
        .ok_or(ErrKind::Overflow)?;
    q.checked_mul(unit).ok_or(ErrKind::Overflow)
}

/// `(a × pre) ÷ b`, rounded half away from zero to a multiple of `unit`.
pub fn div_round(a: i64, b: i64, pre: i64, unit: i64) -> Result<i64, ErrKind> {
    if b == 0 {
        return Err(ErrKind::DivisionByZero);
    }
    let q = num::div_round(a as i128 * pre as i128, b as i128 * unit as i128)
        .ok_or(ErrKind::Overflow)?;
    q.checked_mul(unit).ok_or(ErrKind::Overflow)
}

pub fn arith(op: ArithOp, a: i64, b: i64) -> Result<i64, ErrKind> {
    match op {
        ArithOp::Add => a.checked_add(b).ok_or(ErrKind::Overflow),
        ArithOp::Sub => a.checked_sub(b).ok_or(ErrKind::Overflow),
        ArithOp::Mul => a.checked_mul(b).ok_or(ErrKind::Overflow),
        ArithOp::MulRound { den, unit } => mul_round(a, b, den, unit),
        ArithOp::DivRound { pre, unit } => div_round(a, b, pre, unit),
        ArithOp::AddDays => {
            let d = i32::try_from(a).map_err(|_| ErrKind::DateOutOfRange)?;
            num::add_days(d, b)
                .map(|x| x as i64)
                .ok_or(ErrKind::DateOutOfRange)
        }
        ArithOp::AddMonths { factor } => {
            let d = i32::try_from(a).map_err(|_| ErrKind::DateOutOfRange)?;
            let n = b.checked_mul(factor).ok_or(ErrKind::DateOutOfRange)?;
            num::add_months(d, n)
                .map(|x| x as i64)
                .ok_or(ErrKind::DateOutOfRange)
        }
        ArithOp::SubDates => a.checked_sub(b).ok_or(ErrKind::Overflow),
    }
}

pub fn cmp(op: CmpOp, a: i64, b: i64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

fn date(a: i64) -> Result<i32, ErrKind> {
    i32::try_from(a).map_err(|_| ErrKind::DateOutOfRange)
}

pub fn builtin(b: Builtin, args: &[i64]) -> Result<i64, ErrKind> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    Ok(match b {
        Builtin::Min => args.iter().copied().min().unwrap_or(0),
        Builtin::Max => args.iter().copied().max().unwrap_or(0),
        Builtin::Clamp => arg(0).max(arg(1)).min(arg(2)),
        Builtin::Abs => arg(0).checked_abs().ok_or(ErrKind::Overflow)?,
        Builtin::RoundTo(unit) => num::div_round(arg(0) as i128, unit as i128)
            .and_then(|q| q.checked_mul(unit))
            .ok_or(ErrKind::Overflow)?,
        Builtin::YearsBetween => num::years_between(date(arg(0))?, date(arg(1))?),
        Builtin::MonthsBetween => num::months_between(date(arg(0))?, date(arg(1))?),
        Builtin::DaysBetween => arg(1).checked_sub(arg(0)).ok_or(ErrKind::Overflow)?,
        Builtin::Year => num::civil_from_days(date(arg(0))?).0 as i64,
        Builtin::Month => num::civil_from_days(date(arg(0))?).1 as i64,
        Builtin::Day => num::civil_from_days(date(arg(0))?).2 as i64,
        Builtin::ToDecimal => arg(0).checked_mul(MICRO).ok_or(ErrKind::Overflow)?,
        Builtin::ToInt => arg(0),
        Builtin::BandsStart | Builtin::BandsContiguous | Builtin::MinRate | Builtin::MaxRate => 0,
    })
}

pub fn bands_info(b: Builtin, bands: &[weft_check::hir::Band]) -> i64 {
    match b {
        Builtin::BandsStart => bands.first().map(|x| x.lo).unwrap_or(0),
        Builtin::BandsContiguous => {
            let ok = bands.windows(2).all(|w| w[0].hi == Some(w[1].lo))
                && bands.iter().all(|x| x.hi.map(|h| h > x.lo).unwrap_or(true));
            ok as i64
        }
        Builtin::MinRate => bands.iter().map(|x| x.rate).min().unwrap_or(0),
        Builtin::MaxRate => bands.iter().map(|x| x.rate).max().unwrap_or(0),
        _ => 0,
    }
}

/// A marginal scale: for each band `[lo, hi)` with rate `r`, the part of
/// `x` in the band times `r + adjust`, rounded to the fen per band (or the
/// exact total rounded once).
pub fn marginal(
    x: i64,
    bands: &[(i64, Option<i64>, i64)],
    adjust: i64,
    round_each: bool,
) -> Result<i64, ErrKind> {
    let mut total: i64 = 0;
    let mut exact: i128 = 0;
    for &(lo, hi, rate) in bands {
        let top = match hi {
            Some(h) => x.min(h),
            None => x,
        };
        let part = (top as i128 - lo as i128).max(0);
        if part == 0 {
            continue;
        }
        let r = rate.checked_add(adjust).ok_or(ErrKind::Overflow)?;
        let prod = part.checked_mul(r as i128).ok_or(ErrKind::Overflow)?;
        if round_each {
            let v = num::div_round(prod, MICRO as i128).ok_or(ErrKind::Overflow)?;
            total = total.checked_add(v).ok_or(ErrKind::Overflow)?;
        } else {
            exact = exact.checked_add(prod).ok_or(ErrKind::Overflow)?;
        }
    }
    if round_each {
        Ok(total)
    } else {
        num::div_round(exact, MICRO as i128).ok_or(ErrKind::Overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_at_half_fen_goes_away_from_zero() {
        // ¥0.05 × 0.5 = 0.025 yuan = 2.5 fen → 3 fen; negative → −3.
        assert_eq!(mul_round(5, 500_000, MICRO, 1), Ok(3));
        assert_eq!(mul_round(-5, 500_000, MICRO, 1), Ok(-3));
        // ¥445.00 × 9.1% = 40.495 → to the yuan 40, not 41.
        assert_eq!(mul_round(44_500, 91_000, MICRO, 100), Ok(4_000));
        assert_eq!(mul_round(44_500, 91_000, MICRO, 1), Ok(4_050));
    }

    #[test]
    fn products_are_exact_until_the_result_overflows() {
        // i64::MAX fen × 0.5 fits after division.
        assert_eq!(mul_round(i64::MAX, 500_000, MICRO, 1), Ok(i64::MAX / 2 + 1));
        assert_eq!(
            mul_round(i64::MAX, 2_000_000, MICRO, 1),
            Err(ErrKind::Overflow)
        );
        assert_eq!(arith(ArithOp::Add, i64::MAX, 1), Err(ErrKind::Overflow));
        assert_eq!(div_round(1, 0, 1, 1), Err(ErrKind::DivisionByZero));
        assert_eq!(div_round(100, 3, 1, 1), Ok(33));
        assert_eq!(div_round(200, 3, 1, 1), Ok(67));
    }

    #[test]
    fn marginal_bands_round_per_band_or_once() {
        let bands = [
            (0, Some(5_000_000), 500_000),
            (5_000_000, Some(10_000_000), 600_000),
            (10_000_000, None, 700_000),
        ];
        // ¥18,100 over the first band at 55%: 9,955.
        assert_eq!(marginal(1_810_000, &bands, 50_000, true), Ok(995_500));
        assert_eq!(marginal(-5, &bands, 0, true), Ok(0));
        // 1 fen in each of three bands of 50%: per band 0.5 → 1 each = 3; once: 1.5 → 2.
        let tiny = [
            (0, Some(1), 500_000),
            (1, Some(2), 500_000),
            (2, None, 500_000),
        ];
        assert_eq!(marginal(3, &tiny, 0, true), Ok(3));
        assert_eq!(marginal(3, &tiny, 0, false), Ok(2));
    }
}
