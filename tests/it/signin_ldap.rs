//! The user sign-in page with the LDAP directory, against a real OpenLDAP `slapd` (Debian's
//! `slapd`, installed by `.ci/run`) started here on 127.0.0.1 with its own configuration, data
//! and TLS certificate in a temporary folder: LDAPS, StartTLS and (ticked) plain LDAP, the
//! service-account search then user bind, `memberOf` and group-search membership, wrong
//! passwords, filter injection, a directory down or silent, the test-connection API, and the
//! bind password kept out of answers, the audit log, the logs and the store file.

use crate::common::*;
use crate::enroll::{fleet_with_profile_prepared, signed};
use crate::signin::{open, sign_in};
use adebox::sim::apple_pki::StandInApplePki;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const SUFFIX: &str = "dc=example,dc=org";
pub(crate) const SERVICE_DN: &str = "cn=adebox-reader,dc=example,dc=org";
pub(crate) const SERVICE_PASSWORD: &str = "reader-Pa55-xq7Zt";
const ROOT_PASSWORD: &str = "root-secret-9";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A CA and a server certificate for 127.0.0.1 / localhost it issued: (CA PEM, cert, key).
fn tls_files() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Example directory CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    leaf.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

/// Our own slapd: `ldap://` (plain and StartTLS) and `ldaps://` on free ports.
pub(crate) struct Slapd {
    child: Child,
    ldap: u16,
    pub(crate) ldaps: u16,
    pub(crate) ca_pem: String,
    _dir: tempfile::TempDir,
}

const DATA: &str = "\
dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
dn: cn=adebox-reader,dc=example,dc=org\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: adebox-reader\nuserPassword: reader-Pa55-xq7Zt\n\n\
dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n\
dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n\
dn: uid=alice,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice Liddell\nsn: Liddell\ndisplayName: Alice Liddell\nmail: alice@example.org\nuserPassword: alice-Secret-1\n\n\
dn: uid=bob,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob Builder\nsn: Builder\nmail: bob@example.org\nuserPassword: bob-Secret-1\n\n\
dn: cn=staff,ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: staff\nmember: uid=alice,ou=people,dc=example,dc=org\n\n\
dn: cn=builders,ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: builders\nmember: uid=bob,ou=people,dc=example,dc=org\n";

