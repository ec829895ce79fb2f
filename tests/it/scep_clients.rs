//! SCEP against clients nobody here wrote, run as separate programs against the running
//! daemon, with the one-time challenge the enrollment flow hands an iOS 15 device:
//!
//! - micromdm's `scepclient` 2.1.0 (Debian `scep`) reads GetCACaps and GetCACert, encrypts
//!   its request to every certificate of the answer (it crashed on the ECDSA appliance CA
//!   before GetCACert answered RSA certificates only) and always uses single DES, which the
//!   server refuses with failInfo `badAlg` naming the cipher. The refusal does not burn the
//!   challenge: the request could not be read.
//! - certmonger (Debian `certmonger`) enrolls end to end with that same challenge: its daemon
//!   makes the key, the CSR with the challengePassword and the PKCSReq (AES, a self-signed
//!   signer with a 32-byte serial), its `scep-submit` helper fetches GetCACaps and GetCACert
//!   and checks the CertRep's signature against the SCEP CA of the answer, and the daemon
//!   decrypts the issued certificate. certmonger 0.79.17's `scep-submit` drops its TLS trust
//!   file after the first request (curl error 60 on PKIOperation), so it talks plain HTTP to
//!   a forwarder in this test that passes the bytes on to the daemon's HTTPS `/scep`
//!   unchanged; SCEP protects its messages itself (RFC 8894 §4.1).
//!
//! Each test skips with a notice naming the Debian package when its program is absent;
//! `.ci/run` installs both.

use crate::common::*;
use crate::enroll::fleet_with_default_profile;
use crate::scep::{old_device, pki, scep_profile};
use adebox::crypto::chain::{TrustAnchors, verify_chain};
use reqwest::StatusCode;
use std::path::Path;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;

/// The first of `paths` that exists.
fn find(paths: &[&str]) -> Option<String> {
    paths.iter().find(|p| Path::new(p).exists()).map(|p| p.to_string())
}

/// Runs `cmd` in its own process group, ending the group if it outlives `limit`; returns its
/// exit status and its stdout and stderr together.
async fn run(mut cmd: Command, limit: Duration) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null()).process_group(0);
    tokio::task::spawn_blocking(move || {
        let child = cmd.spawn().expect("the client starts");
        let pid = child.id();
        let (done, waited) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            let late = waited.recv_timeout(limit).is_err();
            if late {
                // The whole group: the client and anything it started.
                let _ = Command::new("kill").arg("--").arg(format!("-{pid}")).status();
            }
            late
        });
        let out = child.wait_with_output().unwrap();
        let _ = done.send(());
        assert!(!watchdog.join().unwrap(), "the client did not finish within {limit:?}");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    })
    .await
    .unwrap()
}

/// The refusal list's entries with `reason`.
async fn refusals(page: &Page, reason: &str) -> Vec<serde_json::Value> {
    let (s, body) = page.get("/api/v1/enrollment/refusals").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let items = body["items"].as_array().cloned().unwrap_or_default();
    items.into_iter().filter(|r| r["reason"] == reason).collect()
}

#[tokio::test]
async fn micromdm_scepclient_reads_the_ca_and_gets_bad_alg_for_single_des() {
    let Some(scepclient) = find(&["/usr/bin/scepclient"]) else {
        eprintln!("notice: scepclient not installed (apt-get install scep); skipping");
        return;
    };
    let pki = pki();
    let (d, page, _, serials) = fleet_with_default_profile(&pki, 4).await;
    let device = old_device(&serials[0]);
    let (url, challenge, cn) = scep_profile(&d, &pki, &device).await;

    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("appliance-ca.pem"), d.ca_pem()).unwrap();
    let mut cmd = Command::new(&scepclient);
    cmd.current_dir(work.path())
        // Go reads its TLS roots from here: the appliance CA, as the profile installs it.
        .env("SSL_CERT_FILE", work.path().join("appliance-ca.pem"))
        .args(["-server-url", &url, "-challenge", &challenge, "-cn", &cn, "-debug"])
        .args(["-private-key", "key.pem", "-certificate", "cert.pem"]);
    let (code, out) = run(cmd, Duration::from_secs(120)).await;

    assert!(!out.contains("panic"), "scepclient crashed:\n{out}");
    assert!(out.contains("cacertlist count=2"), "GetCACert: the RA and its CA\n{out}");
    for name in ["CN=adebox SCEP RA", "CN=adebox SCEP CA"] {
        assert!(out.contains(name), "{name} missing:\n{out}");
    }
    assert!(out.contains("failInfo: badAlg"), "single DES is refused with badAlg:\n{out}");
    assert_ne!(code, Some(0), "{out}");
    assert!(!work.path().join("cert.pem").exists(), "no certificate for a refused request");

    let refused = refusals(&page, "scep_unsupported_algorithm").await;
    let [entry] = refused.as_slice() else { panic!("one badAlg refusal expected: {refused:?}") };
    let words = entry["message"].as_str().unwrap_or_default();
    assert!(words.contains("DES-CBC (1.3.14.3.2.7)"), "{entry}");
    assert!(!words.contains("RA key"), "{entry}");
    assert_eq!(words.matches("SCEP request refused").count(), 1, "{entry}");

    // The challenge was inside the unreadable request: it still works once.
    let ra = crate::scep::ra_of(&d, &url).await;
    let rep = crate::scep::request(&d, &url, &ra, &cn, &challenge, false).await;
    assert!(matches!(rep, adebox::crypto::scep::client::CertRep::Issued(_)), "{rep:?}");
}

