//! What the Apple Business API answers, read leniently with adebox's own types
//! (apple-2026.md §8.4–§8.6): unknown members are ignored and unknown enum values kept as
//! text, because Apple adds attributes without bumping the version; `purchaseSourceId` is
//! also read as `purchaseSourceUid` (the list sample's name, §8.5 UNCERTAIN).

use serde::Deserialize;

/// A JSON:API list page.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "A: Deserialize<'de> + Default"))]
pub struct ListPage<A> {
    pub data: Vec<Resource<A>>,
    #[serde(default)]
    pub links: Links,
}

#[derive(Debug, Default, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub next: Option<String>,
}

/// One resource object.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "A: Deserialize<'de> + Default"))]
pub struct Resource<A> {
    pub id: String,
    #[serde(default)]
    pub attributes: A,
}

/// A single-resource answer.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "A: Deserialize<'de> + Default"))]
pub struct Single<A> {
    pub data: Resource<A>,
}

/// A to-one linkage answer (`data` null: the device has no server; our guess, §8.5).
#[derive(Debug, Deserialize)]
pub struct Linkage {
    pub data: Option<LinkageData>,
}

#[derive(Debug, Deserialize)]
pub struct LinkageData {
    pub id: String,
}

/// `OrgDevice.Attributes`, the members adebox uses.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrgDeviceAttributes {
    pub serial_number: Option<String>,
    pub device_model: Option<String>,
    pub product_family: Option<String>,
    pub status: Option<String>,
    pub purchase_source_type: Option<String>,
    #[serde(alias = "purchaseSourceUid")]
    pub purchase_source_id: Option<String>,
    pub order_number: Option<String>,
    pub added_to_org_date_time: Option<String>,
    pub is_mdm_migration_capable: Option<bool>,
    pub mdm_migration_status: Option<String>,
}

/// `MdmServer.Attributes`, the members adebox uses.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MdmServerAttributes {
    pub server_name: Option<String>,
    pub server_type: Option<String>,
    pub device_count: Option<u64>,
}

/// The token endpoint's answer.
#[derive(Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// Apple's error body (`code` is what to branch on).
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ApiError>,
    /// The token endpoint's OAuth error (undocumented body, §8.3 UNCERTAIN).
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ApiError {
    pub code: String,
    pub detail: String,
}
