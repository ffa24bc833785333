//! A real headless Chromium driven through Debian's chromedriver (WebDriver).
//!
//! Browser tests run whenever chromium and chromedriver are installed and say so when
//! they skip; with `PARLEY_TEST_REQUIRE_BROWSER=1` (set by `.ci/run`) a missing
//! browser fails the test instead.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use thirtyfour::prelude::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// One browser at a time: two cores do not run several Chromiums well.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Browser {
    /// Dropped first (fields drop in order): the session quits while chromedriver lives.
    pub driver: WebDriver,
    _processes: Processes,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// chromedriver, the Chromium it started, and Chromium's own profile directory.
struct Processes {
    chromedriver: Child,
    profile: tempfile::TempDir,
}

impl Drop for Processes {
    /// Ends chromedriver AND its Chromium: they share a process group of their own, so
    /// killing the group leaves no browser running after a test, even a failed one. The
    /// crash handler leaves the group; it is found by the profile path.
    fn drop(&mut self) {
        let group = format!("-{}", self.chromedriver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = Command::new("pkill").args(["-KILL", "-f", &self.profile.path().display().to_string()]).status();
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

/// Starts a browser, or returns `None` (after saying why) when none is installed.
pub async fn start(test: &str) -> Option<Browser> {
    let missing = [CHROMIUM, CHROMEDRIVER].into_iter().find(|p| !std::path::Path::new(p).exists());
    if let Some(path) = missing {
        if std::env::var("PARLEY_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("{test}: {path} is missing and PARLEY_TEST_REQUIRE_BROWSER=1");
        }
        // Straight to the process's stderr: the test harness captures `eprintln!` of a
        // passing test and would hide that it checked nothing.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED browser test {test}: {path} is not installed (apt-get install chromium chromium-driver)"
        );
        return None;
    }
    let turn = ONE_AT_A_TIME.lock().await;
    let profile = tempfile::tempdir().expect("a profile directory");
    let port = free_port();
    let chromedriver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .process_group(0)
        // Chromium's crash handler keeps its database under the config home: inside
        // the profile, so the cleanup finds it.
        .env("XDG_CONFIG_HOME", profile.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut caps = DesiredCapabilities::chrome();
    caps.add_arg(&format!("--user-data-dir={}", profile.path().display())).unwrap();
    caps.set_binary(CHROMIUM).unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-crash-reporter",
        "--disable-breakpad",
        "--window-size=1280,800",
    ] {
        caps.add_arg(arg).unwrap();
    }
    let driver = WebDriver::new(&url, caps).await.expect("a chromium session");
    Some(Browser { driver, _processes: Processes { chromedriver, profile }, _turn: turn })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Ends the session properly. Without it (a failed test), thirtyfour's synchronous
    /// teardown stalls for its two-minute timeout before the processes are killed.
    pub async fn finish(self) {
        let Browser { driver, _processes, _turn } = self;
        let _ = driver.quit().await;
    }

    /// Logs in through the console's login page and waits for the chat list.
    pub async fn log_in(&self, base: &str, email: &str, password: &str) {
        self.driver.goto(format!("{base}/login")).await.unwrap();
        self.wait_until("the login form", "document.querySelector('#login-email')").await;
        self.driver.find(By::Css("#login-email")).await.unwrap().send_keys(email).await.unwrap();
        self.driver.find(By::Css("#login-password")).await.unwrap().send_keys(password).await.unwrap();
        self.driver.find(By::Css("#login-submit")).await.unwrap().click().await.unwrap();
        self.wait_until("the chat list", "document.querySelector('[data-testid=chat-list]')").await;
    }

    /// Clicks the element matching `css` once it exists, as a person would.
    pub async fn click(&self, css: &str) {
        self.wait_until(css, &format!("document.querySelector({})", serde_json::to_string(css).unwrap())).await;
        // Live updates may re-render the element between finding and clicking it: find it again.
        for attempt in 0.. {
            let element = self.driver.find(By::Css(css)).await.unwrap();
            match element.click().await {
                Ok(()) => return,
                Err(e) if attempt < 5 && e.to_string().contains("stale") => continue,
                Err(e) => {
                    self.screenshot("click-failed").await;
                    panic!("cannot click {css}: {e}");
                }
            }
        }
    }

    /// Saves a screenshot as a test artifact in `tests/artifacts/NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        self.driver.screenshot(&dir.join(format!("{name}.png"))).await.unwrap();
    }

    /// Waits until `js` (a boolean expression) is true in the page.
    pub async fn wait_until(&self, what: &str, js: &str) {
        let script = format!("return !!({js});");
        for _ in 0..300 {
            if let Ok(r) = self.driver.execute(&script, Vec::new()).await
                && r.json().as_bool() == Some(true)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for: {what}");
    }

    /// Runs `js` and returns its JSON result.
    pub async fn eval(&self, js: &str) -> serde_json::Value {
        self.driver.execute(js, Vec::new()).await.unwrap().json().clone()
    }
}
