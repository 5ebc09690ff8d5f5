//! Charts as inline SVG, drawn on the server: no JavaScript chart library, nothing fetched
//! from the network, and the page reads the same without scripts. Colours are presentation
//! attributes (allowed by the pages' CSP, which forbids inline styles).
//!
//! Two shapes cover the retail pages: [`columns`] (one vertical bar per month, with an
//! optional line such as the target) and [`hbars`] (one horizontal bar per row: rankings,
//! margin by category, sensitivity). Both take signed values: bars below zero hang from the
//! zero axis in another colour. Every label is escaped.

use std::fmt::Write;

const WIDTH: f64 = 760.0;
const BAR: &str = "#2f5bea";
const NEGATIVE: &str = "#c01048";
const LINE: &str = "#b54708";
const AXIS: &str = "#98a2b3";
const TEXT: &str = "#475467";

/// One bar: a label, a value and, optionally, where a click on it goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub href: Option<String>,
}

impl Bar {
    pub fn new(label: impl Into<String>, value: f64) -> Bar {
        Bar {
            label: label.into(),
            value: if value.is_finite() { value } else { 0.0 },
            href: None,
        }
    }

    pub fn linked(mut self, href: impl Into<String>) -> Bar {
        self.href = Some(href.into());
        self
    }
}

/// Escapes text for SVG/HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A short form of a number for axes and bar ends: `950`, `12.3k`, `4.56M`.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    let (scaled, unit) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if unit.is_empty() && scaled.fract() == 0.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 100.0 {
        format!("{scaled:.0}{unit}")
    } else {
        format!("{scaled:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
            + unit
    };
    if s == "-0" { "0".into() } else { s }
}

fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        let mut s: String = label.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// The value range a chart maps, always including zero and never empty.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0_f64, 0.0_f64);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    (lo, hi)
}

fn open(out: &mut String, title: &str, height: f64, testid: &str) {
    let t = escape(title);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-testid="{testid}" role="img" aria-label="{t}" viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet"><title>{t}</title>"#
    );
}

fn no_data(title: &str, testid: &str) -> String {
    let mut out = String::new();
    open(&mut out, title, 60.0, testid);
    let _ = write!(
        out,
        r#"<text class="no-data" x="{}" y="35" text-anchor="middle" fill="{TEXT}" font-size="14">No data for this period</text></svg>"#,
        WIDTH / 2.0
    );
    out
}

