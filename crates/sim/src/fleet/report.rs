//! What a fleet run reports: one [`DeviceOutcome`] per device, folded into a [`FleetReport`]
//! (`{"devices", "enrolled", "released", "failed", "failures", "latency_ms"}`, issue 7 item 5)
//! plus per-step counts and latencies.

use serde::Serialize;
use std::collections::BTreeMap;

/// The steps a simulated device goes through, in order (../shared/spec/enrollment.md §0).
pub const STEPS: [&str; 10] = [
    "machine_info",
    "acme_directory",
    "acme_account",
    "acme_order",
    "attest",
    "finalize",
    "certificate",
    "mdm_authenticate",
    "mdm_token_update",
    "mdm_release",
];

/// How one device's enrollment went.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceOutcome {
    pub serial: String,
    pub udid: String,
    /// The reason it stopped (a short code such as `profile_refused:adebox.enrollment.unknown_device`),
    /// or `None` when it was enrolled and released.
    pub failure: Option<String>,
    /// The step that failed.
    pub failed_step: Option<String>,
    /// Milliseconds each completed step took.
    pub steps_ms: Vec<(String, f64)>,
    /// Milliseconds from the first request to the certificate (or to the failure).
    pub total_ms: f64,
    /// SHA-256 (lower-case hex) of the certificate the device was issued, also when a later
    /// step (MDM) failed.
    pub certificate_sha256: Option<String>,
    /// MDM released it from "Awaiting final configuration".
    pub released: bool,
    /// It came by an MDM migration: re-enrolled without an erase, data and apps kept.
    pub migrated: bool,
    /// Enrollment attempts this outcome took: more than 1 only for a device told
    /// `ShouldRetryEnrollment` after a Return to Service erase.
    pub attempts: u32,
}

/// Latency percentiles, milliseconds.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
}

/// One step across the fleet.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct StepReport {
    pub ok: usize,
    pub failed: usize,
    pub latency_ms: Latency,
}

/// The fleet's report.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct FleetReport {
    pub devices: usize,
    pub enrolled: usize,
    /// Devices released from "Awaiting final configuration" (DeviceConfigured acknowledged).
    pub released: usize,
    pub failed: usize,
    pub failures: BTreeMap<String, usize>,
    /// Whole enrollments of the devices that got a certificate.
    pub latency_ms: Latency,
    pub steps: BTreeMap<String, StepReport>,
}

/// The `q`-quantile (nearest rank) of `values`; 0 for none.
pub fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    (values[rank - 1] * 10.0).round() / 10.0
}

fn latency(mut values: Vec<f64>) -> Latency {
    Latency { p50: percentile(&mut values, 0.50), p99: percentile(&mut values, 0.99) }
}

impl FleetReport {
    /// Folds the outcomes of `devices` devices (some may still be running: they count in
    /// `devices` only).
    pub fn of(devices: usize, outcomes: &[DeviceOutcome]) -> FleetReport {
        let mut failures = BTreeMap::new();
        let mut totals = Vec::new();
        let mut per_step: BTreeMap<&str, (usize, usize, Vec<f64>)> = BTreeMap::new();
        for o in outcomes {
            match &o.failure {
                Some(reason) => *failures.entry(reason.clone()).or_insert(0) += 1,
                None => totals.push(o.total_ms),
            }
            for (step, ms) in &o.steps_ms {
                let e = per_step.entry(step.as_str()).or_default();
                e.0 += 1;
                e.2.push(*ms);
            }
            if let Some(step) = &o.failed_step {
                per_step.entry(step.as_str()).or_default().1 += 1;
            }
        }
        let failed = outcomes.len() - totals.len();
        FleetReport {
            devices,
            enrolled: totals.len(),
            released: outcomes.iter().filter(|o| o.released).count(),
            failed,
            failures,
            latency_ms: latency(totals),
            steps: per_step
                .into_iter()
                .map(|(k, (ok, failed, ms))| {
                    (k.to_string(), StepReport { ok, failed, latency_ms: latency(ms) })
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(failure: Option<&str>, total: f64) -> DeviceOutcome {
        DeviceOutcome {
            serial: "S".into(),
            udid: "U".into(),
            failure: failure.map(str::to_string),
            failed_step: failure.map(|_| "machine_info".to_string()),
            steps_ms: if failure.is_some() { vec![] } else { vec![("machine_info".into(), total)] },
            total_ms: total,
            certificate_sha256: None,
            released: failure.is_none(),
            migrated: false,
            attempts: 1,
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 0.5), 50.0);
        assert_eq!(percentile(&mut v, 0.99), 99.0);
        assert_eq!(percentile(&mut [], 0.5), 0.0);
        assert_eq!(percentile(&mut [7.0], 0.99), 7.0);
    }

    #[test]
    fn report_counts_enrolled_failed_and_reasons() {
        let outcomes = [
            outcome(None, 10.0),
            outcome(None, 30.0),
            outcome(Some("profile_refused:x"), 5.0),
            outcome(Some("profile_refused:x"), 5.0),
        ];
        let r = FleetReport::of(5, &outcomes);
        assert_eq!((r.devices, r.enrolled, r.failed, r.released), (5, 2, 2, 2));
        assert_eq!(r.failures["profile_refused:x"], 2);
        assert_eq!(r.latency_ms, Latency { p50: 10.0, p99: 30.0 });
        assert_eq!(r.steps["machine_info"].ok, 2);
        assert_eq!(r.steps["machine_info"].failed, 2);
        let json = serde_json::to_value(&r).unwrap();
        for key in ["devices", "enrolled", "released", "failed", "failures", "latency_ms"] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }
}
