//! The page frame, escaping and the style. Every string that may come from a person
//! (a report's text, a name, a group's title, a search) goes through [`esc`].

use axum::response::Html;

use super::auth::Who;
use crate::i18n::{Locale, t};

/// `s` safe inside HTML text and inside a double- or single-quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` for a URL's query value.
pub fn url_value(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A whole page: the frame (with the menu and sign-out when someone is signed in) around
/// `body`, which is already HTML.
pub fn page(locale: Locale, title: &str, who: Option<&Who>, body: &str) -> Html<String> {
    let nav = who.map(|w| nav(locale, w)).unwrap_or_default();
    Html(format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>{nav}<main>{body}</main></body></html>",
        lang = locale.code(),
        title = esc(title),
    ))
}

fn nav(locale: Locale, who: &Who) -> String {
    let link =
        |href: &str, key: &str| format!("<a href=\"{href}\">{}</a>", esc(&t(locale, key, &[])));
    format!(
        "<header><nav>{}{}{}</nav><form method=post action=\"/console/logout\">{}\
         <span class=who>{}</span> <button>{}</button></form></header>",
        link("/console/", "console.nav_board"),
        link("/console/figures", "console.nav_figures"),
        link("/console/staff", "console.nav_staff"),
        csrf_field(who),
        esc(&who.name),
        esc(&t(locale, "console.sign_out", &[])),
    )
}

/// The hidden CSRF field every form of a signed-in page carries.
pub fn csrf_field(who: &Who) -> String {
    format!("<input type=hidden name=csrf value=\"{}\">", esc(&who.csrf))
}

/// `<option>`s: (value, label), the one equal to `chosen` selected.
pub fn options(items: &[(String, String)], chosen: &str) -> String {
    items
        .iter()
        .map(|(v, label)| {
            let sel = if v == chosen { " selected" } else { "" };
            format!("<option value=\"{}\"{sel}>{}</option>", esc(v), esc(label))
        })
        .collect()
}

/// A line of text in its own paragraph, as a notice.
pub fn notice(text: &str) -> String {
    format!("<p class=notice>{}</p>", esc(text))
}

const STYLE: &str = "
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;color:#1d2327;background:#f4f5f7}
header{display:flex;flex-wrap:wrap;gap:.5em;align-items:center;justify-content:space-between;padding:.5em .8em;background:#22313f;color:#fff}
header a{color:#fff;margin-right:1em;text-decoration:none;font-weight:600}
header form{margin:0;display:flex;gap:.5em;align-items:center}
.who{opacity:.8}
main{max-width:1100px;margin:0 auto;padding:.8em}
h1{font-size:1.3em;margin:.3em 0 .6em}
h2{font-size:1.1em;margin:1.2em 0 .5em}
form.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.5em;margin-bottom:1em}
input,select,button,textarea{font:inherit;padding:.4em;border:1px solid #c3c8cf;border-radius:6px;max-width:100%;background:#fff}
button{background:#2d6cdf;color:#fff;border-color:#2d6cdf;cursor:pointer}
header button{background:transparent;border-color:#fff}
.tickets{list-style:none;margin:0;padding:0}
.tickets li{background:#fff;border-radius:8px;margin:.4em 0;padding:.6em .8em;box-shadow:0 1px 2px #0001}
.tickets a{color:inherit;text-decoration:none;display:block}
.meta{color:#5b6670;font-size:.9em}
.status{display:inline-block;padding:0 .5em;border-radius:10px;background:#e8eef9;font-size:.85em}
.u-A{background:#fde2e1}
.text{overflow-wrap:anywhere;white-space:pre-wrap}
.notice{background:#fff8e1;border-left:4px solid #f0b400;padding:.6em .8em;border-radius:4px}
.photos{display:flex;flex-wrap:wrap;gap:.5em}
.photos img{max-width:min(100%,320px);border-radius:6px}
.story{list-style:none;padding:0}
.story li{padding:.3em 0;border-bottom:1px solid #e3e6ea;overflow-wrap:anywhere}
.actions form{display:flex;flex-wrap:wrap;gap:.4em;margin:.4em 0}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{padding:.4em;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;padding:.8em;border-radius:8px}
img.chart{width:100%;max-width:800px;height:auto}
.pager{margin:1em 0}
@media (max-width:600px){main{padding:.5em}table{font-size:.9em}}
";