impl Slapd {
    /// Starts slapd and loads the users; fails when slapd is missing (`.ci/run` installs it).
    pub(crate) fn start() -> Slapd {
        let program = ["/usr/sbin/slapd", "/usr/local/sbin/slapd"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect(
                "slapd is not installed: apt-get install slapd ldap-utils (.ci/run installs them)",
            );
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name).display().to_string();
        let (ca_pem, cert, key) = tls_files();
        std::fs::write(p("cert.pem"), cert).unwrap();
        std::fs::write(p("key.pem"), key).unwrap();
        std::fs::create_dir(p("db")).unwrap();
        // The reader searches; users bind (auth) and read themselves; nobody else reads.
        let conf = format!(
            "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\ninclude /etc/ldap/schema/nis.schema\n\
             pidfile {}\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload memberof\n\
             TLSCertificateFile {}\nTLSCertificateKeyFile {}\n\
             database mdb\nsuffix \"{SUFFIX}\"\nrootdn \"cn=admin,{SUFFIX}\"\nrootpw {ROOT_PASSWORD}\n\
             directory {}\nmaxsize 10485760\noverlay memberof\n\
             access to attrs=userPassword by anonymous auth by * none\n\
             access to * by dn.exact=\"{SERVICE_DN}\" read by self read by * none\n",
            p("slapd.pid"),
            p("cert.pem"),
            p("key.pem"),
            p("db")
        );
        std::fs::write(p("slapd.conf"), conf).unwrap();
        let (ldap, ldaps) = (free_port(), free_port());
        let urls = format!("ldap://127.0.0.1:{ldap}/ ldaps://127.0.0.1:{ldaps}/");
        let child = Command::new(program)
            .args(["-f", &p("slapd.conf"), "-h", &urls, "-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let slapd = Slapd { child, ldap, ldaps, ca_pem, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new("ldapadd")
                .args(["-x", "-H", &format!("ldap://127.0.0.1:{ldap}")])
                .args(["-D", &format!("cn=admin,{SUFFIX}"), "-w", ROOT_PASSWORD])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .and_then(|mut c| {
                    use std::io::Write;
                    c.stdin.take().unwrap().write_all(DATA.as_bytes())?;
                    c.wait_with_output()
                })
                .expect("ldapadd runs (apt-get install ldap-utils)");
            if out.status.success() {
                return slapd;
            }
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(Instant::now() < deadline, "slapd did not take the data: {err}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The settings of `slapd` at `url`, trusting its CA.
fn settings(url: &str, ca_pem: &str) -> Value {
    json!({"url": url, "ca_pem": ca_pem, "bind_dn": SERVICE_DN,
           "user_base": format!("ou=people,{SUFFIX}")})
}

fn ldap_profile() -> Value {
    json!({"name": "Staff devices", "platforms": ["iOS", "iPadOS", "macOS"], "user_affinity": "with_affinity",
           "department": "Example School IT",
           "sign_in": {"source": "ldap", "allowed_groups": ["staff"]}})
}

async fn put(page: &Page, body: Value) -> (StatusCode, Value) {
    page.send(Method::PUT, "/api/v1/signin/ldap", Some(body)).await
}

fn steps(report: &Value) -> Vec<(String, bool)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap().to_string(), s["ok"].as_bool().unwrap()))
        .collect()
}

#[tokio::test]
async fn users_sign_in_with_the_ldap_directory_during_setup_assistant() {
    crate::secrets::capture_logs();
    let mut slapd = Slapd::start();
    let ldaps = format!("ldaps://127.0.0.1:{}", slapd.ldaps);
    let now = adebox::clock::Clock::system().now();
    let pki = std::sync::Arc::new(StandInApplePki::generate(now).unwrap());
    let clock = adebox::clock::Clock::system();
    let body =
        json!({"settings": settings(&ldaps, &slapd.ca_pem), "bind_password": SERVICE_PASSWORD});
    let prepare = async |page: &Page| {
        // A profile naming LDAP is refused until a directory is set up.
        let (s, v) = page.post("/api/v1/profiles", ldap_profile()).await;
        assert_eq!(
            (s, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("sign_in.source")),
            "{v}"
        );
        let (s, v) = put(page, body.clone()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    };
    let (d, page, _, serials) =
        fleet_with_profile_prepared(&pki, 4, clock, ldap_profile(), prepare).await;

    // The settings come back without the password.
    let (s, v) = page.get("/api/v1/signin/ldap").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["configured"].as_bool(), v["bind_password_set"].as_bool()),
        (Some(true), Some(true)),
        "{v}"
    );
    assert_eq!(v["settings"]["url"], ldaps.as_str());
    assert!(!v.to_string().contains(SERVICE_PASSWORD), "{v}");

    // Test connection: every step, a user looked up, then a wrong bind password and no CA.
    let (s, r) = page.post("/api/v1/signin/ldap/test", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let all_ok = ["reach", "tls", "bind", "search"].map(|s| (s.to_string(), true)).to_vec();
    assert_eq!((r["ok"].as_bool(), steps(&r)), (Some(true), all_ok), "{r}");
    let (_, r) = page.post("/api/v1/signin/ldap/test", json!({"username": "alice"})).await;
    let found = r["steps"][3]["detail"].as_str().unwrap();
    assert!(found.contains("Alice Liddell") && found.contains("staff"), "{r}");
    let (_, r) = page
        .post(
            "/api/v1/signin/ldap/test",
            json!({"settings": settings(&ldaps, &slapd.ca_pem), "bind_password": "not it at all"}),
        )
        .await;
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(steps(&r).last().unwrap(), &("bind".to_string(), false), "{r}");
    assert!(r["steps"][2]["detail"].as_str().unwrap().contains("invalid credentials"), "{r}");
    let mut untrusted = settings(&ldaps, "");
    untrusted["ca_pem"] = Value::Null;
    let (_, r) = page.post("/api/v1/signin/ldap/test", json!({"settings": untrusted})).await;
    assert_eq!(steps(&r), vec![("reach".into(), true), ("tls".into(), false)], "{r}");
    assert!(r["steps"][1]["detail"].as_str().unwrap().contains("not trusted"), "{r}");

    // Device 1: wrong password, an injection attempt, an empty password; then the right one.
    let form = open(&d, Some(&signed(&pki, &serials[0], "00008101-0021"))).await;
    assert_eq!(form.status, StatusCode::OK);
    for (user, password) in [("alice", "wrong-password"), ("*)(uid=*", "x"), ("alice", "")] {
        let wrong = sign_in(&d, &form, user, password).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{user}: {}", wrong.text());
    }
    let ok = sign_in(&d, &form, "alice", "alice-Secret-1").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.content_type, "application/x-apple-aspen-config");
    let (_, device) = page.get(&format!("/api/v1/devices/{}", serials[0])).await;
    assert_eq!(device["user"]["display_name"], "Alice Liddell", "{device}");
    assert_eq!(
        (device["user"]["email"].as_str(), device["user"]["source"].as_str()),
        (Some("alice@example.org"), Some("ldap")),
        "{device}"
    );

    // Device 2: bob is not in staff; then StartTLS signs alice in.
    let form2 = open(&d, Some(&signed(&pki, &serials[1], "00008101-0022"))).await;
    let refused = sign_in(&d, &form2, "bob", "bob-Secret-1").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(refused.text().contains("group"), "{}", refused.text());
    let plain = format!("ldap://127.0.0.1:{}", slapd.ldap);
    let (s, v) = put(&page, json!({"settings": settings(&plain, &slapd.ca_pem)})).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("settings.allow_plain_bind")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("clear text"), "{v}");
    let mut starttls = settings(&plain, &slapd.ca_pem);
    starttls["starttls"] = json!(true);
    let (s, v) = put(&page, json!({"settings": starttls})).await;
    assert_eq!(
        (s, v["bind_password_set"].as_bool()),
        (StatusCode::OK, Some(true)),
        "the password is kept: {v}"
    );
    let ok2 = sign_in(&d, &form2, "alice", "alice-Secret-1").await;
    assert_eq!(ok2.status, StatusCode::OK, "{}", ok2.text());

