//! The sandbox page in a real browser: `butler sandbox` (the binary) serves the page, and
//! headless Chromium, driven through chromedriver with the `fantoccini` WebDriver client,
//! clicks and types as a person would, while the assertions read what the page shows.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`; `.ci/run` installs them, or set `BUTLER_CHROMIUM` and
//! `BUTLER_CHROMEDRIVER`). Without them these tests fail in CI and, elsewhere, say that
//! they skipped.

mod common;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use butler::sandbox::{ENGINEERING, GROUP, STAFF_CHAT};
use common::{Process, butler_with_config, log_level, tail, temp_dir};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

/// How long one step may take when nothing goes wrong (generous for a loaded machine).
const STEP: Duration = Duration::from_secs(20);

/// How long one WebDriver command may take.
const COMMAND: Duration = Duration::from_secs(60);

/// One browser at a time: the machine has two cores.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---- the sandbox --------------------------------------------------------------------

/// `butler sandbox` on a free port with its own database, killed when dropped.
struct SandboxProcess {
    process: Process,
    url: String,
    _dir: tempfile::TempDir,
}

impl SandboxProcess {
    fn start() -> SandboxProcess {
        let dir = temp_dir();
        let config = dir.path().join("butler.toml");
        // The defaults, written out so that a developer's own butler.toml plays no part.
        std::fs::write(&config, "timezone = \"Asia/Shanghai\"\n").expect("writing butler.toml");
        let mut command = butler_with_config(&config, dir.path());
        command
            .args(["sandbox", "--port", "0", "--lang", "en", "--db"])
            .arg(dir.path().join("sandbox.db"));
        log_level(&mut command, "BUTLER_SANDBOX_LOG", "warn");
        let mut process = Process::spawn(&mut command, &dir.path().join("stderr.log"), true);
        let line = process.first_line(Duration::from_secs(90));
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .map(str::to_owned);
        let Some(url) = url else {
            panic!(
                "butler sandbox printed no URL (got {line:?})\n{}",
                process.log()
            );
        };
        SandboxProcess {
            process,
            url,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        self.process.log_tail(40)
    }

    /// SIGTERM, as Ctrl-C or a service manager stops it; the exit status.
    async fn stop(&mut self) -> ExitStatus {
        self.process.stop().await
    }
}

// ---- the browser, through fantoccini ------------------------------------------------

/// The W3C WebDriver key of an element in a script's result.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver in its own process group (with the Chromium it starts), killed when
/// dropped.
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

/// Headless Chromium through chromedriver (started on a free port).
struct Browser {
    client: Client,
    /// The sandbox's log, shown when a wait fails.
    log: Option<PathBuf>,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

fn tool(var: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    path.exists().then_some(path)
}

/// A WebDriver command's result, or a failure naming it (also after [`COMMAND`]).
async fn wd<T, E: std::fmt::Display>(what: &str, command: impl Future<Output = Result<T, E>>) -> T {
    match tokio::time::timeout(COMMAND, command).await {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => panic!("WebDriver {what}: {e}"),
        Err(_) => panic!("WebDriver {what}: no answer within {COMMAND:?}"),
    }
}

/// Chromium's flags: headless, quiet, a laptop's window, English.
const CHROMIUM_ARGS: [&str; 13] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1440,900",
    "--force-device-scale-factor=1",
    "--lang=en-US",
];

impl Browser {
    /// `None` (with a note) when Chromium is not installed and this is not CI.
    async fn start() -> Option<Browser> {
        let (Some(chromium), Some(chromedriver)) = (
            tool("BUTLER_CHROMIUM", "/usr/bin/chromium"),
            tool("BUTLER_CHROMEDRIVER", "/usr/bin/chromedriver"),
        ) else {
            let why = "the browser tests need Debian's chromium and chromium-driver \
                       (apt-get install chromium chromium-driver; .ci/run installs them)";
            if std::env::var_os("CI").is_some() {
                panic!("{why}");
            }
            eprintln!("SKIPPED: {why}");
            return None;
        };
        let (driver, port) = Self::start_driver(&chromedriver).await;
        let profile = tempfile::tempdir().expect("a profile dir");
        let args = CHROMIUM_ARGS
            .iter()
            .map(|a| a.to_string())
            .chain([format!("--user-data-dir={}", profile.path().display())])
            .collect::<Vec<_>>();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let client = wd(
            "new session",
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await;
        let browser = Browser {
            client,
            log: None,
            _driver: driver,
            _profile: profile,
        };
        // A laptop's screen: the page itself 1440 × 900, whatever the window's frame takes.
        let inner = browser.js("return innerHeight;", json!([])).await;
        let frame = 900 - inner.as_i64().unwrap_or(900).min(900);
        wd(
            "window size",
            browser.client.set_window_size(1440, 900 + frame as u32),
        )
        .await;
        Some(browser)
    }

    /// chromedriver on a free port, once it accepts connections.
    async fn start_driver(chromedriver: &Path) -> (Driver, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new(chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = Driver(command.spawn().expect("starting chromedriver"));
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return (driver, port);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not become ready on port {port}");
    }

    async fn goto(&self, url: &str) {
        wd("goto", self.client.goto(url)).await;
    }

    /// Runs `script` (with the page helpers in scope) and returns its value.
    async fn js(&self, script: &str, args: Value) -> Value {
        let args = match args {
            Value::Array(args) => args,
            other => vec![other],
        };
        wd(
            "execute",
            self.client
                .execute(&format!("{PAGE_HELPERS}\n{script}"), args),
        )
        .await
    }

    /// Waits until `script` returns something other than null, false or "".
    async fn until(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let v = self.js(script, args.clone()).await;
            if !(v.is_null() || v == false || v == "") {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                let page = self.js("return pageText();", json!([])).await;
                let log = self
                    .log
                    .as_deref()
                    .map(|l| tail(&std::fs::read_to_string(l).unwrap_or_default(), 40))
                    .unwrap_or_default();
                panic!(
                    "waited {STEP:?} for: {what}\nthe page shows:\n{}\nthe sandbox's log:\n{log}",
                    page.as_str().unwrap_or("")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element that `script` finds (waiting for it).
    async fn element(&self, what: &str, script: &str, args: Value) -> Element {
        let found = self.until(what, script, args).await;
        let id = found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: not an element: {found}"));
        Element::from_element_id(self.client.clone(), id.to_owned().into())
    }

    /// A real click on an element that `script` finds (waiting for it).
    async fn click(&self, what: &str, script: &str, args: Value) {
        let element = self.element(what, script, args).await;
        wd(what, element.click()).await;
    }

    /// Types into the element that `script` finds, as keystrokes (a file input takes a
    /// path).
    async fn type_into(&self, what: &str, script: &str, args: Value, text: &str) {
        let element = self.element(what, script, args).await;
        wd(what, element.send_keys(text)).await;
    }

    /// Accepts the page's "are you sure?".
    async fn accept_alert(&self) {
        wd("accept the alert", self.client.accept_alert()).await;
    }

    async fn screenshot(&self, to: &Path) {
        let png = wd("screenshot", self.client.screenshot()).await;
        assert_eq!(&png[1..4], b"PNG");
        std::fs::write(to, png).expect("writing the screenshot");
    }

    async fn quit(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
    }
}

/// Finders for the scripts: panes by chat id, messages by the text they show. A pane
/// not drawn yet (the page is still starting or redrawing) finds nothing, so `until`
/// waits instead of failing on a JavaScript error.
const PAGE_HELPERS: &str = r#"
const pane = (chat) => document.querySelector(`.pane[data-chat="${chat}"]`);
const msgs = (chat) => { const p = pane(chat); return p ? [...p.querySelectorAll('.msg')] : []; };
const bubbleText = (m) => m.querySelector('.bubble').innerText;
const ownText = (m) => { const t = m.querySelector('.bubble > .text'); return t ? t.innerText : ''; };
const msg = (chat, text) => msgs(chat).reverse().find((m) => ownText(m).includes(text)) || null;
const button = (chat, text, label) => {
  const m = msg(chat, text);
  return (m && [...m.querySelectorAll('.kb')].find((b) => b.innerText.trim() === label)) || null;
};
const inPane = (chat, sel) => { const p = pane(chat); return p ? p.querySelector(sel) : null; };
const toastText = (chat) => { const t = inPane(chat, '.toast'); return t && !t.hidden ? t.innerText : ''; };
// The width of a loaded picture, else null (not 0: `until` would take 0 as an answer).
const photoShown = (img) => img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : null;
const pageText = () => [...document.querySelectorAll('.pane')].map((p) =>
  '== ' + p.querySelector('h2').innerText + '\n' +
  [...p.querySelectorAll('.msg, .service')].map((m) => '  ' + m.innerText.replace(/\n/g, ' ⏎ ')).join('\n')
).join('\n');
"#;

// ---- the tests ----------------------------------------------------------------------

/// A sandbox and the browser on its page, the one browser test at a time.
struct Page {
    browser: Browser,
    sandbox: SandboxProcess,
    _one: tokio::sync::MutexGuard<'static, ()>,
}

impl Page {
    /// The sandbox started and its page open with the seeded chats shown; `None` (the
    /// test skipped) where there is no browser.
    async fn open_seeded() -> Option<Page> {
        let one = ONE_BROWSER.lock().await;
        let mut browser = Browser::start().await?;
        let sandbox = SandboxProcess::start();
        browser.log = Some(sandbox.process.log_path().to_owned());
        browser.goto(&sandbox.url).await;
        seeded(&browser).await;
        Some(Page {
            browser,
            sandbox,
            _one: one,
        })
    }

    /// Closes the browser and stops the sandbox, which must exit cleanly.
    async fn close(self) {
        let Page {
            browser,
            mut sandbox,
            _one,
        } = self;
        browser.quit().await;
        let status = sandbox.stop().await;
        assert!(status.success(), "{status:?}\n{}", sandbox.log());
    }
}

/// Waits for the seeded chats: the group registered, both units set.
async fn seeded(b: &Browser) {
    b.until(
        "the group registered by the manager",
        "return msg(arguments[0], 'This group is now registered');",
        json!([GROUP]),
    )
    .await;
    b.until(
        "both owners' units set",
        "return msg(arguments[0], 'Your unit is now 3-1201') && msg(arguments[0], 'Your unit is now 5-0802') && document.querySelector('#busy').hidden;",
        json!([GROUP]),
    )
    .await;
}

/// Attaches a sample photo in `chat`'s composer.
async fn attach_sample(b: &Browser, chat: i64, sample: &str) {
    b.click(
        "the attach button",
        "return inPane(arguments[0], '.attach');",
        json!([chat]),
    )
    .await;
    b.click(
        "the sample photo",
        "return inPane(arguments[0], `.sample[data-sample=\"${arguments[1]}\"]`);",
        json!([chat, sample]),
    )
    .await;
    b.until(
        "the photo waiting in the composer",
        "return !inPane(arguments[0], '.attach-bar').hidden;",
        json!([chat]),
    )
    .await;
}

/// Types `text` in `chat`'s composer and presses Enter.
async fn type_and_send(b: &Browser, chat: i64, text: &str) {
    b.type_into(
        "the message box",
        "return inPane(arguments[0], 'textarea');",
        json!([chat]),
        &format!("{text}\u{E007}"),
    )
    .await;
}

#[tokio::test]
async fn a_photo_report_is_taken_updated_finished_and_rated_on_the_sandbox_page() {
    let Some(page) = Page::open_seeded().await else {
        return;
    };
    let b = &page.browser;
    assert_eq!(
        b.js(
            "return [...inPane(arguments[0], '.chips').querySelectorAll('.chip')].map((c) => c.querySelector(':scope > span').innerText);",
            json!([GROUP])
        )
        .await,
        json!(["Li Na", "Chen Jie", "Zhou Yan"]),
        "the owner group's people, to act as"
    );

    // Li Na reports with a photo: her message, Butler's confirmation under it, and in the
    // engineering chat (plumbing goes there) the card with Take (Done comes once someone
    // took it) and her photo under it.
    attach_sample(b, GROUP, "tap-leak.jpg").await;
    type_and_send(b, GROUP, "/repair the kitchen tap is leaking").await;
    let report_photo = b
        .until(
            "Li Na's photo report, on her side of the chat",
            "const m = msg(arguments[0], '/repair the kitchen tap is leaking'); return m && m.classList.contains('own') && photoShown(m.querySelector('img.photo'));",
            json!([GROUP]),
        )
        .await;
    assert_eq!(report_photo, 640, "the sample photo itself is shown");
    let confirmation = b
        .until(
            "Butler's confirmation under the report",
            "const m = msg(arguments[0], 'Received: ticket #1'); return m && m.querySelector('.quote').innerText;",
            json!([GROUP]),
        )
        .await;
    assert!(
        confirmation
            .as_str()
            .is_some_and(|q| q.contains("Li Na") && q.contains("/repair the kitchen tap")),
        "the confirmation quotes the report: {confirmation}"
    );
    let card = b
        .until(
            "the ticket card in the engineering chat, where plumbing goes",
            "const m = msg(arguments[0], '#1 · Plumbing'); return m && bubbleText(m);",
            json!([ENGINEERING]),
        )
        .await;
    let card = card.as_str().unwrap_or("");
    assert!(card.contains("Sunrise Garden"), "{card}");
    assert!(card.contains("unit 3-1201 · Li Na"), "{card}");
    assert!(card.contains("the kitchen tap is leaking"), "{card}");
    assert_eq!(
        b.js(
            "return [...msg(arguments[0], '#1 · Plumbing').querySelectorAll('.kb')].map((k) => k.innerText.trim());",
            json!([ENGINEERING])
        )
        .await,
        json!(["Take", "Assign"])
    );
    let relayed = b
        .until(
            "the report's photo under the card",
            "const m = msg(arguments[0], '#1 — photo from the report'); return m && photoShown(m.querySelector('img.photo'));",
            json!([ENGINEERING]),
        )
        .await;
    assert_eq!(relayed, 640, "the staff see the owner's own photo");

    // Sun Qiang takes it: the toast, the card, the owner told.
    b.click(
        "Take on the card",
        "return button(arguments[0], '#1 · Plumbing', 'Take');",
        json!([ENGINEERING]),
    )
    .await;
    b.until(
        "the toast answering Take",
        "return toastText(arguments[0]) === '#1 is yours.';",
        json!([ENGINEERING]),
    )
    .await;
    b.until(
        "the card shows who took it",
        "const m = msg(arguments[0], '#1 · Plumbing'); return m && bubbleText(m).includes('Status: taken by Sun Qiang') && m.querySelectorAll('.kb').length === 1;",
        json!([ENGINEERING]),
    )
    .await;
    b.until(
        "the owner hears who is coming",
        "return msg(arguments[0], 'Ticket #1: Sun Qiang is taking care of it.');",
        json!([GROUP]),
    )
    .await;

    // Progress: clicking the card makes the reply; a photo goes with it.
    b.click(
        "the card, to reply to it",
        "const m = msg(arguments[0], '#1 · Plumbing'); return m && m.querySelector('.bubble');",
        json!([ENGINEERING]),
    )
    .await;
    let replying = b
        .until(
            "the reply bar",
            "const r = inPane(arguments[0], '.reply-bar'); return !r.hidden && r.innerText;",
            json!([ENGINEERING]),
        )
        .await;
    assert!(
        replying
            .as_str()
            .is_some_and(|r| r.contains("Reply to Butler") && r.contains("#1 · Plumbing")),
        "{replying}"
    );
    attach_sample(b, ENGINEERING, "tap-fixed.jpg").await;
    type_and_send(b, ENGINEERING, "washer replaced").await;
    let update = b
        .until(
            "the progress photo under the owner's report",
            "const m = msg(arguments[0], 'update from Sun Qiang'); return m && photoShown(m.querySelector('img.photo')) && bubbleText(m);",
            json!([GROUP]),
        )
        .await;
    assert!(
        update
            .as_str()
            .is_some_and(|u| u.contains("Ticket #1 — update from Sun Qiang:\nwasher replaced")),
        "{update}"
    );
    b.until(
        "staff are told it was sent",
        "return msg(arguments[0], 'Sent to the owner of #1.');",
        json!([ENGINEERING]),
    )
    .await;

    // Done: the owner is asked, neutrally, for a score.
    b.click(
        "Done on the card",
        "return button(arguments[0], '#1 · Plumbing', 'Done');",
        json!([ENGINEERING]),
    )
    .await;
    b.until(
        "the toast answering Done",
        "return toastText(arguments[0]) === '#1 is done. The owner has been asked for a rating.';",
        json!([ENGINEERING]),
    )
    .await;
    let scores = b
        .until(
            "the rating question with its buttons",
            "const m = msg(arguments[0], 'How satisfied are you'); return m && [...m.querySelectorAll('.kb')].map((k) => k.innerText.trim());",
            json!([GROUP]),
        )
        .await;
    assert_eq!(scores, json!(["1", "2", "3", "4", "5", "Not fixed yet"]));

    // Chen Jie is not the reporter: the alert says so and nothing changes.
    b.click(
        "Chen Jie, to act as her",
        "return inPane(arguments[0], '.chip[data-user=\"102\"]');",
        json!([GROUP]),
    )
    .await;
    b.click(
        "5 under the question",
        "return button(arguments[0], 'How satisfied are you', '5');",
        json!([GROUP]),
    )
    .await;
    let alert = b
        .until(
            "the alert for someone else's ticket",
            "const a = inPane(arguments[0], '.alert'); return !a.hidden && a.innerText;",
            json!([GROUP]),
        )
        .await;
    assert!(
        alert.as_str().is_some_and(|a| !a.trim().is_empty()),
        "{alert}"
    );
    b.click(
        "OK on the alert",
        "return inPane(arguments[0], '.alert-ok');",
        json!([GROUP]),
    )
    .await;

    // Li Na rates 5: the question becomes the thanks, the card shows the score.
    b.click(
        "Li Na, to act as her",
        "return inPane(arguments[0], '.chip[data-user=\"101\"]');",
        json!([GROUP]),
    )
    .await;
    b.click(
        "5 under the question",
        "return button(arguments[0], 'How satisfied are you', '5');",
        json!([GROUP]),
    )
    .await;
    b.until(
        "the toast thanking for the rating",
        "return toastText(arguments[0]) === 'Thank you for your rating.';",
        json!([GROUP]),
    )
    .await;
    b.until(
        "the question edited to the thanks",
        "const m = msg(arguments[0], 'Thank you. You rated #1: ★★★★★ (5/5).'); return m && m.querySelectorAll('.kb').length === 0 && m.querySelector('.edited');",
        json!([GROUP]),
    )
    .await;
    b.until(
        "the card shows the score",
        "const m = msg(arguments[0], '#1 · Plumbing'); return m && bubbleText(m).includes('rated 5/5');",
        json!([ENGINEERING]),
    )
    .await;

    // A picture of the finished loop, with the card in view (the README shows one:
    // BUTLER_SANDBOX_SCREENSHOT=docs/sandbox.png renews it).
    b.until(
        "the toasts gone",
        "return [...document.querySelectorAll('.toast')].every((t) => t.hidden);",
        json!([]),
    )
    .await;
    b.js(
        "msg(arguments[0], '#1 · Plumbing').scrollIntoView({ block: 'start' });",
        json!([ENGINEERING]),
    )
    .await;
    let shot = std::env::var_os("BUTLER_SANDBOX_SCREENSHOT").map_or_else(
        || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sandbox.png"),
        PathBuf::from,
    );
    b.screenshot(&shot).await;
    eprintln!("screenshot: {}", shot.display());

    page.close().await;
}

#[tokio::test]
async fn the_clock_brings_the_summary_and_the_greeting_the_language_switch_speaks_chinese_and_reset_starts_afresh()
 {
    let Some(page) = Page::open_seeded().await else {
        return;
    };
    let b = &page.browser;
    b.click(
        "Jump to 18:00",
        "return document.querySelector('#jump-evening');",
        json!([]),
    )
    .await;
    b.until(
        "the clock at 18:00",
        "return document.querySelector('#clock-time').innerText === '18:00';",
        json!([]),
    )
    .await;
    // The one sent at 18:00: a sandbox started after 18:00 sends that day's summary at
    // once, and the jump goes to the next day's.
    let summary = b
        .until(
            "the daily summary in the staff chat, at 18:00",
            "const m = msg(arguments[0], 'Daily summary'); return m && bubbleText(m).endsWith('18:00') && bubbleText(m);",
            json!([STAFF_CHAT]),
        )
        .await;
    assert!(
        summary
            .as_str()
            .is_some_and(|s| s.contains("New today: 0") && s.ends_with("18:00")),
        "the summary, sent at 18:00 sandbox time: {summary}"
    );
    b.click(
        "Jump to 08:00",
        "return document.querySelector('#jump-morning');",
        json!([]),
    )
    .await;
    b.until(
        "the morning greeting in the owner group, at 08:00",
        "const m = msg(arguments[0], 'Good morning, Sunrise Garden!'); return m && bubbleText(m).endsWith('08:00') && document.querySelector('#clock-time').innerText === '08:00';",
        json!([GROUP]),
    )
    .await;

    // 中文: the labels, the personas' apps, the group and the staff chat. The group's
    // language is set without a word in it: the switch is the page's, not the manager's.
    let before = b
        .js("return msgs(arguments[0]).length;", json!([GROUP]))
        .await;
    b.click(
        "the 中文 switch",
        "return document.querySelector('.lang button[data-lang=\"zh-CN\"]');",
        json!([]),
    )
    .await;
    b.until(
        "the page in Chinese, the switch done",
        "return inPane(arguments[0], '.send-label').innerText === '发送' && document.querySelector('#busy').hidden;",
        json!([GROUP]),
    )
    .await;
    b.click(
        "Jump to 08:00",
        "return document.querySelector('#jump-morning');",
        json!([]),
    )
    .await;
    b.until(
        "the next greeting in the group's new language",
        "return msg(arguments[0], '的各位业主，早上好！');",
        json!([GROUP]),
    )
    .await;
    let said = b
        .js(
            "return msgs(arguments[0]).slice(arguments[1]).map((m) => bubbleText(m));",
            json!([GROUP, before]),
        )
        .await;
    let said: Vec<String> = serde_json::from_value(said).unwrap();
    assert!(
        said.iter()
            .all(|m| !m.contains("/lang") && !m.contains("语言已设为中文")),
        "no /lang posted for the switch: {said:?}"
    );
    assert_eq!(said.len(), 1, "only the greeting came: {said:?}");
    type_and_send(b, STAFF_CHAT, "/open").await;
    b.until(
        "the staff chat answers in Chinese",
        "return msg(arguments[0], '没有未完成的工单。');",
        json!([STAFF_CHAT]),
    )
    .await;

    // Reset: after the page's "are you sure?", fresh chats, seeded again in Chinese.
    b.click(
        "Reset",
        "return document.querySelector('#reset');",
        json!([]),
    )
    .await;
    b.accept_alert().await;
    // Nothing else but what the scheduler catches up on: a sandbox reset within an hour
    // after 08:00 or 18:00 (its clock is the real one) sends that greeting or summary.
    b.until(
        "the group registered again, in Chinese, and nothing else",
        "const besides = (chat, caughtUp) => msgs(chat).filter((m) => !bubbleText(m).includes(caughtUp)); \
         return msg(arguments[0], '本群已登记为') && msg(arguments[0], '您的房号已设为 5-0802。') \
           && besides(arguments[0], '早上好').length === 6 && besides(arguments[1], '每日小结').length === 0 \
           && document.querySelector('#busy').hidden;",
        json!([GROUP, STAFF_CHAT]),
    )
    .await;

    // A photo of one's own, uploaded: ticket #1 again in the fresh database, with it.
    let picture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sandbox/samples/ceiling-stain.jpg");
    b.type_into(
        "the upload field",
        "return inPane(arguments[0], '.upload input[type=file]');",
        json!([GROUP]),
        &picture.display().to_string(),
    )
    .await;
    b.until(
        "the upload waiting in the composer",
        "const a = inPane(arguments[0], '.attach-bar'); return !a.hidden && a.innerText.includes('ceiling-stain.jpg');",
        json!([GROUP]),
    )
    .await;
    type_and_send(b, GROUP, "/repair 天花板漏水").await;
    b.until(
        "the uploaded photo in the report, and ticket #1 confirmed",
        "const m = msg(arguments[0], '/repair 天花板漏水'); return m && photoShown(m.querySelector('img.photo')) === 640 && msg(arguments[0], '已收到：工单 #1');",
        json!([GROUP]),
    )
    .await;
    four_panes_fit_a_laptop_and_stack_on_a_phone(b).await;

    page.close().await;
}

#[tokio::test]
async fn the_chart_is_the_real_picture_the_export_downloads_as_a_workbook_and_a_phone_sees_it_all()
{
    let Some(page) = Page::open_seeded().await else {
        return;
    };
    let b = &page.browser;

    // The weekly chart Butler draws is the picture itself, not the stand-in.
    type_and_send(b, STAFF_CHAT, "/stats chart").await;
    let chart = b
        .until(
            "the chart in the staff chat",
            "const m = msgs(arguments[0]).reverse().find((m) => m.classList.contains('from-bot') && m.querySelector('img.photo')); \
             const img = m && m.querySelector('img.photo'); \
             return img && photoShown(img) && { width: img.naturalWidth, src: img.getAttribute('src') };",
            json!([STAFF_CHAT]),
        )
        .await;
    assert!(
        chart["width"].as_i64().unwrap() > 320,
        "not the 320 px stand-in: {chart}"
    );
    let src = chart["src"].as_str().unwrap();
    let served = fetch(b, src).await;
    assert_eq!(served["type"], "image/png", "the chart itself: {served}");

    // The manager exports: a file bubble with the workbook's name, size and a link that
    // downloads a workbook.
    b.click(
        "Zhou Yan, to act as the manager",
        "return inPane(arguments[0], '.chip[data-user=\"901\"]');",
        json!([STAFF_CHAT]),
    )
    .await;
    type_and_send(b, STAFF_CHAT, "/export").await;
    let link = b
        .until(
            "the export's file bubble",
            "const a = inPane(arguments[0], 'a.file[download]'); \
             return a && { href: a.getAttribute('href'), download: a.getAttribute('download'), \
                           name: a.querySelector('.file-name').innerText, size: a.querySelector('.file-size').innerText };",
            json!([STAFF_CHAT]),
        )
        .await;
    let name = link["name"].as_str().unwrap();
    assert!(name.ends_with(".xlsx"), "{link}");
    assert_eq!(link["download"], link["name"], "{link}");
    assert!(link["size"].as_str().unwrap().ends_with("KB"), "{link}");
    let served = fetch(b, link["href"].as_str().unwrap()).await;
    assert_eq!(
        served["type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        served["disposition"]
            .as_str()
            .unwrap()
            .starts_with("attachment"),
        "{served}"
    );
    let bytes: Vec<u8> = serde_json::from_value(served["bytes"].clone()).unwrap();
    let workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("a valid XLSX");
    let sheets = calamine::Reader::sheet_names(&workbook);
    assert!(sheets.iter().any(|s| s == "Tickets"), "{sheets:?}");

    // A phone, 390 × 844: the header, the chart and the file bubble fit; nothing is wider
    // than the screen.
    let (w, h) = wd("window size", b.client.get_window_size()).await;
    let inner = b
        .js("return innerWidth;", json!([]))
        .await
        .as_i64()
        .unwrap();
    let frame = w as i64 - inner;
    let inner_h = b
        .js("return innerHeight;", json!([]))
        .await
        .as_i64()
        .unwrap();
    let frame_h = h as i64 - inner_h;
    wd(
        "a phone's screen",
        b.client
            .set_window_size((390 + frame) as u32, (844 + frame_h) as u32),
    )
    .await;
    nothing_wider_than_the_screen(b, 390).await;

    page.close().await;
}

/// `url` fetched by the page: its type, disposition and bytes.
async fn fetch(b: &Browser, url: &str) -> Value {
    let script = "const done = arguments[arguments.length - 1]; \
        fetch(arguments[0]).then((r) => r.arrayBuffer().then((buf) => done({ \
            status: r.status, type: r.headers.get('content-type'), \
            disposition: r.headers.get('content-disposition'), \
            bytes: Array.from(new Uint8Array(buf)) }))).catch((e) => done({ error: String(e) }));";
    let got = wd("fetch", b.client.execute_async(script, vec![json!(url)])).await;
    assert_eq!(got["status"], 200, "{url}: {}", got["error"]);
    got
}

/// Waits until the page is `width` px wide, then checks that no element reaches past
/// either edge and the page does not scroll sideways.
async fn nothing_wider_than_the_screen(b: &Browser, width: i64) {
    let check = "const W = document.documentElement.clientWidth; \
        const wide = [...document.querySelectorAll('body *')].filter((e) => { \
            const r = e.getBoundingClientRect(); \
            return r.width > 0 && r.height > 0 && (r.right > W + 0.5 || r.left < -0.5); }) \
          .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().left)}..${Math.round(e.getBoundingClientRect().right)}`); \
        return innerWidth === arguments[0] && { width: W, scroll: document.documentElement.scrollWidth, \
                 body: document.body.scrollWidth, wide: wide.slice(0, 12) };";
    let seen = b
        .until("the page at a phone's width", check, json!([width]))
        .await;
    assert!(
        seen["scroll"].as_i64().unwrap() <= width && seen["body"].as_i64().unwrap() <= width,
        "no sideways scrolling: {seen}"
    );
    assert_eq!(
        seen["wide"],
        json!([]),
        "elements past the screen's edge: {seen}"
    );
}

/// The four chats side by side in the laptop's 1440 px, nothing cut off; on a 390 px
/// phone one above the other, nothing wider than the screen.
async fn four_panes_fit_a_laptop_and_stack_on_a_phone(b: &Browser) {
    const LAYOUT: &str = "const ps = [...document.querySelectorAll('.pane')].map((p) => p.getBoundingClientRect()); \
        return { panes: ps.length, page: document.documentElement.scrollWidth, width: innerWidth, \
                 lefts: ps.map((r) => Math.round(r.left)), tops: ps.map((r) => Math.round(r.top)), \
                 rights: ps.map((r) => Math.round(r.right)) };";
    let wide = b.js(LAYOUT, json!([])).await;
    assert_eq!(wide["panes"], 4, "{wide}");
    let width = wide["width"].as_i64().unwrap();
    assert!(wide["page"].as_i64().unwrap() <= width, "{wide}");
    let rights: Vec<i64> = serde_json::from_value(wide["rights"].clone()).unwrap();
    assert!(
        rights.iter().all(|r| *r <= width),
        "every pane in view: {wide}"
    );
    let tops: Vec<i64> = serde_json::from_value(wide["tops"].clone()).unwrap();
    assert!(
        tops.windows(2).all(|t| t[0] == t[1]),
        "side by side: {wide}"
    );

    let (w, h) = wd("window size", b.client.get_window_size()).await;
    let frame = w as i64 - width;
    wd(
        "a phone's width",
        b.client.set_window_size((390 + frame) as u32, h as u32),
    )
    .await;
    let phone = b
        .until(
            "the page at a phone's width",
            &format!("const l = (() => {{ {LAYOUT} }})(); return l.width === 390 && l;"),
            json!([]),
        )
        .await;
    assert!(
        phone["page"].as_i64().unwrap() <= 390,
        "no sideways scrolling: {phone}"
    );
    let rights: Vec<i64> = serde_json::from_value(phone["rights"].clone()).unwrap();
    assert!(rights.iter().all(|r| *r <= 390), "{phone}");
    let tops: Vec<i64> = serde_json::from_value(phone["tops"].clone()).unwrap();
    assert!(tops.windows(2).all(|t| t[0] < t[1]), "stacked: {phone}");
    nothing_wider_than_the_screen(b, 390).await;
    wd(
        "back to the laptop",
        b.client.set_window_size(w as u32, h as u32),
    )
    .await;
}

#[test]
fn the_sandbox_will_not_replace_butlers_own_database_nor_start_in_an_unknown_language() {
    let dir = temp_dir();
    let config = dir.path().join("butler.toml");
    let db = dir.path().join("butler.db");
    std::fs::write(
        &config,
        format!("database_url = \"sqlite://{}\"\n", db.display()),
    )
    .expect("writing butler.toml");
    let run = |args: &[&str]| {
        butler_with_config(&config, dir.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("running butler")
    };
    let own = run(&["sandbox", "--port", "0", "--db", db.to_str().unwrap()]);
    assert!(!own.status.success());
    let err = String::from_utf8_lossy(&own.stderr);
    assert!(err.contains("is Butler's own database"), "{err}");
    assert!(!db.exists(), "nothing was created in its place");

    let lang = run(&["sandbox", "--lang", "fr"]);
    assert!(!lang.status.success());
    let err = String::from_utf8_lossy(&lang.stderr);
    assert!(err.contains("unknown locale \"fr\""), "{err}");
}

#[test]
fn the_sandbox_will_not_delete_a_file_it_did_not_make() {
    let dir = temp_dir();
    let config = dir.path().join("butler.toml");
    std::fs::write(&config, "timezone = \"Asia/Shanghai\"\n").expect("writing butler.toml");
    let precious = dir.path().join("thesis.db");
    std::fs::write(&precious, "four years of work").expect("writing a file");
    let out = butler_with_config(&config, dir.path())
        .args(["sandbox", "--port", "0", "--db", precious.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .expect("running butler");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a sandbox database"), "{err}");
    let kept = std::fs::read_to_string(&precious).expect("the file is still there");
    assert_eq!(kept, "four years of work");
}
