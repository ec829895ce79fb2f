//! The one gate of the `/api/v1` routes: before a route runs (and before its body is read),
//! find its row in the route table, authenticate the caller and refuse with 403 what their
//! role lacks, or what is organisation-wide when their scope is limited to some server tokens. The [`Authenticated`] extractor hands the result to the handler.
//!
//! actix picks the route only inside the scope, after this middleware, so the row is found
//! here from the path: the route table's patterns are matched the way actix's router does,
//! a literal segment winning over a placeholder (`/tokens/keys` before `/tokens/{id}`).

use super::api::permissions::{Access, PREFIX, ROUTES, Route};
use super::extract::{Authenticated, authenticate, authorize};
use actix_web::body::MessageBody;
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError};
use std::sync::OnceLock;

struct Compiled {
    method: &'static str,
    def: ResourceDef,
    /// Placeholders in the pattern: fewer is more specific.
    dynamic: usize,
    route: &'static Route,
}

fn compiled() -> &'static [Compiled] {
    static TABLE: OnceLock<Vec<Compiled>> = OnceLock::new();
    TABLE.get_or_init(|| {
        ROUTES
            .iter()
            .map(|r| Compiled {
                method: r.method,
                def: ResourceDef::new(format!("{PREFIX}{}", r.path)),
                dynamic: r.path.matches('{').count(),
                route: r,
            })
            .collect()
    })
}

/// The table row for a request, from its method and path (HEAD is answered like GET).
pub fn resolve(method: &str, path: &str) -> Option<&'static Route> {
    let method = if method == "HEAD" { "GET" } else { method };
    compiled()
        .iter()
        .filter(|c| c.method == method && c.def.is_match(path))
        .min_by_key(|c| c.dynamic)
        .map(|c| c.route)
}

/// The middleware on the `/api/v1` scope.
pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse, actix_web::Error> {
    let route = resolve(req.method().as_str(), req.path());
    // No row: an unknown path (the router answers 404), or a route the table lacks, which
    // the extractor refuses. Public routes need no caller.
    if route.is_none_or(|r| r.access == Access::Public) {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let checked = match authenticate(req.request().clone()).await {
        Ok(auth) => authorize(req.request(), route, &auth.principal).map(|()| auth),
        Err(e) => Err(e),
    };
    match checked {
        Ok(auth) => {
            req.extensions_mut().insert::<Authenticated>(auth);
            next.call(req).await.map(ServiceResponse::map_into_boxed_body)
        }
        Err(e) => Ok(req.into_response(e.error_response())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::Permission;

    #[test]
    fn a_literal_segment_wins_over_a_placeholder() {
        let needs = |p| Some(Access::Needs(p));
        let resolve = |m, p| resolve(m, p).map(|r| r.access);
        assert_eq!(resolve("POST", "/api/v1/tokens/keys"), needs(Permission::ServerTokens));
        assert_eq!(resolve("GET", "/api/v1/tokens/keys"), needs(Permission::Read));
        assert_eq!(resolve("DELETE", "/api/v1/tokens/abc"), needs(Permission::ServerTokens));
        assert_eq!(resolve("GET", "/api/v1/devices/export.csv"), needs(Permission::Read));
        assert_eq!(
            resolve("POST", "/api/v1/devices/C02X/mdm/erase"),
            needs(Permission::DeviceErase)
        );
        assert_eq!(resolve("HEAD", "/api/v1/audit"), needs(Permission::AuditRead));
        assert_eq!(resolve("POST", "/api/v1/admin/login"), Some(Access::Public));
        assert_eq!(resolve("GET", "/api/v1/nothing"), None);
        assert_eq!(resolve("PATCH", "/api/v1/status"), None);
    }
}
