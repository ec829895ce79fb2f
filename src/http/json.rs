//! The API's one way to read a JSON body, strictly (issue 17 item 4): [`ApiJson<T>`] for a
//! required body, [`OptionalJson<T>`] for a body that may be left out, and [`parse_strict`]
//! for a handler that reads the bytes itself. Refused with 400 `bad_request`, the field named
//! (in `field` and the message):
//! - a key given twice in one object (`{"a":1,"a":2}`; serde_json would keep the last);
//! - a field the request type does not know (a typo would otherwise be ignored silently);
//! - a value of the wrong type (`{"for_token":123}`);
//! - a list longer than [`MAX_LIST`] (a 20,000-entry `platforms`), or than the handler's bound.
//!
//! `Content-Type` must be JSON (415 otherwise) and the body at most [`JSON_LIMIT`] bytes
//! (413). An empty body is "no body" for [`OptionalJson`] and refused by [`ApiJson`].

use super::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, mime, web};
use futures_util::StreamExt as _;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// Request bodies of the API are small JSON documents; uploads set their own limits.
pub const JSON_LIMIT: usize = 256 * 1024;

/// Longest list any API body may hold, at any depth, unless the handler sets its own bound.
pub const MAX_LIST: usize = 1_000;

/// A required JSON body of type `T`, read strictly (see the module docs).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T> ApiJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ApiJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A JSON body that may be absent (no bytes at all); a body that is there is read as strictly
/// as [`ApiJson`]: `not json` is refused, never taken for "no body".
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T> OptionalJson<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

type Reading<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Reading<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        strict(req, payload, |body| {
            body.map(ApiJson).ok_or_else(|| {
                ApiError::bad_request("this request needs a JSON body; none was sent")
            })
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Reading<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        strict(req, payload, |body| Ok(OptionalJson(body)))
    }
}

/// Reads the body strictly as `T` (none when empty) and hands it to `wrap`.
fn strict<T: DeserializeOwned + 'static, O: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    wrap: fn(Option<T>) -> Result<O, ApiError>,
) -> Reading<O> {
    let read = read_json(req, payload);
    Box::pin(async move {
        let bytes = read.await?;
        let body = if bytes.is_empty() { None } else { Some(parse_strict(&bytes, MAX_LIST)?) };
        wrap(body)
    })
}

/// The body's bytes, after the media type and size checks (an empty body skips the media type:
/// clients send none without a body).
fn read_json(req: &HttpRequest, payload: &mut Payload) -> Reading<web::Bytes> {
    let json_type = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    // A body declared as something else is refused before it is read: the media type is the
    // first thing wrong with it, and reading a body only to refuse it costs for nothing.
    let other_type =
        req.headers().contains_key(actix_web::http::header::CONTENT_TYPE) && !json_type;
    let mut payload = payload.take();
    Box::pin(async move {
        if other_type && declared != Some(0) {
            return Err(unsupported_type());
        }
        if declared.is_some_and(|n| n > JSON_LIMIT) {
            return Err(too_large());
        }
        let mut out = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::bad_request(format!("the request body could not be read: {e}"))
            })?;
            if out.len() + chunk.len() > JSON_LIMIT {
                return Err(too_large());
            }
            out.extend_from_slice(&chunk);
        }
        if !out.is_empty() && !json_type {
            return Err(unsupported_type());
        }
        Ok(out.freeze())
    })
}

fn unsupported_type() -> ApiError {
    ApiError::unsupported_media_type("send the body as JSON with `Content-Type: application/json`")
}

fn too_large() -> ApiError {
    ApiError::payload_too_large(format!(
        "the JSON body is over this endpoint's {JSON_LIMIT}-byte limit; send less"
    ))
}

/// Reads `bytes` as `T`, refusing duplicate keys, unknown fields, wrong types and lists over
/// `max_list` entries, with the field's path (`platforms[3]`, `settings.name`) in the error.
pub fn parse_strict<T: DeserializeOwned>(bytes: &[u8], max_list: usize) -> Result<T, ApiError> {
    let mut first = serde_json::Deserializer::from_slice(bytes);
    Shape { path: String::new(), max_list }
        .deserialize(&mut first)
        .and_then(|()| first.end())
        .map_err(|e| match e.classify() {
            serde_json::error::Category::Data => {
                // Our own refusals carry "<path>\u{0}<message>".
                let text = e.to_string();
                let (path, message) = text.split_once('\u{0}').unwrap_or(("", &text));
                let message = message.split(" at line ").next().unwrap_or(message);
                let err = ApiError::bad_json(&message);
                if path.is_empty() { err } else { err.field(path) }
            }
            _ => ApiError::bad_json(&e),
        })?;
    let mut ignored = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut note = |path: serde_ignored::Path<'_>| ignored.push(path.to_string());
    let value: T =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(&mut de, &mut note))
            .map_err(|e| {
                let path = e.path().to_string();
                let err = ApiError::bad_json(&e);
                if path == "." { err } else { err.field(&path) }
            })?;
    if let Some(path) = ignored.first() {
        return Err(ApiError::bad_json(&format!(
            "unknown field `{path}`: this endpoint does not take it; check its spelling against \
             the API document (/api/v1/openapi.json)"
        ))
        .field(path));
    }
    Ok(value)
}

