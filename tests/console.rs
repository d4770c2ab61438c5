//! The web console in a real browser: the `butler` binary on the Bot API emulator serves
//! its console on a free port; the manager sends `/console` privately, and headless
//! Chromium (through chromedriver and `fantoccini`) opens the link Butler sent, signs in,
//! reads the board, filters it, opens a ticket and sees its photo, assigns it, and
//! downloads the export,
//! which is read back as a workbook.
//!
//! Needs Debian's `chromium` and `chromium-driver` (or `BUTLER_CHROMIUM`,
//! `BUTLER_CHROMEDRIVER`); without them this test fails in CI and elsewhere says that it
//! skipped.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use butler_emulator::State;
use calamine::{Reader, Xlsx, open_workbook_from_rs};
use common::{
    GROUP, MANAGER, OWNER, Process, STAFF, STAFF_CHAT, butler_with_config, cast_config,
    emulator_with_cast, log_level, on_emulator,
};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long one step may take when nothing goes wrong (generous for a loaded machine).
const STEP: Duration = Duration::from_secs(30);

fn tool(var: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    path.exists().then_some(path)
}

/// chromedriver in its own process group (with its Chromium), killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--"])
            .arg(format!("-{}", self.0.id()))
            .status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Headless Chromium at a phone's width (390 px), or `None` when it is not installed and
