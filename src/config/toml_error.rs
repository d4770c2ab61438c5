//! toml's errors, made one line.

/// toml's error is several lines (a source excerpt with a caret); keep the line
/// number, the offending line and the message.
pub(super) fn one_line_toml_error(error: &toml::de::Error, text: &str) -> String {
    let message = error
        .message()
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let message = if message.is_empty() {
        "not valid TOML".to_owned()
    } else {
        message
    };
    let Some(before) = error.span().and_then(|span| text.get(..span.start)) else {
        return message;
    };
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    if line.is_empty() {
        format!("line {line_no}: {message}")
    } else {
        let shown: String = line.chars().take(60).collect();
        let ellipsis = if shown.len() < line.len() { "…" } else { "" };
        format!("line {line_no} ({shown}{ellipsis}): {message}")
    }
}
