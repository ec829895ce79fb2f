//! The ACME client's transport: instant-acme's requests sent through the product's one
//! outbound HTTP client (`outbound::client`), so the CA is reached through the configured
//! proxy, with the product's timeouts, trust roots and no redirects followed.

use bytes::Bytes;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use std::future::Future;
use std::pin::Pin;

pub(super) struct Outbound(pub(super) reqwest::Client);

impl HttpClient for Outbound {
    fn request(
        &self,
        req: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let client = self.0.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let req = http::Request::from_parts(parts, reqwest::Body::wrap(body));
            let req = reqwest::Request::try_from(req)
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            let rsp = client
                .execute(req)
                .await
                .map_err(|e| instant_acme::Error::Other(crate::outbound::describe(&e).into()))?;
            Ok(BytesResponse::from(http::Response::<reqwest::Body>::from(rsp)))
        })
    }
}
