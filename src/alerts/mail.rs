//! Sending one alert e-mail through the admin's SMTP server with `lettre`: STARTTLS, TLS from
//! the first byte, or (only when the admin ticked it) no encryption; AUTH when a user name is
//! set. Trust is the system's roots plus the admin's CA PEM. The server's answer, or why
//! there was none, comes back in plain words for the page; the password never does.

use super::records::{Security, SmtpRecord};
use crate::crypto::Secret;
use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// The whole budget of one SMTP conversation (connect, TLS, AUTH, DATA).
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The SMTP server's answer to a message it accepted, in plain words.
pub type Accepted = String;

/// An e-mail address as the admin typed it, checked.
pub fn parse_address(field: &'static str, text: &str) -> Result<Mailbox, (&'static str, String)> {
    text.trim().parse::<Mailbox>().map_err(|e| {
        (
            field,
            format!(
                "\"{}\" is not an e-mail address ({e}); write it as name@example.org",
                text.trim()
            ),
        )
    })
}

/// Sends one plain-text message to `to` and returns the server's answer.
pub async fn send(
    smtp: &SmtpRecord,
    password: Option<Secret<String>>,
    to: &[String],
    subject: &str,
    body: &str,
) -> Result<Accepted, String> {
    crate::outbound::ensure_crypto_provider();
    let mut message = Message::builder()
        .from(parse_address("from", &smtp.from).map_err(|(_, m)| m)?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for addr in to {
        message = message.to(parse_address("recipients", addr).map_err(|(_, m)| m)?);
    }
    let message = message
        .body(body.to_string())
        .map_err(|e| format!("the message could not be built: {e}"))?;
    let transport = transport(smtp, password)?;
    match transport.send(message).await {
        Ok(answer) => {
            let words: Vec<&str> = answer.message().collect();
            Ok(format!("{} {}", answer.code(), words.join(" ")).trim().to_string())
        }
        Err(e) => Err(describe(smtp, &e)),
    }
}

fn transport(
    smtp: &SmtpRecord,
    password: Option<Secret<String>>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls = || -> Result<TlsParameters, String> {
        let mut b = TlsParameters::builder(smtp.host.clone());
        if let Some(pem) = smtp.ca_pem.as_deref().filter(|p| !p.trim().is_empty()) {
            let cert = Certificate::from_pem(pem.as_bytes())
                .map_err(|e| format!("the CA certificate to trust cannot be read: {e}"))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls().map_err(|e| format!("TLS cannot be set up: {e}"))
    };
    let tls = match smtp.security {
        Security::Starttls => Tls::Required(tls()?),
        Security::Tls => Tls::Wrapper(tls()?),
        Security::None => Tls::None,
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = smtp.username.as_deref().filter(|u| !u.is_empty()) {
        let pass = password.map(|p| p.expose().to_string()).unwrap_or_default();
        b = b.credentials(Credentials::new(user.to_string(), pass));
    }
    Ok(b.build())
}

/// Why a send failed, in plain words naming the server and what to change.
fn describe(smtp: &SmtpRecord, e: &lettre::transport::smtp::Error) -> String {
    let server = format!("{}:{}", smtp.host, smtp.port);
    let detail = std::error::Error::source(e).map(|s| s.to_string()).unwrap_or_default();
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    if code.starts_with("535") || code.starts_with("534") || code.starts_with("530") {
        return format!(
            "The SMTP server {server} refused the user name or password ({code} {detail}). Check \
             both in the SMTP settings."
        );
    }
    if e.is_permanent() {
        return format!(
            "The SMTP server {server} refused the message ({code} {detail}). Check the From \
             address and the recipients, and that this server may relay for them."
        );
    }
    if e.is_transient() {
        return format!(
            "The SMTP server {server} asked to try later ({code} {detail}); adebox will retry."
        );
    }
    if e.is_timeout() {
        return format!(
            "The SMTP server {server} did not answer within {}s.",
            SMTP_TIMEOUT.as_secs()
        );
    }
    if e.is_tls() {
        return format!(
            "TLS with the SMTP server {server} failed: {detail}. Check the security setting (STARTTLS \
             on 587, TLS on 465) and, for a private CA, paste it under \"CA certificate\"."
        );
    }
    let what = if detail.is_empty() { e.to_string() } else { detail };
    format!(
        "Could not talk to the SMTP server {server}: {what}. Check the host, port and security."
    )
}
