//! The locale keys the code names, found by reading its source: a key missing from a
//! locale file would show its raw name to a person, so a test looks for them all.
//!
//! A string literal of the code (tests aside) counts as a key when it is shaped like one
//! (`error.closed`) and either begins with a namespace of the locale files (`error.`,
//! `button.` …) or is an argument of a function that takes a key (`t`, `answer`,
//! `to_owner` …), so that a mistyped namespace is caught too. Keys built at run time
//! (`status.{code}`, `month.{n}` …) are checked by enumerating their values instead.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Functions whose arguments include a locale key.
const KEY_TAKERS: [&str; 6] = [
    "t",
    "answer",
    "to_owner",
    "ratio_line",
    "durations_line",
    "ticket_list",
];

/// Files whose dotted literals are not locale keys: the TOML keys of the configuration
/// (`sla.take_minutes`) and the emulator's Bot API.
const NOT_LOCALE_TEXT: [&str; 3] = ["src/config.rs", "src/config/", "src/emulator/"];

/// Literals shaped like keys that are not: the chart's file name.
const NOT_KEYS: [&str; 1] = ["chart.png"];

/// Every key literal of the code under `src/`, with the file it is in.
pub fn literal_keys() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let namespaces = namespaces();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut keys = Vec::new();
    for path in files {
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if NOT_LOCALE_TEXT.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("reading a source file");
        let code = without_tests(&source);
        let (blank, literals) = literals(code);
        for (at, text) in literals {
            let counts = is_key_shaped(&text)
                && !NOT_KEYS.contains(&text.as_str())
                && (namespaces.contains(text.split('.').next().unwrap_or_default())
                    || callee(&blank, at).is_some_and(|f| KEY_TAKERS.contains(&f)));
            if counts {
                keys.push((name.clone(), text));
            }
        }
    }
    keys
}

/// The first segments of the message keys (`error`, `button` …).
fn namespaces() -> BTreeSet<&'static str> {
    let mut all = BTreeSet::new();
    for locale in super::Locale::ALL {
        for key in super::file(locale).messages.keys() {
            all.insert(key.split('.').next().unwrap_or_default());
        }
    }
    all
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("reading src/")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source up to its `#[cfg(test)]` module, which ends each file of this project.
fn without_tests(source: &str) -> &str {
    source
        .find("#[cfg(test)]\nmod ")
        .map_or(source, |at| &source[..at])
}

/// `a.b` or `a.b.c`: lowercase words joined by dots.
fn is_key_shaped(text: &str) -> bool {
    let mut parts = text.split('.');
    let word = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let first = parts.next().unwrap_or_default();
    first.starts_with(|c: char| c.is_ascii_lowercase())
        && word(first)
        && text.contains('.')
        && parts.all(word)
}

/// The string literals of `code` (start offset and text, escapes left as written), and
/// `code` with every literal and comment blanked out, for reading the code around them.
fn literals(code: &str) -> (Vec<u8>, Vec<(usize, String)>) {
    let bytes = code.as_bytes();
    let mut blank = bytes.to_vec();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                code[i..].find('\n').map_or(bytes.len(), |n| i + n)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => code[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2),
            b'\'' if bytes.get(i + 1) == Some(&b'\\') => code[i + 2..]
                .find('\'')
                .map_or(bytes.len(), |n| i + 2 + n + 1),
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i + 3,
            b'r' if raw_string_at(bytes, i) => {
                let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
                let close = format!("\"{}", "#".repeat(hashes));
                let open = i + 1 + hashes + 1;
                let end = code[open..].find(&close).map_or(bytes.len(), |n| open + n);
                found.push((i, code[open..end].to_owned()));
                end + close.len()
            }
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                found.push((i, code[i + 1..j.min(bytes.len())].to_owned()));
                j + 1
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let end = end.min(bytes.len());
        blank[i..end].iter_mut().for_each(|b| {
            if *b != b'\n' {
                *b = b' '
            }
        });
        i = end;
    }
    (blank, found)
}

/// `r"…"` or `r#"…"#` begins at `i` (not the end of an identifier such as `for`).
fn raw_string_at(bytes: &[u8], i: usize) -> bool {
    let after = bytes[i + 1..].iter().find(|&&b| b != b'#');
    let before = i.checked_sub(1).map(|j| bytes[j]);
    after == Some(&b'"') && !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The function whose call's parentheses enclose offset `at` of the blanked code.
fn callee(blank: &[u8], at: usize) -> Option<&str> {
    let mut depth = 0usize;
    for i in (0..at).rev() {
        match blank[i] {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' if depth > 0 => depth -= 1,
            b'(' => {
                let start = blank[..i]
                    .iter()
                    .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map_or(0, |p| p + 1);
                let name = std::str::from_utf8(&blank[start..i]).ok()?;
                return (!name.is_empty()).then_some(name);
            }
            b'[' | b'{' | b';' if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_their_callees_are_read_from_code() {
        let code = "let k = t(l, \"a.b\", &[(\"x\", &f(\"c.d\"))]); // \"e.f\"\nlet c = '\"'; g(r#\"h.i\"#)";
        let (blank, found) = literals(code);
        let texts: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["a.b", "x", "c.d", "h.i"]);
        let callees: Vec<Option<&str>> = found.iter().map(|(at, _)| callee(&blank, *at)).collect();
        assert_eq!(callees, [Some("t"), None, Some("f"), Some("g")]);
    }

    #[test]
    fn keys_are_lowercase_words_joined_by_dots() {
        assert!(is_key_shaped("error.closed"));
        assert!(is_key_shaped("month.12"));
        assert!(!is_key_shaped("closed"));
        assert!(!is_key_shaped("status.{}"));
        assert!(!is_key_shaped("Error.closed"));
        assert!(!is_key_shaped("a..b"));
    }
}
