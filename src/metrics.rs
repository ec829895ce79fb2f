//! The appliance's metrics, as `GET /metrics` serves them in the Prometheus text format
//! (docs/metrics.md lists each one).
//!
//! Two kinds. Counters and histograms of things that happen (HTTP requests, store commits,
//! sync runs, APNs sends, webhook deliveries, assignments, MDM check-ins and results) live in
//! a [`Metrics`] handle that the store carries, so every module that holds the store records
//! into the one set of its appliance without another constructor argument; they count from
//! the start of the process, as Prometheus expects of counters. Levels already kept durably
//! (devices per lifecycle state, the funnel and its events, certificates issued among them,
//! the store's size) are read when scraped and handed to [`Metrics::render`] as a
//! [`Snapshot`], so they are never counted twice nor lost on a restart.
//!
//! Every label has a bounded set of values: route classes, status codes, outcome codes and
//! server-token ids (a site has a handful); never a serial, UDID or free text.

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::time::Duration;

/// The `Content-Type` of what [`Metrics::render`] writes (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Label pairs: names fixed in this file, values from a bounded set.
type Labels = Vec<(&'static str, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// Seconds from a millisecond to a minute: requests, commits.
fn fast_buckets() -> Histogram {
    Histogram::new([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0])
}

/// Seconds from a second to an hour: sync runs.
fn slow_buckets() -> Histogram {
    Histogram::new([1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0])
}

/// The live counters of one appliance (cheap to clone; clones share them).
#[derive(Clone)]
pub struct Metrics {
    live: Arc<Live>,
}

struct Live {
    http_requests: Family<Labels, Counter>,
    http_seconds: Histograms,
    store_commit_seconds: Histogram,
    sync_runs: Family<Labels, Counter>,
    sync_seconds: Histograms,
    assignments: Family<Labels, Counter>,
    mdm_checkins: Family<Labels, Counter>,
    mdm_results: Family<Labels, Counter>,
    apns: Family<Labels, Counter>,
    webhooks: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            live: Arc::new(Live {
                http_requests: Family::default(),
                http_seconds: Family::new_with_constructor(fast_buckets),
                store_commit_seconds: fast_buckets(),
                sync_runs: Family::default(),
                sync_seconds: Family::new_with_constructor(slow_buckets),
                assignments: Family::default(),
                mdm_checkins: Family::default(),
                mdm_results: Family::default(),
                apns: Family::default(),
                webhooks: Family::default(),
            }),
        }
    }
}

/// Which kind of route a request went to: the label of the HTTP metrics (a path itself would
/// carry serials and ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteClass {
    Api,
    AdminPage,
    Enroll,
    SignIn,
    Acme,
    Scep,
    MdmCheckin,
    MdmConnect,
    ServiceConfig,
    Health,
    Metrics,
    Other,
}

impl RouteClass {
    pub fn of(path: &str) -> RouteClass {
        let under = |prefix: &str| {
            path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        match path {
            "/healthz" => RouteClass::Health,
            "/metrics" => RouteClass::Metrics,
            "/mdm/checkin" => RouteClass::MdmCheckin,
            "/mdm/connect" => RouteClass::MdmConnect,
            "/MDMServiceConfig" => RouteClass::ServiceConfig,
            "/" => RouteClass::AdminPage,
            _ if under("/api") => RouteClass::Api,
            _ if under("/admin") => RouteClass::AdminPage,
            _ if under("/enroll/web") => RouteClass::SignIn,
            _ if under("/enroll") => RouteClass::Enroll,
            _ if under("/acme") => RouteClass::Acme,
            _ if under("/scep") => RouteClass::Scep,
            _ => RouteClass::Other,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            RouteClass::Api => "api",
            RouteClass::AdminPage => "admin_page",
            RouteClass::Enroll => "enroll",
            RouteClass::SignIn => "signin",
            RouteClass::Acme => "acme",
            RouteClass::Scep => "scep",
            RouteClass::MdmCheckin => "mdm_checkin",
            RouteClass::MdmConnect => "mdm_connect",
            RouteClass::ServiceConfig => "service_config",
            RouteClass::Health => "healthz",
            RouteClass::Metrics => "metrics",
            RouteClass::Other => "other",
        }
    }
}

/// The check-in message types Apple defines; anything else is counted as `other`, so a
/// device cannot grow the label set.
const CHECKIN_TYPES: &[&str] = &[
    "Authenticate",
    "TokenUpdate",
    "CheckOut",
    "UserAuthenticate",
    "SetBootstrapToken",
    "GetBootstrapToken",
    "DeclarativeManagement",
    "GetToken",
    "ReturnToService",
];

/// A command result status as Apple defines them, else `other`.
const RESULT_STATUSES: &[&str] = &["Acknowledged", "Error", "CommandFormatError", "NotNow", "Idle"];

fn bounded(value: &str, known: &[&str]) -> String {
    known.iter().find(|k| **k == value).map_or("other", |k| k).to_string()
}

impl Metrics {
    /// One HTTP request answered: its route class, status and time taken.
    pub fn http_request(&self, class: RouteClass, status: u16, took: Duration) {
        let class = ("class", class.code().to_string());
        self.live
            .http_requests
            .get_or_create(&vec![class.clone(), ("status", status.to_string())])
            .inc();
        self.live.http_seconds.get_or_create(&vec![class]).observe(took.as_secs_f64());
    }

