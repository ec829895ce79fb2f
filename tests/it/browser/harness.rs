//! Headless Chromium driven over WebDriver (chromedriver from Debian), for tests of the real
//! admin page served by the real daemon.

use fantoccini::{Client, ClientBuilder, Locator};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Starts chromedriver and a headless Chromium; `None` (with a notice) when they are not
/// installed (`.ci/run` installs them, so CI always runs these tests).
pub async fn start() -> Option<Browser> {
    let (Some(chromium), Some(driver_bin)) = (which("chromium"), which("chromedriver")) else {
        eprintln!(
            "notice: chromium / chromedriver not installed (apt-get install chromium chromium-driver); skipping the browser test"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, so a failed test can end the driver and its browsers at once.
        .process_group(0)
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,800",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot start a browser session: {e}"),
        }
    };
    Some(Browser { client, driver, _profile: profile })
}

fn which(name: &str) -> Option<String> {
    ["/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(|d| format!("{d}/{name}"))
        .find(|p| std::path::Path::new(p).exists())
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Waits (up to 10 s) for an element matching the CSS selector.
    pub async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element `{css}` appeared: {e}"))
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.wait(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.wait(css).await.click().await.unwrap();
    }

    /// The element's text; retried when the page redraws the element while it is read.
    pub async fn text(&self, css: &str) -> String {
        for _ in 0..50 {
            if let Ok(t) = self.wait(css).await.text().await {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` kept changing under the reader");
    }

    /// Waits until the element's text contains `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let t = self.text(css).await;
            if t.contains(needle) {
                return;
            }
            if Instant::now() > deadline {
                panic!("`{css}` never said `{needle}`; it says `{t}`");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    /// Saves a screenshot (handy when a step fails).
    pub async fn screenshot(&self, path: &std::path::Path) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(path, png);
        }
    }

    /// Errors the page logged (CSP violations show up here).
    pub async fn console_errors(&self) -> Vec<String> {
        let script = "return (window.__adeboxErrors || []).slice()";
        match self.client.execute(script, vec![]).await {
            Ok(serde_json::Value::Array(v)) => v.into_iter().map(|e| e.to_string()).collect(),
            _ => vec![],
        }
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Drop ends the driver's process group.
    }
}

impl Drop for Browser {
    /// A test that panics never reaches `close`: end chromedriver and the browsers it started
    /// (its process group) so none is left running.
    fn drop(&mut self) {
        let pgid = nix::unistd::Pid::from_raw(self.driver.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}
