//! Free text from owners and staff.

/// What an owner wrote in a report: trimmed and never empty. Stored whole, however long;
/// shown shortened where Telegram's limits apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportText(String);

impl ReportText {
    pub fn parse(raw: &str) -> Result<Self, super::Error> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(super::Error::EmptyReport);
        }
        Ok(Self(trimmed.to_owned()))
    }
}

impl AsRef<str> for ReportText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// At most `max` characters (Unicode scalar values, as Telegram counts after parsing
/// roughly), ending with "…" when something was cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Telegram counts message length in UTF-16 code units; this keeps a text within `max` of
/// them, cutting at a character boundary and marking the cut with "…".
pub fn fit_utf16(s: &str, max: usize) -> String {
    if s.encode_utf16().count() <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.len_utf16();
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Splits a text into messages of at most `max` UTF-16 code units each, between lines,
/// so that no line is cut in two; a single line longer than `max` is shortened with
/// [`fit_utf16`]. Empty lines at a split are dropped.
pub fn split_lines_utf16(s: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for line in s.lines() {
        let line = fit_utf16(line, max);
        let width = line.encode_utf16().count();
        let needed = if current.is_empty() { width } else { width + 1 };
        if used + needed > max && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            used = 0;
        }
        if current.is_empty() && line.trim().is_empty() {
            continue;
        }
        if !current.is_empty() {
            current.push('\n');
            used += 1;
        }
        current.push_str(&line);
        used += width;
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_blank_report_is_rejected() {
        assert_eq!(
            ReportText::parse("  \n "),
            Err(super::super::Error::EmptyReport)
        );
    }

    #[test]
    fn a_report_is_trimmed_and_kept_whole() {
        let long = "漏".repeat(10_000);
        let t = ReportText::parse(&format!("  {long} ")).unwrap();
        assert_eq!(t.as_ref().chars().count(), 10_000);
    }

    #[test]
    fn shorten_marks_the_cut() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }

    #[test]
    fn fit_utf16_counts_emoji_as_two_units() {
        let s = "😀".repeat(10); // 20 UTF-16 units
        let fitted = fit_utf16(&s, 9);
        assert!(fitted.encode_utf16().count() <= 9);
        assert!(fitted.ends_with('…'));
        assert_eq!(fit_utf16("short", 4096), "short");
    }

    #[test]
    fn a_long_text_is_split_between_lines_within_the_limit() {
        let text: Vec<String> = (0..100).map(|i| format!("line {i:03} 😀")).collect();
        let text = text.join("\n");
        let parts = split_lines_utf16(&text, 100);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(p.encode_utf16().count() <= 100, "{p}");
            assert!(
                p.lines()
                    .all(|l| l.starts_with("line ") && l.ends_with('😀'))
            );
        }
        assert_eq!(parts.join("\n"), text, "nothing lost, nothing cut");
    }

    #[test]
    fn a_short_text_stays_whole_and_an_overlong_line_is_shortened() {
        assert_eq!(split_lines_utf16("a\nb", 10), vec!["a\nb".to_owned()]);
        let parts = split_lines_utf16(&"x".repeat(30), 10);
        assert_eq!(parts, vec![format!("{}…", "x".repeat(9))]);
    }
}