/// Walks a JSON document once, refusing a key given twice in an object and a list over the
/// bound; keeps nothing.
struct Shape {
    path: String,
    max_list: usize,
}

impl Shape {
    fn child(&self, step: &str) -> Shape {
        let path = if self.path.is_empty() || step.starts_with('[') {
            format!("{}{step}", self.path)
        } else {
            format!("{}.{step}", self.path)
        };
        Shape { path, max_list: self.max_list }
    }

    fn refuse<E: de::Error>(&self, message: String) -> E {
        E::custom(format!("{}\u{0}{message}", self.path))
    }
}

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shape {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0;
        while seq.next_element_seed(self.child(&format!("[{n}]")))?.is_some() {
            n += 1;
            if n > self.max_list {
                return Err(self.refuse(format!(
                    "the list has over {} entries, more than this endpoint takes",
                    self.max_list
                )));
            }
        }
        Ok(())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.child(&key);
            if !seen.insert(key) {
                return Err(child.refuse(format!(
                    "the key `{}` is given twice; give each field once",
                    child.path
                )));
            }
            map.next_value_seed(child)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct NewKey {
        for_token: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    struct Inner {
        #[allow(dead_code)]
        name: String,
    }

    fn refused<T: DeserializeOwned + fmt::Debug>(body: &str) -> ApiError {
        parse_strict::<T>(body.as_bytes(), MAX_LIST).unwrap_err()
    }

    #[test]
    fn reads_what_the_type_says() {
        let k: NewKey = parse_strict(br#"{"for_token":"t1"}"#, MAX_LIST).unwrap();
        assert_eq!(k, NewKey { for_token: Some("t1".into()) });
        let v: serde_json::Value = parse_strict(br#"{"a":[1,{"b":null}]}"#, MAX_LIST).unwrap();
        assert_eq!(v["a"][1], serde_json::json!({"b": null}));
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let e = refused::<NewKey>(r#"{"for_token":123}"#);
        assert_eq!(e.status, 400);
        assert_eq!(e.field.as_deref(), Some("for_token"));
        assert!(e.message.contains("for_token") && e.message.contains("string"), "{e:?}");
        let e = refused::<Outer>(r#"{"inner":{"name":1}}"#);
        assert_eq!(e.field.as_deref(), Some("inner.name"));
    }

    #[test]
    fn not_json_is_refused() {
        let e = refused::<NewKey>("not json");
        assert_eq!(e.status, 400);
        assert!(e.message.contains("expected"), "{e:?}");
        refused::<NewKey>(r#"{"for_token":"a"} trailing"#);
    }

    #[test]
    fn a_duplicate_key_is_refused_at_any_depth() {
        let e = refused::<NewKey>(r#"{"for_token":"a","for_token":"b"}"#);
        assert_eq!(e.field.as_deref(), Some("for_token"));
        assert!(e.message.contains("given twice"), "{e:?}");
        let e = refused::<serde_json::Value>(r#"{"p":[{"x":1},{"x":1,"x":2}]}"#);
        assert_eq!(e.field.as_deref(), Some("p[1].x"));
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let e = refused::<NewKey>(r#"{"for_tokn":"a"}"#);
        assert_eq!(e.field.as_deref(), Some("for_tokn"));
        assert!(e.message.contains("unknown field `for_tokn`"), "{e:?}");
        let e = refused::<Outer>(r#"{"inner":{"name":"n","extra":1}}"#);
        assert_eq!(e.field.as_deref(), Some("inner.extra"));
    }

    #[test]
    fn a_long_list_is_refused() {
        let platforms = vec!["iOS"; 20_000];
        let body = serde_json::json!({ "platforms": platforms }).to_string();
        let e = refused::<serde_json::Value>(&body);
        assert_eq!(e.field.as_deref(), Some("platforms"));
        assert!(e.message.contains("over 1000 entries"), "{e:?}");
        let ok = serde_json::json!({ "platforms": vec!["iOS"; MAX_LIST] }).to_string();
        parse_strict::<serde_json::Value>(ok.as_bytes(), MAX_LIST).unwrap();
    }
}
