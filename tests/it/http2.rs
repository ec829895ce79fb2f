//! Early answers over HTTP/2, checked with curl (a client nobody here wrote): a request whose
//! body is still uploading when the daemon answers 401, 403, 404, 413 or 415 gets that answer
//! and a cleanly closed stream. Before the daemon read what the handler left unread, the
//! stream was reset under the upload and curl reported "Stream error in the HTTP/2 framing
//! layer" (exit 92) instead of the answer. reqwest tolerates that reset, so it cannot catch it.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Command;

/// Bodies of this size are still uploading when the answer comes (the HTTP/2 windows are far
/// smaller), which is what made the reset visible.
const UPLOAD: usize = 3 * 1024 * 1024;

struct Curl {
    ca: tempfile::NamedTempFile,
    body: tempfile::NamedTempFile,
}

impl Curl {
    fn new(ca_pem: &[u8]) -> Option<Curl> {
        if !std::path::Path::new("/usr/bin/curl").exists() {
            eprintln!("notice: curl not installed (apt-get install curl); skipping");
            return None;
        }
        let ca = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca.path(), ca_pem).unwrap();
        let body = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(body.path(), vec![b'{'; UPLOAD]).unwrap();
        Some(Curl { ca, body })
    }

    /// Sends the large body with `method` to `url` over HTTP/2; curl's exit code, the status
    /// and the answer's JSON.
    fn send(&self, method: &str, url: &str, headers: &[String]) -> (i32, u16, Value) {
        let mut cmd = Command::new("/usr/bin/curl");
        cmd.args(["--http2", "--silent", "--show-error", "--max-time", "30", "--cacert"])
            .arg(self.ca.path())
            .args(["-X", method, "--data-binary"])
            .arg(format!("@{}", self.body.path().display()))
            .args(["--write-out", "\n%{http_code} %{http_version}"]);
        for h in headers {
            cmd.args(["-H", h]);
        }
        let out = cmd.arg(url).output().expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, trailer) = text.rsplit_once('\n').unwrap_or(("", &text));
        let mut parts = trailer.split(' ');
        let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        assert!(
            out.status.code() != Some(0) || parts.next() == Some("2"),
            "{method} {url}: curl did not speak HTTP/2: {trailer}"
        );
        let json = serde_json::from_str(body).unwrap_or(Value::String(body.to_string()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(0) {
            eprintln!("{method} {url}: curl: {stderr}");
        }
        (out.status.code().unwrap_or(-1), status, json)
    }
}

#[tokio::test]
async fn early_answers_close_the_stream_cleanly_over_http2() {
    let d = TestDaemon::start().await;
    let Some(curl) = Curl::new(&d.ca_pem()) else { return };
    let page = d.setup_admin().await;
    let (s, created) = page.post("/api/v1/admin/api-tokens", json!({"name": "h2"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let bearer = format!("Authorization: Bearer {}", created["token"].as_str().unwrap());
    let json_type = "Content-Type: application/json".to_string();

    let cases: Vec<(&str, String, Vec<String>, u16, &str)> = vec![
        ("PUT", d.url("/api/v1/nope"), vec![bearer.clone(), json_type.clone()], 404, "not_found"),
        ("POST", d.url("/nope"), vec![], 404, "not_found"),
        ("POST", d.url("/api/v1/tokens"), vec![json_type.clone()], 401, "unauthenticated"),
        // No client certificate: refused before the body is read.
        ("PUT", d.url("/mdm/unknown"), vec![], 403, "client_certificate_required"),
        // Read raw (`web::Bytes`) and over the device limit.
        ("PUT", d.url("/mdm/checkin"), vec![], 413, "payload_too_large"),
        (
            "POST",
            d.url("/api/v1/profiles"),
            vec![bearer.clone(), json_type],
            413,
            "payload_too_large",
        ),
        (
            "POST",
            d.url("/api/v1/profiles"),
            vec![bearer, "Content-Type: text/plain".into()],
            415,
            "unsupported_media_type",
        ),
    ];
    // Each a few times: whether the upload is still running when the answer comes is timing.
    for _ in 0..3 {
        for (method, url, headers, want, error) in &cases {
            let (code, status, body) = curl.send(method, url, headers);
            assert_eq!(code, 0, "{method} {url}: curl failed (status {status}, {body})");
            assert_eq!(status, *want, "{method} {url}: {body}");
            if !error.is_empty() {
                assert_eq!(body["error"], *error, "{method} {url}: {body}");
            }
        }
    }
    // The daemon still answers on new connections afterwards.
    assert_eq!(page.get("/api/v1/status").await.0, StatusCode::OK);
}
