//! Exact money.
//!
//! Every amount in tokenaudit is an integer number of pico-dollars (10⁻¹² USD)
//! held in an `i128`. A price per million tokens with up to six decimals is an
//! exact integer number of pico-dollars per token, so `tokens × price` is exact
//! and sums over any number of calls are exact: no `f64` ever accumulates money.
//! Conversion to decimal text happens only at the edges (reports), and is exact
//! too.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

use serde::{Deserialize, Serialize};

/// Pico-dollars per dollar.
pub const PICOS_PER_USD: i128 = 1_000_000_000_000;

/// An exact amount of US dollars, in pico-dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i128);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_picos(picos: i128) -> Money {
        Money(picos)
    }

    pub const fn picos(self) -> i128 {
        self.0
    }

    /// Whole nano-dollars, truncated toward zero.
    pub const fn nanos(self) -> i128 {
        self.0 / 1000
    }

    /// Parses a decimal dollar amount such as `"12.5"`, `"-0.000001"` or `"3e-6"`
    /// exactly. Digits past the 12th decimal are rounded half away from zero.
    pub fn parse_usd(text: &str) -> Option<Money> {
        parse_decimal_scaled(text, 12).map(Money)
    }

    /// Converts a float (as found in a log's own cost field) to the nearest
    /// pico-dollar. Only used for values the log gives as binary floats, which
    /// are inexact to begin with.
    pub fn from_usd_f64(usd: f64) -> Option<Money> {
        if !usd.is_finite() || usd.abs() > 1e15 {
            return None;
        }
        // Go through the shortest decimal representation so `0.1` becomes
        // exactly 0.1 USD rather than 0.1000000000000000055….
        Money::parse_usd(&format!("{usd}"))
    }

    /// Lossy conversion for charts and ratios; never for sums.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / PICOS_PER_USD as f64
    }

    /// Exact decimal text with all 12 decimals trimmed of trailing zeros
    /// (at least two decimals are kept): `"1234.50"`, `"0.000000375"`.
    pub fn to_decimal_string(self) -> String {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let whole = abs / PICOS_PER_USD as u128;
        let frac = abs % PICOS_PER_USD as u128;
        let mut frac_text = format!("{frac:012}");
        while frac_text.len() > 2 && frac_text.ends_with('0') {
            frac_text.pop();
        }
        format!("{}{whole}.{frac_text}", if neg { "-" } else { "" })
    }

    /// Rounded to whole cents (half away from zero), with thousands separators:
    /// `"$1,234.57"`. For human-facing text only.
    pub fn to_cents_string(self) -> String {
        self.to_rounded_string(2)
    }

    /// A total as people read it: whole cents from a dollar up (from
    /// $0.995, which rounds to one), four decimals below, six below
    /// $0.00005 (a first audit of a small sample is not "$0.00").
    pub fn to_total_string(self) -> String {
        self.to_rounded_string(self.total_decimals())
    }

    /// The decimals [`Money::to_total_string`] shows.
    pub fn total_decimals(self) -> u32 {
        let abs = self.0.abs();
        if abs == 0 || abs >= PICOS_PER_USD / 1000 * 995 {
            2
        } else if abs >= PICOS_PER_USD / 100_000 * 5 {
            4
        } else {
            6
        }
    }

    /// Rounded to `decimals` places (half away from zero), `$` and thousands
    /// separators.
    pub fn to_rounded_string(self, decimals: u32) -> String {
        let decimals = decimals.min(12);
        let unit = 10i128.pow(12 - decimals);
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs() as i128;
        let rounded = (abs + unit / 2) / unit;
        let scale = 10i128.pow(decimals);
        let whole = rounded / scale;
        let frac = rounded % scale;
        let mut whole_text = String::new();
        let digits = whole.to_string();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                whole_text.push(',');
            }
            whole_text.push(ch);
        }
        let sign = if neg && rounded != 0 { "-" } else { "" };
        if decimals == 0 {
            format!("{sign}${whole_text}")
        } else {
            format!(
                "{sign}${whole_text}.{frac:0width$}",
                width = decimals as usize
            )
        }
    }

    pub fn abs(self) -> Money {
        Money(self.0.abs())
    }

    /// `self × factor`, computed in `f64` and rounded to a whole pico-dollar
    /// (half away from zero). For estimates only (a saving scaled to a
    /// month, a rate times fractional hours), never for sums.
    pub fn scale(self, factor: f64) -> Money {
        Money((self.0 as f64 * factor).round() as i128)
    }
}

