//! The Apple Business API calls behind the appliance's actions (apple-2026.md §8.5, §8.7):
//! creating an `orgDeviceActivities` activity, reading its status, downloading its
//! per-serial log from the pre-signed URL, asking whether the organisation owns a serial, and
//! a device's AppleCare coverage. Answers are read leniently like the rest of [`super::wire`].

use super::client::{BusinessClient, ClientError};
use super::wire::{ListPage, Single};
use crate::ids::Serial;
use serde::Deserialize;
use serde_json::json;

/// The largest per-serial log adebox reads (a 1,000-serial log is far smaller).
pub const MAX_LOG_BYTES: usize = 4 * 1024 * 1024;

/// `OrgDeviceActivity.Attributes`, the members adebox uses.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ActivityAttributes {
    pub status: Option<String>,
    pub sub_status: Option<String>,
    pub completed_date_time: Option<String>,
    pub download_url: Option<String>,
}

/// `AppleCareCoverage.Attributes` (§8.5, transcribed by third parties: UNCERTAIN details).
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct CoverageAttributes {
    pub status: Option<String>,
    pub payment_type: Option<String>,
    pub description: Option<String>,
    pub start_date_time: Option<String>,
    pub end_date_time: Option<String>,
    pub is_renewable: Option<bool>,
    pub is_canceled: Option<bool>,
    pub agreement_number: Option<String>,
}

/// What to create: the activity type Apple names, the serials, the server and deadline.
pub struct ActivityRequest<'a> {
    pub activity_type: &'a str,
    pub serials: &'a [Serial],
    pub server_id: Option<&'a str>,
    /// RFC 3339, for the migration types.
    pub deadline: Option<&'a str>,
}

fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl BusinessClient {
    /// `POST /v1/orgDeviceActivities`: Apple's activity id and first status.
    pub async fn create_activity(
        &self,
        r: &ActivityRequest<'_>,
    ) -> Result<(String, ActivityAttributes), ClientError> {
        let mut attributes = json!({ "activityType": r.activity_type });
        if let Some(d) = r.deadline {
            attributes["activityTypeMetadata"] = json!({ "mdmMigrationDeadlineDateTime": d });
        }
        let devices: Vec<_> =
            r.serials.iter().map(|s| json!({"type": "orgDevices", "id": s})).collect();
        let mut relationships = json!({ "devices": { "data": devices } });
        if let Some(id) = r.server_id {
            relationships["mdmServer"] = json!({ "data": { "type": "mdmServers", "id": id } });
        }
        let body = json!({ "data": {
            "type": "orgDeviceActivities",
            "attributes": attributes,
            "relationships": relationships,
        }});
        let url = format!("{}/v1/orgDeviceActivities", self.api_base());
        let a: Single<ActivityAttributes> =
            self.call(reqwest::Method::POST, &url, Some(&body)).await?;
        Ok((a.data.id, a.data.attributes))
    }

    /// `GET /v1/orgDeviceActivities/{id}`.
    pub async fn activity(&self, id: &str) -> Result<ActivityAttributes, ClientError> {
        let url = format!("{}/v1/orgDeviceActivities/{}", self.api_base(), encode(id));
        let a: Single<ActivityAttributes> = self.call(reqwest::Method::GET, &url, None).await?;
        Ok(a.data.attributes)
    }

    /// The per-serial log at Apple's pre-signed `downloadUrl`, fetched without the bearer
    /// token (§8.7 UNCERTAIN) and at most [`MAX_LOG_BYTES`].
    pub async fn activity_log(&self, url: &str) -> Result<String, ClientError> {
        let mut r =
            self.http().get(url).send().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = r.status().as_u16();
        if status != 200 {
            return Err(ClientError::Api {
                status,
                code: "LOG_DOWNLOAD".into(),
                detail: "the activity's log could not be downloaded".into(),
            });
        }
        let mut out = Vec::new();
        while let Some(chunk) =
            r.chunk().await.map_err(|e| ClientError::Transport(e.to_string()))?
        {
            if out.len() + chunk.len() > MAX_LOG_BYTES {
                return Err(ClientError::Decode(format!(
                    "the activity's log is larger than {MAX_LOG_BYTES} bytes"
                )));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Whether the organisation has `serial` (`GET /v1/orgDevices/{serial}`; 404: it does not).
    pub async fn owns(&self, serial: &str) -> Result<bool, ClientError> {
        let url = format!("{}/v1/orgDevices/{}", self.api_base(), encode(serial));
        match self.call::<serde_json::Value>(reqwest::Method::GET, &url, None).await {
            Ok(_) => Ok(true),
            Err(ClientError::Api { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A device's AppleCare coverages (one device per call: Apple has no bulk endpoint).
    pub async fn apple_care(&self, serial: &str) -> Result<Vec<CoverageAttributes>, ClientError> {
        let url = format!("{}/v1/orgDevices/{}/appleCareCoverage", self.api_base(), encode(serial));
        let page: ListPage<CoverageAttributes> =
            self.call(reqwest::Method::GET, &url, None).await?;
        Ok(page.data.into_iter().map(|r| r.attributes).collect())
    }
}
