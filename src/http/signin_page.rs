//! The HTML of the user sign-in page (`/enroll/web`): a plain form that works without
//! JavaScript and reads at phone width, and the page that says in plain words why a device
//! cannot go on. Its style sheet is served beside it (the Content-Security-Policy allows no
//! inline style).

use crate::signin::PageFacts;

/// `/enroll/web/style.css`.
pub const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:17px/1.45 -apple-system,system-ui,sans-serif;color:#1d1d1f;background:#f5f5f7}\
main{max-width:26rem;margin:0 auto;padding:2rem 1.25rem}\
h1{font-size:1.5rem;margin:0 0 .25rem}\
p{margin:.5rem 0 1rem}\
label{display:block;font-weight:600;margin:1rem 0 .3rem}\
input{width:100%;font:inherit;padding:.7rem .8rem;border:1px solid #8e8e93;border-radius:.6rem;background:#fff;color:inherit}\
input:focus{outline:3px solid #0a64d6;outline-offset:1px}\
button{width:100%;margin-top:1.5rem;font:inherit;font-weight:600;padding:.8rem;border:0;border-radius:.6rem;background:#0a58c2;color:#fff}\
button:focus{outline:3px solid #1d1d1f;outline-offset:2px}\
.error{border-left:4px solid #b00020;background:#fdecee;padding:.6rem .8rem;border-radius:.3rem;color:#5f0010}\
.support{margin-top:2rem;font-size:.9rem;color:#3a3a3c}\
.org{color:#3a3a3c;margin:0 0 1.5rem}\
a.button{display:block;text-align:center;text-decoration:none;margin-top:1.5rem;font-weight:600;padding:.8rem;border-radius:.6rem;background:#0a58c2;color:#fff}\
a.button:focus{outline:3px solid #1d1d1f;outline-offset:2px}";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// A BCP 47 tag from Setup Assistant's language (`en-US`, `fr_FR`), or `en`.
fn lang(facts: Option<&PageFacts>) -> String {
    let raw = facts.and_then(|f| f.language.as_deref()).unwrap_or("en").replace('_', "-");
    let ok = !raw.is_empty()
        && raw.len() <= 35
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok { raw } else { "en".into() }
}

fn page(facts: Option<&PageFacts>, title: &str, body: &str) -> String {
    let org = facts
        .and_then(|f| f.organisation.as_deref())
        .map(|o| format!("<p class=\"org\">{}</p>", escape(o)))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/enroll/web/style.css\"></head>\
         <body><main><h1>{title}</h1>{org}{body}{support}</main></body></html>\n",
        lang = lang(facts),
        title = escape(title),
        support = support(facts),
    )
}

fn support(facts: Option<&PageFacts>) -> String {
    let Some(f) = facts else { return String::new() };
    let mut parts = Vec::new();
    if let Some(p) = &f.support_phone {
        parts.push(format!("call {}", escape(p)));
    }
    if let Some(e) = &f.support_email {
        parts.push(format!("write to <a href=\"mailto:{0}\">{0}</a>", escape(e)));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("<p class=\"support\">Need help? {}.</p>", parts.join(" or "))
}

/// The sign-in form for attempt `attempt`, with `error` above it after a failed try.
pub fn form(
    facts: &PageFacts,
    attempt: &str,
    csrf: &str,
    username: &str,
    error: Option<&str>,
) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\" id=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let described = if error.is_empty() { "" } else { " aria-describedby=\"error\"" };
    let body = format!(
        "<p>Sign in with your work account to set up this device for you.</p>{error}\
         <form method=\"post\" action=\"/enroll/web\">\
         <input type=\"hidden\" name=\"attempt\" value=\"{attempt}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" \
         autocorrect=\"off\" spellcheck=\"false\" required maxlength=\"256\" value=\"{username}\"{described}>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" \
         required maxlength=\"1024\"{described}>\
         <button type=\"submit\">Sign in</button></form>",
        attempt = escape(attempt),
        csrf = escape(csrf),
        username = escape(username),
    );
    page(Some(facts), "Sign in", &body)
}

/// The page of a profile that signs users in with an OpenID provider: one link (no
/// JavaScript needed) that leads to the provider, with `error` above it after a failed try.
pub fn provider(facts: &PageFacts, name: &str, href: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<p>Sign in with your work account to set up this device for you.</p>{error}\
         <a class=\"button\" href=\"{href}\">Sign in with {name}</a>",
        href = escape(href),
        name = escape(name),
    );
    page(Some(facts), "Sign in", &body)
}

/// A page saying why the device cannot go on, and what to do.
pub fn message(facts: Option<&PageFacts>, title: &str, words: &str) -> String {
    page(facts, title, &format!("<p role=\"alert\">{}</p>", escape(words)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped_everywhere() {
        let facts = PageFacts {
            organisation: Some("<script>".into()),
            support_email: Some("a\"b@example.org".into()),
            language: Some("en\"><x".into()),
            ..Default::default()
        };
        let html = form(&facts, "a\"", "c", "<b>", Some("<i>"));
        assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<i>"));
        assert!(html.contains("lang=\"en\""), "a bad language tag falls back: {html}");
        assert!(html.contains("a&quot;b@example.org"));
    }

    #[test]
    fn setup_assistant_language_is_the_page_language() {
        let facts = PageFacts { language: Some("fr_FR".into()), ..Default::default() };
        assert!(message(Some(&facts), "t", "w").contains("<html lang=\"fr-FR\">"));
    }
}