/// this is not CI.
async fn browser() -> Option<(Client, Driver, tempfile::TempDir)> {
    let (Some(chromium), Some(chromedriver)) = (
        tool("BUTLER_CHROMIUM", "/usr/bin/chromium"),
        tool("BUTLER_CHROMEDRIVER", "/usr/bin/chromedriver"),
    ) else {
        let why = "the browser test needs Debian's chromium and chromium-driver";
        if std::env::var_os("CI").is_some() {
            panic!("{why}");
        }
        eprintln!("SKIPPED: {why}");
        return None;
    };
    let port = free_port();
    let mut command = Command::new(chromedriver);
    command
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let driver = Driver(command.spawn().expect("starting chromedriver"));
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().expect("a profile dir");
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--window-size=390,844",
        "--lang=en-US",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([format!("--user-data-dir={}", profile.path().display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": chromium, "args": args }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    Some((client, driver, profile))
}

/// Waits until `script` returns something other than null, false or "".
async fn until(c: &Client, what: &str, script: &str) -> Value {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let v = c.execute(script, vec![]).await.expect("a script");
        if !(v.is_null() || v == false || v == "") {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            let page = c
                .execute("return document.body.innerText;", vec![])
                .await
                .unwrap_or_default();
            panic!("waited {STEP:?} for: {what}\nthe page shows:\n{page}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// What a wait looks for in the emulator's state.
type Finder = Box<dyn Fn(&State) -> Option<String> + Send + Sync>;

/// The last message Butler sent to `chat` that holds `text`.
fn bot_said(s: &State, chat: i64, text: &str) -> Option<String> {
    s.bot_messages_in(chat)
        .iter()
        .rev()
        .map(|m| m.body().to_owned())
        .find(|t| t.contains(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_signs_in_from_the_link_filters_assigns_and_downloads_the_export() {
    let Some((c, _driver, _profile)) = browser().await else {
        return;
    };
    let emu = emulator_with_cast().await;
    let port = free_port();
    let dir = common::temp_dir();
    let config = dir.path().join("butler.toml");
    let tweaks = format!("[console]\nlisten = \"127.0.0.1:{port}\"\n");
    let database_url = butler::store::testing::database_url(dir.path()).await;
    std::fs::write(&config, cast_config(&database_url, &tweaks)).unwrap();
    let mut command = butler_with_config(&config, dir.path());
    on_emulator(&mut command, &emu.api_url().to_string());
    log_level(&mut command, "BUTLER_E2E_LOG", "info");
    let _butler = Process::spawn(&mut command, &dir.path().join("stderr.log"), false);
    let wait = |what: &'static str, f: Finder| {
        let emu = emu.clone();
        async move {
            emu.wait_find(f, STEP)
                .await
                .unwrap_or_else(|_| panic!("waited for {what}"))
        }
    };

    // The office at work: a group, a report, a staff member on the roster.
    emu.user_sends_text(GROUP, MANAGER, "/register Sunrise Garden", None)
        .unwrap();
    wait(
        "the group registered",
        Box::new(|s| bot_said(s, GROUP, "registered")),
    )
    .await;
    let photo = include_bytes!("../assets/sandbox/samples/tap-leak.jpg").to_vec();
    let caption = Some("/repair the kitchen tap leaks");
    emu.user_sends_photo_file(GROUP, OWNER, photo, caption, None)
        .unwrap();
    wait(
        "the first card",
        Box::new(|s| bot_said(s, STAFF_CHAT, "kitchen tap")),
    )
    .await;
    emu.user_sends_text(GROUP, OWNER, "/repair corridor light is out", None)
        .unwrap();
    wait(
        "the second card",
        Box::new(|s| bot_said(s, STAFF_CHAT, "corridor light")),
    )
    .await;
    // Whoever speaks in the staff chat is on the roster; `/staff` lists them.
    emu.user_sends_text(STAFF_CHAT, STAFF, "/staff", None)
        .unwrap();
    let staff = common::name_of(STAFF);
    wait(
        "the roster",
        Box::new(move |s| bot_said(s, STAFF_CHAT, staff)),
    )
    .await;

    // The link, as the manager receives it privately.
    let chat = MANAGER as i64;
    emu.user_sends_text(chat, MANAGER, "/console", None)
        .unwrap();
    let said = wait(
        "the sign-in link",
        Box::new(move |s| bot_said(s, chat, "/console/login?t=")),
    )
    .await;
    let link = said
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a link")
        .to_owned();
    c.goto(&link).await.unwrap();
    click(&c, "#sign-in").await;
    until(&c, "the board", "return location.pathname === '/console/' && document.querySelectorAll('.tickets li').length === 2;").await;
    // Usable at 390 px: nothing wider than the window.
    let wide = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, json!(true), "the board fits a 390 px phone");

    // Filter: the search finds one ticket.
    let q = c.find(Locator::Css("input[name=q]")).await.unwrap();
    q.send_keys("kitchen").await.unwrap();
    click(&c, "#apply").await;
    until(&c, "one ticket", "return document.querySelectorAll('.tickets li').length === 1 && document.body.innerText.includes('kitchen tap');").await;
    click(&c, ".tickets li a").await;
    until(&c, "the ticket's page", "return document.querySelector('h1') && document.querySelector('h1').innerText.includes('#1');").await;
    // Its photo, fetched from Telegram (getFile, then the file) and served to the session.
    let width = until(&c, "the photo shown", "const i = document.querySelector('.photos img'); return i && i.complete && i.naturalWidth > 0 ? i.naturalWidth : null;").await;
    assert!(width.as_i64().unwrap_or(0) > 10, "{width}");

    // Assign it to the staff member.
    let select = c
        .find(Locator::Css("form[action$='/assign'] select[name=to]"))
        .await
        .unwrap();
    select.select_by_value(&STAFF.to_string()).await.unwrap();
    click(&c, "#assign").await;
    until(
        &c,
        "the assignment",
        "return document.body.innerText.includes('#1 is assigned');",
    )
    .await;

    // The export: a link a browser saves; fetched with the session, read as XLSX.
    let base = &link[..link.find("/console/").expect("a console link")];
    c.goto(&format!("{base}/console/figures")).await.unwrap();
    let href = until(
        &c,
        "the export link",
        "const a = document.querySelector('#export-xlsx'); return a && a.getAttribute('href');",
    )
    .await;
    let script = "const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => {
          let s = ''; new Uint8Array(b).forEach(x => s += String.fromCharCode(x)); done(btoa(s)); });";
    let b64 = c.execute_async(script, vec![href.clone()]).await.unwrap();
    let bytes = decode_base64(b64.as_str().expect("base64"));
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an XLSX");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.rows().count(), 3, "a header and the two tickets");
    let _ = c.close().await;
}

fn decode_base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | (value(c) as u32) << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    out
}