fn link_open(out: &mut String, bar: &Bar) {
    if let Some(h) = &bar.href {
        let _ = write!(out, r#"<a href="{}">"#, escape(h));
    }
}

fn link_close(out: &mut String, bar: &Bar) {
    if bar.href.is_some() {
        out.push_str("</a>");
    }
}

/// Vertical bars, one per point (months), with an optional line over them (`line.1[i]`
/// belongs to `bars[i]`; `None` points are skipped). An empty `bars` draws "No data".
pub fn columns(
    title: &str,
    testid: &str,
    bars: &[Bar],
    line: Option<(&str, &[Option<f64>])>,
) -> String {
    if bars.is_empty() {
        return no_data(title, testid);
    }
    let line = line.filter(|(_, pts)| pts.iter().any(|p| p.is_some_and(|v| v != 0.0)));
    let (top, bottom, left, right) = (24.0, 44.0, 56.0, 12.0);
    let height = 260.0;
    let plot_h = height - top - bottom;
    let plot_w = WIDTH - left - right;
    let line_values = line.iter().flat_map(|(_, p)| p.iter().flatten().copied());
    let (lo, hi) = range(bars.iter().map(|b| b.value).chain(line_values));
    let y = |v: f64| top + (hi - v) / (hi - lo) * plot_h;
    let slot = plot_w / bars.len() as f64;
    let bar_w = (slot * 0.7).max(1.0);
    let mut out = String::new();
    open(&mut out, title, height, testid);
    // Axis: the top, the bottom and zero.
    for v in [hi, lo, 0.0] {
        let _ = write!(
            out,
            r#"<line x1="{left}" x2="{}" y1="{y:.2}" y2="{y:.2}" stroke="{AXIS}" stroke-width="{}"/><text x="{}" y="{:.2}" text-anchor="end" fill="{TEXT}" font-size="11">{}</text>"#,
            WIDTH - right,
            if v == 0.0 { 1.0 } else { 0.5 },
            left - 6.0,
            y(v) + 4.0,
            escape(&compact(v)),
            y = y(v)
        );
    }
    let every = bars.len().div_ceil(12);
    for (i, b) in bars.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let (y0, y1) = (y(b.value.max(0.0)), y(b.value.min(0.0)));
        let fill = if b.value < 0.0 { NEGATIVE } else { BAR };
        let class = if b.value < 0.0 { "bar neg" } else { "bar" };
        link_open(&mut out, b);
        let _ = write!(
            out,
            r#"<rect class="{class}" x="{x:.2}" y="{y0:.2}" width="{bar_w:.2}" height="{:.2}" fill="{fill}" data-value="{}"><title>{}: {}</title></rect>"#,
            y1 - y0,
            b.value,
            escape(&b.label),
            escape(&compact(b.value))
        );
        link_close(&mut out, b);
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text x="{:.2}" y="{}" text-anchor="middle" fill="{TEXT}" font-size="11">{}</text>"#,
                x + bar_w / 2.0,
                height - bottom + 16.0,
                escape(&shorten(&b.label, 10))
            );
        }
    }
    if let Some((name, points)) = line {
        let pts: Vec<String> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.map(|v| format!("{:.2},{:.2}", left + slot * (i as f64 + 0.5), y(v)))
            })
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="line" points="{}" fill="none" stroke="{LINE}" stroke-width="2"/>"#,
            pts.join(" ")
        );
        for p in &pts {
            let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(out, r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{LINE}"/>"#);
        }
        let _ = write!(
            out,
            r#"<rect x="{left}" y="{}" width="12" height="12" fill="{BAR}"/><text x="{}" y="{}" fill="{TEXT}" font-size="12">Revenue</text><line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{LINE}" stroke-width="2"/><text x="{}" y="{}" fill="{TEXT}" font-size="12">{}</text>"#,
            height - 16.0,
            left + 16.0,
            height - 6.0,
            left + 90.0,
            left + 110.0,
            height - 10.0,
            height - 10.0,
            left + 116.0,
            height - 6.0,
            escape(name)
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one row each, in the given order; labels on the left, values at the
/// bars' ends. An empty `bars` draws "No data".
pub fn hbars(title: &str, testid: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return no_data(title, testid);
    }
    let (row, top, label_w, right) = (24.0, 8.0, 180.0, 70.0);
    let height = top * 2.0 + row * bars.len() as f64;
    let plot_w = WIDTH - label_w - right;
    let (lo, hi) = range(bars.iter().map(|b| b.value));
    let x = |v: f64| label_w + (v - lo) / (hi - lo) * plot_w;
    let zero = x(0.0);
    let mut out = String::new();
    open(&mut out, title, height, testid);
    for (i, b) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let (x0, x1) = (x(b.value.min(0.0)), x(b.value.max(0.0)));
        let fill = if b.value < 0.0 { NEGATIVE } else { BAR };
        let class = if b.value < 0.0 { "bar neg" } else { "bar" };
        let _ = write!(
            out,
            r#"<text x="{:.2}" y="{:.2}" text-anchor="end" fill="{TEXT}" font-size="12">{}</text>"#,
            label_w - 8.0,
            y + row * 0.65,
            escape(&shorten(&b.label, 26))
        );
        link_open(&mut out, b);
        let _ = write!(
            out,
            r#"<rect class="{class}" x="{x0:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{fill}" data-value="{}"><title>{}: {}</title></rect>"#,
            y + 4.0,
            x1 - x0,
            row - 8.0,
            b.value,
            escape(&b.label),
            escape(&compact(b.value))
        );
        link_close(&mut out, b);
        let _ = write!(
            out,
            r#"<text x="{:.2}" y="{:.2}" fill="{TEXT}" font-size="11">{}</text>"#,
            x1 + 4.0,
            y + row * 0.65,
            escape(&compact(b.value))
        );
    }
    let _ = write!(
        out,
        r#"<line x1="{zero:.2}" x2="{zero:.2}" y1="{top}" y2="{:.2}" stroke="{AXIS}" stroke-width="1"/></svg>"#,
        height - top
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `(value, attribute)` pairs of the chart's bars.
    fn bars_attr(svg: &str, attr: &str) -> Vec<f64> {
        svg.split("<rect class=\"bar")
            .skip(1)
            .map(|r| {
                let key = format!(" {attr}=\"");
                let at = r.find(&key).unwrap() + key.len();
                r[at..].split('"').next().unwrap().parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn column_heights_are_proportional_to_values() {
        let bars = [
            Bar::new("Jan", 10.0),
            Bar::new("Feb", 20.0),
            Bar::new("Mar", 5.0),
        ];
        let svg = columns("Revenue", "c", &bars, None);
        let h = bars_attr(&svg, "height");
        assert_eq!(h.len(), 3);
        assert!((h[1] / h[0] - 2.0).abs() < 0.01, "{h:?}");
        assert!((h[0] / h[2] - 2.0).abs() < 0.01, "{h:?}");
        // The tallest bar fills the plot (192 px between the top and bottom margins).
        assert!((h[1] - 192.0).abs() < 0.01, "{h:?}");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("No data"));
    }

    #[test]
    fn negative_values_hang_below_zero_in_another_colour() {
        let bars = [Bar::new("up", 30.0), Bar::new("down", -10.0)];
        let svg = columns("Margin", "c", &bars, None);
        let (h, y) = (bars_attr(&svg, "height"), bars_attr(&svg, "y"));
        assert!((h[0] / h[1] - 3.0).abs() < 0.01, "{h:?}");
        // The positive bar ends where the negative one starts: the zero line.
        assert!((y[0] + h[0] - y[1]).abs() < 0.01, "{y:?} {h:?}");
        assert!(svg.contains("class=\"bar neg\"") && svg.contains(NEGATIVE));

        let svg = hbars("Sensitivity", "h", &bars);
        let (w, x) = (bars_attr(&svg, "width"), bars_attr(&svg, "x"));
        assert!((w[0] / w[1] - 3.0).abs() < 0.01, "{w:?}");
        assert!(
            (x[1] + w[1] - x[0]).abs() < 0.01,
            "the negative bar ends at zero"
        );
        assert!(h.iter().chain(&w).all(|v| *v >= 0.0), "no negative sizes");
    }

    #[test]
    fn horizontal_bar_widths_are_proportional() {
        let bars = [
            Bar::new("A", 100.0),
            Bar::new("B", 25.0),
            Bar::new("C", 0.0),
        ];
        let w = bars_attr(&hbars("Ranking", "h", &bars), "width");
        assert!((w[0] / w[1] - 4.0).abs() < 0.01, "{w:?}");
        assert_eq!(w[2], 0.0);
    }

    #[test]
    fn empty_series_say_no_data() {
        for svg in [
            columns("Revenue", "c", &[], None),
            hbars("Stores", "h", &[]),
        ] {
            assert!(svg.contains("No data"), "{svg}");
            assert!(!svg.contains("<rect"), "{svg}");
        }
        // All zeros still draw (zero-height bars), without dividing by zero.
        let svg = columns("Revenue", "c", &[Bar::new("Jan", 0.0)], None);
        assert_eq!(bars_attr(&svg, "height"), [0.0]);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn labels_and_links_are_escaped() {
        let evil = r#"<script>alert("x")</script> & 'co'"#;
        let bars = [Bar::new(evil, 1.0).linked("/retail?a=1&b=\"2\"")];
        for svg in [
            columns(evil, "c", &bars, Some((evil, &[Some(1.0)]))),
            hbars(evil, "h", &bars),
        ] {
            assert!(!svg.contains("<script>") && !svg.contains("\"x\""), "{svg}");
            assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)"), "{svg}");
            assert!(svg.contains("&amp; &#39;co&#39;"), "{svg}");
            assert!(svg.contains(r#"<a href="/retail?a=1&amp;b=&quot;2&quot;">"#));
        }
    }

    #[test]
    fn the_line_follows_its_points_and_skips_missing_ones() {
        let bars = [
            Bar::new("Jan", 10.0),
            Bar::new("Feb", 10.0),
            Bar::new("Mar", 10.0),
        ];
        let svg = columns(
            "Revenue vs target",
            "c",
            &bars,
            Some(("Target", &[Some(20.0), None, Some(10.0)])),
        );
        let pts = svg
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let ys: Vec<f64> = pts
            .split(' ')
            .map(|p| p.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(ys.len(), 2, "{pts}");
        // 20 is the top of the plot, 10 half-way down to zero.
        assert!(
            (ys[0] - 24.0).abs() < 0.01 && (ys[1] - 120.0).abs() < 0.01,
            "{ys:?}"
        );
        assert!(svg.contains(">Target</text>"));
        // A line of zeros (no targets) is not drawn.
        let svg = columns("R", "c", &bars, Some(("Target", &[Some(0.0); 3])));
        assert!(!svg.contains("polyline"));
    }

    #[test]
    fn compact_numbers() {
        let cases = [
            (0.0, "0"),
            (950.0, "950"),
            (12.5, "12.5"),
            (12_346.0, "12.35k"),
            (-4_560_000.0, "-4.56M"),
            (250_000.0, "250k"),
            (-0.001, "0"),
        ];
        for (v, want) in cases {
            assert_eq!(compact(v), want, "{v}");
        }
    }
}
