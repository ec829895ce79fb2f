//! A client of the stand-in ABM portal, over HTTPS like any other client: the sandbox's API
//! uses it so the admin can drive the simulated Apple side from the page.

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PortalClientError {
    /// The portal's HTTP status (0 when it could not be reached).
    pub status: u16,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct PortalClient {
    base: String,
    http: reqwest::Client,
}

impl PortalClient {
    /// `portal_url` is the portal's base (`https://…/portal`); `http` must trust the
    /// simulator's CA.
    pub fn new(portal_url: impl Into<String>, http: reqwest::Client) -> Self {
        PortalClient { base: portal_url.into().trim_end_matches('/').to_string(), http }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, PortalClientError> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| PortalClientError {
            status: 0,
            message: format!("the simulated Apple portal did not answer: {e}"),
        })?;
        let status = resp.status().as_u16();
        let value: Value = resp.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(value)
        } else {
            let message = value
                .get("message")
                .or_else(|| value.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("the simulated Apple portal refused the request")
                .to_string();
            Err(PortalClientError { status, message })
        }
    }

    pub async fn servers(&self) -> Result<Value, PortalClientError> {
        self.call(reqwest::Method::GET, "/servers", None).await
    }

    pub async fn truth(&self) -> Result<Value, PortalClientError> {
        self.call(reqwest::Method::GET, "/truth", None).await
    }

    /// Creates an MDM server for `public_key_pem` and returns its token (`token_p7m`, …).
    pub async fn create_server(
        &self,
        name: &str,
        public_key_pem: &str,
    ) -> Result<Value, PortalClientError> {
        self.call(
            reqwest::Method::POST,
            "/servers",
            Some(serde_json::json!({"server_name": name, "public_key_pem": public_key_pem})),
        )
        .await
    }

    /// A new token for a server (the old one stops working, as at Apple).
    pub async fn renew(
        &self,
        server_uuid: &str,
        public_key_pem: &str,
    ) -> Result<Value, PortalClientError> {
        self.call(
            reqwest::Method::POST,
            &format!("/servers/{server_uuid}/token"),
            Some(serde_json::json!({"public_key_pem": public_key_pem})),
        )
        .await
    }

    pub async fn add_devices(
        &self,
        server_uuid: &str,
        count: usize,
    ) -> Result<Value, PortalClientError> {
        self.call(
            reqwest::Method::POST,
            "/devices",
            Some(serde_json::json!({"server_uuid": server_uuid, "count": count})),
        )
        .await
    }

    pub async fn move_devices(
        &self,
        serials: &[String],
        server_uuid: &str,
    ) -> Result<Value, PortalClientError> {
        self.call(
            reqwest::Method::POST,
            "/devices/move",
            Some(serde_json::json!({"serials": serials, "server_uuid": server_uuid})),
        )
        .await
    }

    pub async fn release_devices(&self, serials: &[String]) -> Result<Value, PortalClientError> {
        self.call(
            reqwest::Method::POST,
            "/devices/release",
            Some(serde_json::json!({"serials": serials})),
        )
        .await
    }

    /// Schedules the MDM migration of `serials` to `server_uuid`, `deadline_days` from now.
    pub async fn schedule_migration(
        &self,
        serials: &[String],
        server_uuid: &str,
        deadline_days: i64,
    ) -> Result<Value, PortalClientError> {
        let body = serde_json::json!({
            "serials": serials, "server_uuid": server_uuid, "deadline_days": deadline_days,
        });
        self.call(reqwest::Method::POST, "/migrations", Some(body)).await
    }

    pub async fn change_migration(
        &self,
        serials: &[String],
        deadline_days: i64,
    ) -> Result<Value, PortalClientError> {
        let body = serde_json::json!({"serials": serials, "deadline_days": deadline_days});
        self.call(reqwest::Method::PUT, "/migrations", Some(body)).await
    }

    pub async fn cancel_migration(&self, serials: &[String]) -> Result<Value, PortalClientError> {
        let body = serde_json::json!({"serials": serials});
        self.call(reqwest::Method::POST, "/migrations/cancel", Some(body)).await
    }

    pub async fn migrations(&self) -> Result<Value, PortalClientError> {
        self.call(reqwest::Method::GET, "/migrations", None).await
    }
}
