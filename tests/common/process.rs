//! The `butler` binary as the tests start it: a command with the environment a test
//! needs, a running process that logs to a file, and a temporary directory to run in.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use super::cast::TOKEN;

/// A fresh temporary directory, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

/// The binary under test, as a command (nothing set yet).
pub fn butler_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_butler"))
}

/// The binary, run in `dir` with `--config config` and the arguments after it, to be
/// started with [`Process::spawn`].
pub fn butler_with_config(config: &Path, dir: &Path) -> Command {
    let mut command = butler_command();
    command.arg("--config").arg(config).current_dir(dir);
    command
}

/// Sets what talking to the Bot API emulator at `api_url` takes: the token, the URL, and
/// no proxy for the loopback address.
pub fn on_emulator(command: &mut Command, api_url: &str) {
    command
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", api_url)
        .env("NO_PROXY", "127.0.0.1,localhost");
}

/// Plain logs at the level in the environment variable `var` (`default` when unset).
pub fn log_level(command: &mut Command, var: &str, default: &str) {
    command.env("NO_COLOR", "1").env(
        "RUST_LOG",
        std::env::var(var).unwrap_or_else(|_| default.into()),
    );
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A running `butler` whose stderr goes to a log file. Killed (SIGKILL) when dropped.
pub struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `command` with its stderr appended to `log` (created when missing: a
    /// restarted process goes on in the same file) and stdin closed; stdout is dropped
    /// unless `piped`.
    pub fn spawn(command: &mut Command, log: &Path, piped: bool) -> Process {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("opening the log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(if piped { Stdio::piped() } else { Stdio::null() })
            .stderr(file)
            .spawn()
            .expect("starting the butler binary");
        Process {
            child,
            log: log.to_owned(),
        }
    }

    /// The first line the process prints on stdout (it must be piped), waiting at most
    /// `timeout`; empty if none came.
    pub fn first_line(&mut self, timeout: Duration) -> String {
        let stdout = self.child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        rx.recv_timeout(timeout).unwrap_or_default()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// What the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log(), lines)
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no shutdown, nothing flushed, as a crash or a power cut.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as Ctrl-C or a service manager stops it, and wait for the exit (at most
    /// 20 s).
    pub async fn stop(&mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("running kill(1) to send SIGTERM");
        assert!(sent.success(), "kill -TERM failed: {sent:?}");
        for _ in 0..400 {
            if let Some(status) = self.child.try_wait().expect("waiting for butler") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "butler did not stop within 20 s of SIGTERM\n{}",
            self.log_tail(30)
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}