    /// One durable store commit (a group of changes) and the time it took.
    pub fn store_commit(&self, took: Duration) {
        self.live.store_commit_seconds.observe(took.as_secs_f64());
    }

    /// One sync run of a server token ended.
    pub fn sync_run(&self, token: &str, kind: &'static str, outcome: &'static str, took: Duration) {
        let token = ("token", token.to_string());
        self.live
            .sync_runs
            .get_or_create(&vec![token.clone(), ("kind", kind.into()), ("outcome", outcome.into())])
            .inc();
        self.live.sync_seconds.get_or_create(&vec![token]).observe(took.as_secs_f64());
    }

    /// Devices whose profile assignment at Apple ended with `outcome`.
    pub fn assignments(&self, outcome: &'static str, devices: u64) {
        self.live.assignments.get_or_create(&vec![("outcome", outcome.into())]).inc_by(devices);
    }

    /// An MDM check-in message handled (`message_type` as the device sent it).
    pub fn mdm_checkin(&self, message_type: &str) {
        let t = bounded(message_type, CHECKIN_TYPES);
        self.live.mdm_checkins.get_or_create(&vec![("message_type", t)]).inc();
    }

    /// A command result (or Idle) a device reported on the connect endpoint.
    pub fn mdm_result(&self, status: &str) {
        let s = bounded(status, RESULT_STATUSES);
        self.live.mdm_results.get_or_create(&vec![("status", s)]).inc();
    }

    /// One push sent to APNs, with its result code (`sent`, `unregistered`, `failed`…).
    pub fn apns_result(&self, result: &'static str) {
        self.live.apns.get_or_create(&vec![("result", result.into())]).inc();
    }

    /// One webhook delivery attempt, with its result code.
    pub fn webhook_delivery(&self, result: &'static str) {
        self.live.webhooks.get_or_create(&vec![("result", result.into())]).inc();
    }

    /// Every metric in the Prometheus text format: the live ones and `snapshot`'s levels.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        let mut r = Registry::with_prefix("adebox");
        let live = &self.live;
        r.register(
            "http_requests",
            "HTTP requests answered, by route class and status",
            live.http_requests.clone(),
        );
        r.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by route class",
            Unit::Seconds,
            live.http_seconds.clone(),
        );
        r.register_with_unit(
            "store_commit_duration",
            "Time of one durable store commit (a group of changes)",
            Unit::Seconds,
            live.store_commit_seconds.clone(),
        );
        r.register(
            "sync_runs",
            "Sync runs ended, by server token, kind and outcome",
            live.sync_runs.clone(),
        );
        r.register_with_unit(
            "sync_run_duration",
            "Duration of sync runs, by server token",
            Unit::Seconds,
            live.sync_seconds.clone(),
        );
        r.register(
            "assignment_devices",
            "Devices in profile assignments at Apple, by outcome",
            live.assignments.clone(),
        );
        r.register(
            "mdm_checkins",
            "MDM check-in messages handled, by message type",
            live.mdm_checkins.clone(),
        );
        r.register(
            "mdm_command_results",
            "Command results and Idle reports from devices, by status",
            live.mdm_results.clone(),
        );
        r.register("apns_pushes", "Pushes sent to APNs, by result", live.apns.clone());
        r.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by result",
            live.webhooks.clone(),
        );
        snapshot.register(&mut r);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &r);
        out
    }
}