/// Parses a decimal (optionally with an exponent) into an integer scaled by
/// `10^scale`, rounding half away from zero past the last kept digit.
pub fn parse_decimal_scaled(text: &str, scale: u32) -> Option<i128> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (neg, mantissa) = match mantissa.as_bytes().first()? {
        b'-' => (true, &mantissa[1..]),
        b'+' => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // All digits as one integer, with the decimal point `shift` places from the right.
    let digits: String = int_part.chars().chain(frac_part.chars()).collect();
    let digits = digits.trim_start_matches('0');
    let shift = frac_part.len() as i64 - exponent as i64 - scale as i64;
    let value: i128 = if digits.is_empty() {
        0
    } else if shift <= 0 {
        let base: i128 = digits.parse().ok()?;
        let factor = 10i128.checked_pow(u32::try_from(-shift).ok()?)?;
        base.checked_mul(factor)?
    } else {
        let shift = shift as usize;
        if shift > digits.len() {
            // The value is below a tenth of a unit: it rounds to zero.
            0
        } else {
            let (kept, dropped) = digits.split_at(digits.len() - shift);
            let base: i128 = if kept.is_empty() {
                0
            } else {
                kept.parse().ok()?
            };
            if dropped.as_bytes()[0] >= b'5' {
                base + 1
            } else {
                base
            }
        }
    };
    Some(if neg { -value } else { value })
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl Mul<u64> for Money {
    type Output = Money;
    fn mul(self, rhs: u64) -> Money {
        Money(self.0 * rhs as i128)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

/// Serialized as an exact decimal string of dollars, so JSON consumers never
/// see a rounded float.
impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_decimal_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let text = String::deserialize(deserializer)?;
        Money::parse_usd(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid dollar amount {text:?}")))
    }
}

/// In the JSON Schema, the decimal string [`Money`] serializes as.
impl schemars::JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^-?[0-9]+\\.[0-9]{2,12}$",
            "description": "Exact US dollars as a decimal string (up to 12 decimals, at least 2), e.g. \"12.345678901234\". Parse it as a decimal, not a float, if you sum it."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Totals: cents from what rounds to a dollar, four decimals below, six
    /// for what four would show as nothing.
    #[test]
    fn totals_keep_the_digits_that_say_something() {
        let t = |s: &str| Money::parse_usd(s).unwrap().to_total_string();
        assert_eq!(t("0"), "$0.00");
        assert_eq!(t("1234.567"), "$1,234.57");
        assert_eq!(t("0.99996"), "$1.00");
        assert_eq!(t("0.995"), "$1.00");
        assert_eq!(t("0.994"), "$0.9940");
        assert_eq!(t("0.005"), "$0.0050");
        assert_eq!(t("0.00005"), "$0.0001");
        assert_eq!(t("0.0000015"), "$0.000002");
        assert_eq!(t("-0.005"), "-$0.0050");
    }

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(Money::parse_usd("1").unwrap().picos(), PICOS_PER_USD);
        assert_eq!(Money::parse_usd("0.000001").unwrap().picos(), 1_000_000);
        assert_eq!(
            Money::parse_usd("-2.5").unwrap().picos(),
            -2_500_000_000_000
        );
        assert_eq!(Money::parse_usd("3e-6").unwrap().picos(), 3_000_000);
        assert_eq!(Money::parse_usd("1.25E-07").unwrap().picos(), 125_000);
        assert_eq!(Money::parse_usd("0.0000000000004").unwrap().picos(), 0);
        assert_eq!(Money::parse_usd("0.0000000000005").unwrap().picos(), 1);
        assert_eq!(Money::parse_usd("0.00000000000149").unwrap().picos(), 1);
        assert!(Money::parse_usd("abc").is_none());
        assert!(Money::parse_usd("").is_none());
        assert!(Money::parse_usd("1.2.3").is_none());
    }

    #[test]
    fn floats_go_through_shortest_decimal() {
        assert_eq!(Money::from_usd_f64(0.1).unwrap().picos(), 100_000_000_000);
        assert_eq!(Money::from_usd_f64(1.25e-7).unwrap().picos(), 125_000);
        assert!(Money::from_usd_f64(f64::NAN).is_none());
    }

    #[test]
    fn formats() {
        let m = Money::from_picos(1_234_567_890_123_456);
        assert_eq!(m.to_decimal_string(), "1234.567890123456");
        assert_eq!(m.to_cents_string(), "$1,234.57");
        assert_eq!(
            Money::from_picos(375_000).to_decimal_string(),
            "0.000000375"
        );
        assert_eq!(Money::ZERO.to_decimal_string(), "0.00");
        assert_eq!(
            Money::from_picos(-5_000_000_000).to_cents_string(),
            "-$0.01"
        );
        assert_eq!(Money::from_picos(-4_000_000_000).to_cents_string(), "$0.00");
        assert_eq!(
            Money::from_picos(999_995_000_000_000).to_cents_string(),
            "$1,000.00"
        );
    }

    #[test]
    fn scale_rounds_once_to_the_nearest_pico() {
        let m = Money::from_picos(1_000);
        assert_eq!(m.scale(1.5), Money::from_picos(1_500));
        assert_eq!(Money::from_picos(3).scale(0.5), Money::from_picos(2));
        assert_eq!(Money::from_picos(-3).scale(0.5), Money::from_picos(-2));
        assert_eq!(Money::from_picos(7).scale(1.0 / 3.0), Money::from_picos(2));
        // $10 over 10 days, scaled to a 30-day month.
        let ten = Money::parse_usd("10").unwrap();
        assert_eq!(ten.scale(30.0 / 10.0), Money::parse_usd("30").unwrap());
    }

    #[test]
    fn sums_are_exact_where_floats_drift() {
        let cent_tenth = Money::parse_usd("0.001").unwrap();
        let total: Money = std::iter::repeat_n(cent_tenth, 1_000_000).sum();
        assert_eq!(total, Money::parse_usd("1000").unwrap());
    }
}
