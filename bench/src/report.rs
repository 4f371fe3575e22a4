//! Samples and the Markdown table.

use std::collections::BTreeMap;

/// Whether a larger figure is better (throughput) or worse (time, memory).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// One line of the table: a measure of one variant, with a sample per round.
pub struct Line {
    pub row: &'static str,
    pub measure: String,
    pub unit: &'static str,
    pub better: Better,
    pub variant: String,
    pub samples: Vec<f64>,
}

/// Every measure taken, in the order first seen.
#[derive(Default)]
pub struct Report {
    lines: Vec<Line>,
    index: BTreeMap<(String, String), usize>,
}

/// What a measure is: its row number, name, unit and direction.
#[derive(Clone)]
pub struct Measure {
    pub row: &'static str,
    pub name: String,
    pub unit: &'static str,
    pub better: Better,
}

impl Measure {
    pub fn new(
        row: &'static str,
        name: impl Into<String>,
        unit: &'static str,
        better: Better,
    ) -> Measure {
        Measure {
            row,
            name: name.into(),
            unit,
            better,
        }
    }
}

impl Report {
    /// Adds one round's figure for `variant` of `measure`.
    pub fn add(&mut self, measure: &Measure, variant: &str, value: f64) {
        let key = (measure.name.clone(), variant.to_owned());
        let at = *self.index.entry(key).or_insert_with(|| {
            self.lines.push(Line {
                row: measure.row,
                measure: measure.name.clone(),
                unit: measure.unit,
                better: measure.better,
                variant: variant.to_owned(),
                samples: Vec::new(),
            });
            self.lines.len() - 1
        });
        self.lines[at].samples.push(value);
    }

    /// Every sample, one per line, tab-separated (row, measure, unit, `lower` or `higher`,
    /// variant, value): what a child process of `--interleaved` hands its parent.
    pub fn samples_tsv(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let better = match line.better {
                Better::Lower => "lower",
                Better::Higher => "higher",
            };
            for value in &line.samples {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{better}\t{}\t{value}\n",
                    line.row, line.measure, line.unit, line.variant
                ));
            }
        }
        out
    }

    /// Adds the samples [`Report::samples_tsv`] wrote.
    pub fn add_samples_tsv(&mut self, text: &str) -> Result<(), String> {
        for line in text.lines().filter(|l| !l.is_empty()) {
            let fields: Vec<&str> = line.split('\t').collect();
            let [row, name, unit, better, variant, value] = fields[..] else {
                return Err(format!("not a sample line: {line}"));
            };
            let known = |options: &[&'static str], text: &str| {
                options
                    .iter()
                    .copied()
                    .find(|o| *o == text)
                    .ok_or_else(|| format!("unknown `{text}` in: {line}"))
            };
            let row = known(&["1", "2", "3", "4", "5"], row)?;
            let unit = known(&["MiB", "count", "ms", "ns/call", "per s", "µs"], unit)?;
            let better = match better {
                "lower" => Better::Lower,
                "higher" => Better::Higher,
                other => return Err(format!("unknown direction `{other}` in: {line}")),
            };
            let value: f64 = value
                .parse()
                .map_err(|_| format!("not a number in: {line}"))?;
            self.add(&Measure::new(row, name, unit, better), variant, value);
        }
        Ok(())
    }

    /// The table, in Markdown, one group of lines per measure: median, spread (min–max), the
    /// ratio of each median to the measure's first line (oauth-clients in rows 1, 3 and 4,
    /// `access_token()` in row 2, the memory store in row 5), and the paired ratio: the median
    /// (and range) of the round-by-round ratios to the first line, each taken from two runs
    /// made one after the other, so that the machine's slow drifts cancel out.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| # | measure | variant | median | spread (min–max) | vs first line | paired \
             (min–max) |\n|---|---|---|---:|---:|---:|---:|\n",
        );
        let mut first_seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (at, line) in self.lines.iter().enumerate() {
            first_seen.entry(line.measure.as_str()).or_insert(at);
        }
        let mut lines: Vec<&Line> = self.lines.iter().collect();
        lines.sort_by_key(|l| (l.row, first_seen[l.measure.as_str()]));
        let mut first_of: BTreeMap<&str, f64> = BTreeMap::new();
        let mut first_samples: BTreeMap<&str, &[f64]> = BTreeMap::new();
        for line in lines {
            let median = median(&line.samples);
            let base = *first_of.entry(line.measure.as_str()).or_insert(median);
            let base_samples = *first_samples
                .entry(line.measure.as_str())
                .or_insert(&line.samples);
            let paired = match paired_ratios(&line.samples, base_samples) {
                Some(ratios) => {
                    let (min, max) = spread(&ratios);
                    format!("{:.2}× ({min:.2}–{max:.2})", self::median(&ratios))
                }
                None => "–".to_owned(),
            };
            let ratio = if base > 0.0 {
                format!("{:.2}×", median / base)
            } else {
                "–".to_owned()
            };
            let direction = match line.better {
                Better::Lower => "lower is better",
                Better::Higher => "higher is better",
            };
            let (min, max) = spread(&line.samples);
            out.push_str(&format!(
                "| {} | {} ({}, {direction}) | {} | {} | {}–{} | {ratio} | {paired} |\n",
                line.row,
                line.measure,
                line.unit,
                line.variant,
                figure(median),
                figure(min),
                figure(max),
            ));
        }
        out
    }
}

/// Round by round, `samples[i] / base[i]`; `None` unless both have a sample for every round
/// and no base sample is zero.
fn paired_ratios(samples: &[f64], base: &[f64]) -> Option<Vec<f64>> {
    if samples.is_empty() || samples.len() != base.len() || base.contains(&0.0) {
        return None;
    }
    Some(samples.iter().zip(base).map(|(s, b)| s / b).collect())
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn spread(samples: &[f64]) -> (f64, f64) {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if samples.is_empty() {
        (0.0, 0.0)
    } else {
        (min, max)
    }
}

/// Three significant digits or so, without exponent.
fn figure(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_ratios_divide_round_by_round() {
        assert_eq!(
            paired_ratios(&[20.0, 33.0, 10.0], &[10.0, 30.0, 10.0]),
            Some(vec![2.0, 1.1, 1.0])
        );
        assert_eq!(paired_ratios(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(paired_ratios(&[1.0], &[0.0]), None);
        assert_eq!(paired_ratios(&[], &[]), None);
    }

    #[test]
    fn the_table_shows_the_paired_ratio_beside_the_ratio_of_medians() {
        let mut report = Report::default();
        let measure = Measure::new("3", "exchanges", "per s", Better::Higher);
        // The third round ran while the machine was busy with something else: the medians
        // say 0.75x, the rounds say 1.10x twice and 0.50x once.
        for (first, second) in [(100.0, 110.0), (200.0, 220.0), (300.0, 150.0)] {
            report.add(&measure, "a", first);
            report.add(&measure, "b", second);
        }
        let table = report.markdown();
        let b = table.lines().find(|l| l.contains("| b |")).unwrap();
        assert!(b.contains("| 0.75× | 1.10× (0.50–1.10) |"), "{table}");
        let a = table.lines().find(|l| l.contains("| a |")).unwrap();
        assert!(a.contains("| 1.00× | 1.00× (1.00–1.00) |"), "{table}");
    }
}
