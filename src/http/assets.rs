//! The admin page: the files of `web/`, compiled into the binary.
//!
//! `/admin/assets/<path>` serves `web/assets/<path>`; `/admin/` and every other `/admin/…`
//! path without a file extension serve `web/index.html`, so the page's own router handles
//! bookmarked views. Files carry an ETag (their SHA-256) and are revalidated on every load,
//! so an upgraded appliance never serves a stale page.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/"]
struct WebFiles;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| async { redirect("/admin/") }))
        .route("/admin", web::get().to(|| async { redirect("/admin/") }))
        .route("/admin/assets/{path:.*}", web::get().to(asset))
        .route("/admin/{route:.*}", web::get().to(page));
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, to)).finish()
}

async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    if path.split('/').any(|seg| seg == ".." || seg.is_empty() || seg.starts_with('.')) {
        return not_found();
    }
    serve(&req, &format!("assets/{path}"))
}

async fn page(req: HttpRequest, route: web::Path<String>) -> HttpResponse {
    // A path that looks like a file but is not under assets/ is a mistake, not a page route.
    if route.rsplit('/').next().is_some_and(|last| last.contains('.')) {
        return not_found();
    }
    serve(&req, "index.html")
}

fn serve(req: &HttpRequest, name: &str) -> HttpResponse {
    let Some(file) = WebFiles::get(name) else { return not_found() };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    if req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str())
    {
        return HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish();
    }
    HttpResponse::Ok()
        .content_type(file.metadata.mimetype())
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(file.data.into_owned())
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("not found")
}