    // Device 3: plain LDAP once ticked, groups from a group search instead of memberOf.
    let mut cleartext = settings(&plain, &slapd.ca_pem);
    cleartext["allow_plain_bind"] = json!(true);
    cleartext["member_of_attribute"] = json!("");
    cleartext["group_base"] = json!(format!("ou=groups,{SUFFIX}"));
    let (s, v) = put(&page, json!({"settings": cleartext})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let form3 = open(&d, Some(&signed(&pki, &serials[2], "00008101-0023"))).await;
    let ok3 = sign_in(&d, &form3, "alice", "alice-Secret-1").await;
    assert_eq!(ok3.status, StatusCode::OK, "{}", ok3.text());

    // Device 4: a directory that accepts connections but never answers, then one that is
    // down: a clear page within 10 seconds each.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            kept.push(s);
        }
    });
    let mut mute = settings(&format!("ldap://127.0.0.1:{silent_port}"), &slapd.ca_pem);
    mute["allow_plain_bind"] = json!(true);
    let (s, v) = put(&page, json!({"settings": mute})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let form4 = open(&d, Some(&signed(&pki, &serials[3], "00008101-0024"))).await;
    let started = Instant::now();
    let slow = sign_in(&d, &form4, "alice", "alice-Secret-1").await;
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(slow.status, StatusCode::SERVICE_UNAVAILABLE, "{}", slow.text());
    assert!(slow.text().contains("cannot be reached"), "{}", slow.text());
    let logged = crate::secrets::captured();
    assert!(logged.iter().any(|l| l.contains("did not answer within")), "the log says why");
    held.abort();
    slapd.stop();
    let (s, _) = put(&page, json!({"settings": cleartext})).await;
    assert_eq!(s, StatusCode::OK);
    let started = Instant::now();
    let down = sign_in(&d, &form4, "alice", "alice-Secret-1").await;
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE, "{}", down.text());
    assert!(down.text().contains("cannot be reached"), "{}", down.text());
    assert!(!down.text().contains(SERVICE_PASSWORD));

    // The audit log has the changes and the sign-ins, and no password.
    let (_, audit) = page.get("/api/v1/audit?limit=200").await;
    let text = audit.to_string();
    assert!(
        text.contains("directory.settings_change") && text.contains("LDAP directory saved"),
        "{text}"
    );
    assert!(text.contains(&format!("user alice enrolled device {}", serials[0])), "{text}");
    for secret in [SERVICE_PASSWORD, "alice-Secret-1", "bob-Secret-1"] {
        assert!(!text.contains(secret), "{secret} in the audit log");
        crate::secrets::assert_absent(&crate::secrets::captured(), "a directory password", secret);
    }
    let (s, _) = page.send(Method::DELETE, "/api/v1/signin/ldap", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = page.get("/api/v1/signin/ldap").await;
    assert_eq!(v["configured"], false, "{v}");

    // The store keeps the bind password sealed: not one file of the data folder holds it.
    put(&page, body).await;
    let dir = d.stop().await;
    let mut files = vec![dir.path().to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            let found =
                bytes.windows(SERVICE_PASSWORD.len()).any(|w| w == SERVICE_PASSWORD.as_bytes());
            assert!(!found, "{} holds the bind password in clear", path.display());
        }
    }
}
