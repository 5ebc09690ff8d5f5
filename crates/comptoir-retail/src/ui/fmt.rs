//! Number formats of the retail pages, as minijinja filters. Amounts arrive as the API's
//! decimal strings (or numbers); the pages show them rounded to cents with thousands
//! separators, and "—" where the API has no value (a ratio on a zero base).

use minijinja::Value;
use rust_decimal::Decimal;

/// The value as a decimal, if it is one.
fn decimal(v: &Value) -> Option<Decimal> {
    if v.is_none() || v.is_undefined() {
        return None;
    }
    if let Some(s) = v.as_str() {
        return s.trim().parse().ok();
    }
    if let Ok(i) = i64::try_from(v.clone()) {
        return Some(Decimal::from(i));
    }
    f64::try_from(v.clone())
        .ok()
        .and_then(|f| Decimal::try_from(f).ok())
}

/// `1234567.891` → `1,234,567.89`.
pub fn group(d: Decimal, dp: u32) -> String {
    let s = format!("{:.*}", dp as usize, d.round_dp(dp).abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if d.round_dp(dp).is_sign_negative() && !d.round_dp(dp).is_zero() {
        out.insert(0, '-');
    }
    out
}

/// Money: two decimals, grouped.
pub fn money(v: Value) -> String {
    decimal(&v).map_or_else(|| "—".into(), |d| group(d, 2))
}

/// A count: no decimals, grouped.
pub fn count(v: Value) -> String {
    decimal(&v).map_or_else(|| "—".into(), |d| group(d, 0))
}

/// A percentage: `66.67 %`.
pub fn pct(v: Value) -> String {
    decimal(&v).map_or_else(|| "—".into(), |d| format!("{} %", group(d, 2)))
}

/// A change in percent, with its sign: `+12.50 %`, `−3.00 %`.
pub fn delta(v: Value) -> String {
    match decimal(&v) {
        None => "—".into(),
        Some(d) if d.round_dp(2) > Decimal::ZERO => format!("+{} %", group(d, 2)),
        Some(d) => format!("{} %", group(d, 2)),
    }
}

/// `up`, `down` or `flat`: the CSS class of a change.
pub fn trend(v: Value) -> &'static str {
    match decimal(&v).map(|d| d.round_dp(2)) {
        Some(d) if d > Decimal::ZERO => "up",
        Some(d) if d < Decimal::ZERO => "down",
        _ => "flat",
    }
}

/// The change from `base` to `value` in percent (absent on a zero base).
pub fn change(value: Value, base: Value) -> Value {
    match (decimal(&value), decimal(&base)) {
        (Some(v), Some(b)) if !b.is_zero() => Value::from(
            ((v - b) * Decimal::from(100) / b)
                .round_dp(2)
                .normalize()
                .to_string(),
        ),
        _ => Value::from(()),
    }
}

/// Registers the filters on a template environment.
pub fn register(env: &mut minijinja::Environment<'_>) {
    env.add_filter("money", money);
    env.add_filter("count", count);
    env.add_filter("pct", pct);
    env.add_filter("delta", delta);
    env.add_filter("trend", trend);
    env.add_filter("change", change);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(money(Value::from("1234567.891")), "1,234,567.89");
        assert_eq!(money(Value::from("24")), "24.00");
        assert_eq!(money(Value::from("-1000.5")), "-1,000.50");
        assert_eq!(money(Value::from("-0.001")), "0.00");
        assert_eq!(money(Value::from(())), "—");
        assert_eq!(count(Value::from(19_000)), "19,000");
        assert_eq!(pct(Value::from("66.67")), "66.67 %");
        assert_eq!(delta(Value::from("500")), "+500.00 %");
        assert_eq!(delta(Value::from("-3")), "-3.00 %");
        assert_eq!(trend(Value::from("-3")), "down");
        assert_eq!(trend(Value::from(())), "flat");
        assert_eq!(
            change(Value::from("26.4"), Value::from("24")).as_str(),
            Some("10")
        );
        assert!(change(Value::from("1"), Value::from("0")).is_none());
    }
}