#[tokio::test]
async fn certmonger_enrolls_with_the_challenge_of_the_enrollment_profile() {
    let tools = (
        find(&["/usr/sbin/certmonger"]),
        find(&["/usr/bin/getcert"]),
        find(&["/usr/lib/certmonger/scep-submit", "/usr/libexec/certmonger/scep-submit"]),
        find(&["/usr/bin/dbus-run-session"]),
    );
    let (Some(certmonger), Some(getcert), Some(_), Some(dbus_run_session)) = tools else {
        eprintln!(
            "notice: certmonger or dbus not installed (apt-get install certmonger); skipping"
        );
        return;
    };
    let pki = pki();
    let (d, page, _, serials) = fleet_with_default_profile(&pki, 4).await;
    let device = old_device(&serials[0]);
    let (url, challenge, cn) = scep_profile(&d, &pki, &device).await;
    assert_eq!(url, d.url("/scep"));
    let forwarder = forward_plain_http(d.url("/scep"), d.ca_pem()).await;

    // Everything certmonger keeps goes to a temporary folder, never /var/lib/certmonger.
    let work = tempfile::tempdir().unwrap();
    let dir = |name: &str| {
        let p = work.path().join(name);
        std::fs::create_dir_all(&p).unwrap();
        p.display().to_string()
    };
    let script = r#"
        "$CERTMONGER" -s -n -d 1 > "$WORK/certmonger.log" 2>&1 &
        pid=$!
        trap 'kill $pid' EXIT
        for _ in $(seq 50); do "$GETCERT" list-cas -s > /dev/null 2>&1 && break; sleep 0.2; done
        "$GETCERT" add-scep-ca -s -c adebox -u "$SCEP_URL" || exit 10
        "$GETCERT" request -s -c adebox -f "$WORK/cert.pem" -k "$WORK/key.pem" \
            -L "$CHALLENGE" -N "CN=$CN" -w -v
        "$GETCERT" list -s
    "#;
    // A session bus without service directories: with them, the first `getcert` could have
    // the bus start another certmonger by activation, which takes the well-known name before
    // ours and works without our log (it happened under load).
    let bus_config = work.path().join("session.conf");
    std::fs::write(&bus_config, SESSION_BUS_WITHOUT_ACTIVATION).unwrap();
    let mut cmd = Command::new(dbus_run_session);
    cmd.arg(format!("--config-file={}", bus_config.display()))
        .args(["--", "sh", "-c", script])
        .env("CERTMONGER", certmonger)
        .env("GETCERT", getcert)
        .env("WORK", work.path())
        .env("HOME", dir("home"))
        .env("SCEP_URL", format!("http://{forwarder}/scep"))
        .env("CHALLENGE", &challenge)
        .env("CN", &cn)
        .env("CERTMONGER_REQUESTS_DIR", dir("requests"))
        .env("CERTMONGER_CAS_DIR", dir("cas"))
        .env("CERTMONGER_LOCAL_CA_DIR", dir("local"))
        .env("CERTMONGER_CONFIG_DIR", dir("config"))
        .env("TMPDIR", dir("tmp"));
    let (_, out) = run(cmd, Duration::from_secs(180)).await;
    let log = std::fs::read_to_string(work.path().join("certmonger.log")).unwrap_or_default();
    let (_, refused) = page.get("/api/v1/enrollment/refusals").await;
    let context = format!("{out}\n--- refusals ---\n{refused}\n--- certmonger log ---\n{log}");
    assert!(out.contains("status: MONITORING"), "certmonger got no certificate:\n{context}");
    assert!(log.contains("Server supports AES"), "it read GetCACaps:\n{context}");

    let pem = std::fs::read_to_string(work.path().join("cert.pem")).unwrap();
    let der = adebox::crypto::ca::pem_to_der(&pem).unwrap();
    let anchors = TrustAnchors::from_pem(std::str::from_utf8(&d.ca_pem()).unwrap()).unwrap();
    verify_chain(&der, &[], &anchors, None).expect("issued by the appliance CA");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let subject_cn = cert.subject().iter_common_name().next().unwrap().as_str().unwrap();
    assert_eq!(subject_cn, device.udid);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&der));
    let to = d.running().services.acme.device_for_certificate(&sha).await.unwrap().unwrap();
    assert_eq!(to.serial, device.serial, "recorded against the device the challenge was for");
}

/// A plain-HTTP listener on 127.0.0.1 passing each request to `target` (the daemon's HTTPS
/// `/scep`, trusting `ca_pem`) and the answer back, bytes unchanged. Returns its address.
async fn forward_plain_http(target: String, ca_pem: Vec<u8>) -> std::net::SocketAddr {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        let (target, ca_pem) = (target.clone(), ca_pem.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let url = format!("{target}?{}", req.query_string());
            let client = client_trusting(&ca_pem);
            async move {
                let sent = if req.method() == actix_web::http::Method::POST {
                    client.post(url).header("Content-Type", "application/x-pki-message").body(body)
                } else {
                    client.get(url)
                };
                let resp = sent.send().await.unwrap();
                let status = resp.status().as_u16();
                let ct = resp.headers().get("content-type").cloned();
                let bytes = resp.bytes().await.unwrap();
                let mut out =
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
                if let Some(ct) = ct {
                    out.insert_header(("Content-Type", ct.to_str().unwrap().to_string()));
                }
                out.body(bytes)
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    addr
}

/// Debian's session bus configuration without `<standard_session_servicedirs/>`: nothing is
/// started by activation, so the only certmonger on the bus is the one the test runs.
const SESSION_BUS_WITHOUT_ACTIVATION: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;