/// Levels read from the store when scraped.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Devices per lifecycle state (code), removed ones included.
    pub devices_by_lifecycle: Vec<(String, u64)>,
    /// Active devices per server token (id).
    pub devices_by_token: Vec<(String, u64)>,
    /// Devices that got at least as far as each funnel stage.
    pub funnel_stages: Vec<(String, u64)>,
    /// Enrollment events ever recorded, per step (contacted, refused, certificate_issued…).
    pub enrollment_events: Vec<(String, u64)>,
    /// Refusals per reason code among the enrollment events kept (the newest few thousand).
    pub recent_refusals: Vec<(String, u64)>,
    /// Consecutive failed sync runs per server token.
    pub sync_failures: Vec<(String, u64)>,
    /// Bytes of the store file.
    pub store_bytes: u64,
    /// Durable commits, changes committed and groups replayed since the store was opened.
    pub store_commits: u64,
    pub store_changes: u64,
    pub store_replays: u64,
}

impl Snapshot {
    fn register(&self, r: &mut Registry) {
        let gauges = |label: &'static str, rows: &[(String, u64)]| {
            let f = Family::<Labels, Gauge>::default();
            for (value, n) in rows {
                f.get_or_create(&vec![(label, value.clone())]).set(*n as i64);
            }
            f
        };
        let counters = |label: &'static str, rows: &[(String, u64)]| {
            let f = Family::<Labels, Counter>::default();
            for (value, n) in rows {
                f.get_or_create(&vec![(label, value.clone())]).inc_by(*n);
            }
            f
        };
        let counter = |n: u64| {
            let c = Counter::<u64>::default();
            c.inc_by(n);
            c
        };
        r.register(
            "devices",
            "Devices in the inventory, by lifecycle state",
            gauges("lifecycle", &self.devices_by_lifecycle),
        );
        r.register(
            "token_devices",
            "Active devices, by server token",
            gauges("token", &self.devices_by_token),
        );
        r.register(
            "funnel_devices",
            "Devices that reached at least each enrollment stage",
            gauges("stage", &self.funnel_stages),
        );
        r.register(
            "enrollment_events",
            "Enrollment events recorded, by step (kept across restarts)",
            counters("step", &self.enrollment_events),
        );
        r.register(
            "enrollment_recent_refusals",
            "Refusals by reason among the enrollment events kept",
            gauges("reason", &self.recent_refusals),
        );
        r.register(
            "sync_consecutive_failures",
            "Failed sync runs in a row, by server token",
            gauges("token", &self.sync_failures),
        );
        let size = Gauge::<i64>::default();
        size.set(i64::try_from(self.store_bytes).unwrap_or(i64::MAX));
        r.register_with_unit("store_size", "Size of the store file", Unit::Bytes, size);
        r.register(
            "store_commits",
            "Durable store commits since it was opened",
            counter(self.store_commits),
        );
        r.register(
            "store_changes",
            "Changes committed to the store since it was opened",
            counter(self.store_changes),
        );
        r.register(
            "store_replays",
            "Commit groups run again without a failed change",
            counter(self.store_replays),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_classes_never_carry_the_path() {
        assert_eq!(RouteClass::of("/api/v1/devices/C02X"), RouteClass::Api);
        assert_eq!(RouteClass::of("/apix"), RouteClass::Other);
        assert_eq!(RouteClass::of("/admin/devices"), RouteClass::AdminPage);
        assert_eq!(RouteClass::of("/enroll/web"), RouteClass::SignIn);
        assert_eq!(RouteClass::of("/enroll/machineinfo"), RouteClass::Enroll);
        assert_eq!(RouteClass::of("/mdm/checkin"), RouteClass::MdmCheckin);
        assert_eq!(RouteClass::of("/acme/new-order"), RouteClass::Acme);
    }

    #[test]
    fn device_supplied_values_are_bounded() {
        let m = Metrics::default();
        m.mdm_checkin("Authenticate");
        m.mdm_checkin("C02X-serial-like");
        m.mdm_result("NotNow");
        m.mdm_result("anything");
        let text = m.render(&Snapshot::default());
        assert!(
            text.contains("adebox_mdm_checkins_total{message_type=\"Authenticate\"} 1"),
            "{text}"
        );
        assert!(text.contains("adebox_mdm_checkins_total{message_type=\"other\"} 1"), "{text}");
        assert!(!text.contains("C02X"), "{text}");
        assert!(text.contains("adebox_mdm_command_results_total{status=\"other\"} 1"), "{text}");
    }

    #[test]
    fn snapshot_levels_are_rendered_with_their_labels() {
        let snap = Snapshot {
            devices_by_lifecycle: vec![("released".into(), 3)],
            store_bytes: 4096,
            store_commits: 7,
            ..Snapshot::default()
        };
        let text = Metrics::default().render(&snap);
        assert!(text.contains("adebox_devices{lifecycle=\"released\"} 3"), "{text}");
        assert!(text.contains("adebox_store_size_bytes 4096"), "{text}");
        assert!(text.contains("adebox_store_commits_total 7"), "{text}");
    }
}
