//! Device-facing enrollment: the profile URL a device posts its signed MachineInfo to during
//! Setup Assistant (../shared/spec/enrollment.md §0, §1), the gate that decides who may
//! enroll, the enrollment funnel, and the SCEP server for devices too old for ACME
//! ([`scep`], §2.5): their profile carries a one-time SCEP challenge instead of an ACME
//! ClientIdentifier.
//!
//! Owns the tables of [`events`] (`enroll.events`, `enroll.counts`, `enroll.settings`) and of
//! [`scep::challenge`] (`enroll.scep_challenges`), and the folders of [`signing`]
//! (`<data_dir>/enroll/`) and [`scep::ra`] (`<data_dir>/scep/`). Exposes [`Enroll`] (the service: [`Enroll::
//! handle`], the funnel, refusals and settings), [`Answer`], [`EnrollError`] and
//! [`gate::Refusal`]. Calls devices (facts, timeline), tokens, push (the topic; no profile is
//! served without a valid push certificate), profiles, and acme (one-time ClientIdentifiers;
//! it registers itself for ACME's device outcomes, which join the funnel); never names actix
//! types; the HTTP shapes of answers and refusals are decided in `http::enroll`.
//!
//! Trust: the MachineInfo's signer must chain to the anchors passed in — Apple's pinned
//! Device CA in production, the stand-in CA of `sim::apple_pki` only in sandbox and tests
//! (design rule 10; `daemon` refuses stand-in roots in production).

pub mod events;
pub mod gate;
pub mod scep;
pub mod signing;

pub use events::{EnrollEvent, EnrollSettings, Funnel, FunnelStep, Step};
pub use gate::Refusal;
pub use signing::{ProfileSigner, SigningError};

use crate::apple::enroll_profile::{
    IdentityInputs, IdentityKind, MdmInputs, ProfileInputs, build_profile, choose_identity,
    random_uuid, subject,
};
use crate::apple::machineinfo::{MachineInfo, MachineInfoError, verify_machine_info};
use crate::clock::Clock;
use crate::crypto::chain::TrustAnchors;
use crate::ids::Serial;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// This module's tables, all created when the store opens ([`Store::open`]).
pub const TABLES: &[crate::store::Table] =
    &[events::EVENTS, events::COUNTS, events::SETTINGS, scep::challenge::CHALLENGES];

/// The profile's `PayloadIdentifier` (the device replaces an installed profile with the same one).
const PROFILE_IDENTIFIER: &str = "org.adebox.enroll";

/// How long a ClientIdentifier handed out in a profile stays valid for ACME.
pub const CLIENT_IDENTIFIER_TTL: Duration = Duration::hours(1);

#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// The body is over the size limit.
    #[error("the request body is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    /// The body is not a signed MachineInfo at all (garbage, not CMS, not a plist).
    #[error("{0}")]
    Malformed(String),
    /// The gate refused the device.
    #[error("{}", .0.words())]
    Refused(Refusal),
    /// The device must update its OS first (spec §1.5).
    #[error("the device must update to at least {os_version} first")]
    OsUpdateRequired { os_version: String },
    /// Serving profiles is not possible yet on this build.
    #[error("{0}")]
    Unavailable(String),
    /// No valid push certificate: a profile now would carry no reachable topic (spec §2.2),
    /// so the device is asked to try again later.
    #[error("{0}")]
    NoPushCertificate(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::store::redb_errors_into!(EnrollError);

/// A device whose MachineInfo verified and whom the gate let in, not yet given a profile.
#[derive(Clone, Debug)]
pub struct Admitted {
    pub machine_info: MachineInfo,
    /// This appliance's profile the device has at Apple, when it has one.
    pub profile: Option<crate::profiles::DefinedProfile>,
}

/// What the device gets when it may enroll.
#[derive(Debug)]
pub enum Answer {
    /// The signed enrollment profile (`application/x-apple-aspen-config`).
    Profile(Vec<u8>),
}

/// The services enrollment asks: which tokens and profiles are this appliance's, ACME,
/// which learns each one-time ClientIdentifier handed out, and push, whose certificate's
/// topic goes into every profile.
pub struct Peers {
    pub tokens: crate::tokens::Tokens,
    pub profiles: crate::profiles::Profiles,
    pub acme: crate::acme::AcmeService,
    pub push: crate::push::Push,
}

/// The enrollment service (cheap to clone).
#[derive(Clone)]
pub struct Enroll {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    tokens: crate::tokens::Tokens,
    profiles: crate::profiles::Profiles,
    anchors: TrustAnchors,
    signer: ProfileSigner,
    urls: crate::urls::Urls,
    acme: crate::acme::AcmeService,
    push: crate::push::Push,
}

impl Enroll {
    pub fn new(
        store: Store,
        clock: Clock,
        Peers { tokens, profiles, acme, push }: Peers,
        anchors: TrustAnchors,
        signer: ProfileSigner,
        urls: crate::urls::Urls,
    ) -> Enroll {
        // ACME reports refused attestations and issued identities into the funnel, the
        // refusal list and the device's timeline, inside its own transaction.
        acme.report_outcomes_to(Arc::new(|wtx, outcome| {
            events::record_with_timeline_in(wtx, &events::acme_event(outcome))
        }));
        Enroll {
            inner: Arc::new(Inner {
                store,
                clock,
                tokens,
                profiles,
                anchors,
                signer,
                urls,
                acme,
                push,
            }),
        }
    }

    /// A device posted `body` to the profile URL: verify, gate, answer. Every outcome is
    /// recorded in the funnel and, for devices in the inventory, on their timeline.
    /// A device whose profile has user affinity is refused here: its profile is served only
    /// after its user signs in at the profile's `configuration_web_url` (spec §1.6), which
    /// Setup Assistant opens instead of posting here.
    pub async fn handle(&self, body: Vec<u8>) -> Result<Answer, EnrollError> {
        let admitted = self.admit(body).await?;
        if admitted.profile.as_ref().is_some_and(|p| p.user_affinity == "with_affinity") {
            let refusal = Refusal::SignInRequired(self.inner.urls.enroll_web());
            let mi = &admitted.machine_info;
            log::warn!(serial = mi.serial.as_str(), reason = refusal.code(); "enrollment refused: {}", refusal.words());
            let words = format!("refused: {}", refusal.words());
            let now = self.inner.clock.now();
            self.record(Some(mi), Step::Refused, Some(&refusal), words, now).await?;
            return Err(EnrollError::Refused(refusal));
        }
        self.serve(admitted).await
    }

    /// The checks of [`Self::handle`] before a profile is made: the MachineInfo verifies, a
    /// push certificate exists, the gate lets the device in and its OS is new enough. The web
    /// sign-in page (`signin`) admits a device this way, then serves it after the sign-in.
    pub async fn admit(&self, body: Vec<u8>) -> Result<Admitted, EnrollError> {
        let now = self.inner.clock.now();
        let max = crate::apple::machineinfo::MAX_MACHINE_INFO_LEN;
        if body.len() > max {
            return Err(EnrollError::TooLarge { len: body.len(), max });
        }
        let anchors = self.inner.anchors.clone();
        let verified = tokio::task::spawn_blocking(move || verify_machine_info(&body, &anchors))
            .await
            .map_err(|_| EnrollError::Store(StoreError::TaskFailed))?;
        let mi = match verified {
            Ok(mi) => mi,
            Err(e) => {
                let refusal = Refusal::BadMachineInfo(e.to_string());
                self.record(None, Step::Refused, Some(&refusal), refusal.words(), now).await?;
                log::warn!(reason = refusal.code(); "enrollment refused: {e}");
                return Err(match e {
                    MachineInfoError::TooLarge { len, max } => EnrollError::TooLarge { len, max },
                    MachineInfoError::Signature(crate::crypto::cms::CmsError::Malformed(m))
                    | MachineInfoError::NotPlist(m) => EnrollError::Malformed(m),
                    MachineInfoError::NotDictionary | MachineInfoError::MissingKey(_) => {
                        EnrollError::Malformed(e.to_string())
                    }
                    _ => EnrollError::Refused(refusal),
                });
            }
        };
        self.record(Some(&mi), Step::Contacted, None, contacted_words(&mi), now).await?;
        // Without a push certificate the profile would carry no topic devices can be woken on
        // (and the topic can never change after enrollment, spec §2.2): ask to retry later.
        if let Err(e) = self.inner.push.topic_for_enrollment().await {
            let words = format!("not served yet: {e}");
            log::warn!(serial = mi.serial.as_str(); "enrollment profile not served: {e}");
            self.record(Some(&mi), Step::Refused, None, words, now).await?;
            return Err(EnrollError::NoPushCertificate(e.to_string()));
        }

        let (gate, owned_profile) = self.gather(&mi.serial, mi.product.as_deref()).await?;
        if let Err(refusal) = gate::decide(&gate) {
            let audit_only = self.settings().await?.audit_only;
            let step = if audit_only { Step::Audited } else { Step::Refused };
            let words = if audit_only {
                format!("audit-only mode let it through; otherwise refused: {}", refusal.words())
            } else {
                format!("refused: {}", refusal.words())
            };
            log::warn!(serial = mi.serial.as_str(), reason = refusal.code(), audit_only = audit_only; "enrollment gate: {}", refusal.words());
            self.record(Some(&mi), step, Some(&refusal), words, now).await?;
            if !audit_only {
                return Err(EnrollError::Refused(refusal));
            }
        }
        let minimum_os = owned_profile.as_ref().and_then(|p| p.minimum_os.as_ref());
        let pinned_os = owned_profile.as_ref().and_then(|p| p.pinned_os.as_ref());
        if let Some(os_version) = gate::os_update_needed(&mi, minimum_os, pinned_os) {
            let words = format!("asked to update to {os_version} or later before enrolling");
            self.record(Some(&mi), Step::OsUpdateRequired, None, words, now).await?;
            return Err(EnrollError::OsUpdateRequired { os_version });
        }
        Ok(Admitted { machine_info: mi, profile: owned_profile })
    }

    /// The signed enrollment profile for a device [`Self::admit`] let in.
    pub async fn serve(&self, admitted: Admitted) -> Result<Answer, EnrollError> {
        let now = self.inner.clock.now();
        let mi = admitted.machine_info;
        let signed = self.signed_profile(&mi, now).await?;
        self.record(Some(&mi), Step::ProfileServed, None, "enrollment profile served".into(), now)
            .await?;
        log::info!(serial = mi.serial.as_str(); "enrollment profile served");
        Ok(Answer::Profile(signed))
    }

    /// The signed enrollment profile of an enrolled device, for Return to Service
    /// (`MDMProfileData`, apple-2026.md §2.2): the device installs it after the erase, so its
    /// one-time identity is issued now, as for a device in Setup Assistant.
    pub async fn device_profile(
        &self,
        udid: &crate::ids::Udid,
        serial: &Serial,
        product: Option<&str>,
        os_version: Option<&str>,
    ) -> Result<Vec<u8>, EnrollError> {
        let mut mi = MachineInfo::new(udid.clone(), serial.clone());
        mi.product = product.map(str::to_string);
        mi.os_version = os_version.map(str::to_string);
        self.signed_profile(&mi, self.inner.clock.now()).await
    }

    /// The profile for `mi` with a fresh identity, signed.
    async fn signed_profile(
        &self,
        mi: &MachineInfo,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, EnrollError> {
        let topic = match self.inner.push.topic_for_enrollment().await {
            Ok(topic) => topic,
            Err(e) => return Err(EnrollError::NoPushCertificate(e.to_string())),
        };
        let identity = match choose_identity(mi) {
            IdentityKind::Scep => self.scep_identity(mi, now).await?,
            IdentityKind::Acme => self.acme_identity(mi, now).await?,
        };
        let plist = self.profile_for(mi, identity, topic)?;
        let signer = self.inner.signer.clone();
        tokio::task::spawn_blocking(move || signer.sign(&plist, now))
            .await
            .map_err(|_| EnrollError::Store(StoreError::TaskFailed))?
            .map_err(|e| EnrollError::Unavailable(e.to_string()))
    }

    /// The ACME identity payload: a one-time ClientIdentifier bound to the device.
    async fn acme_identity(
        &self,
        mi: &MachineInfo,
        now: OffsetDateTime,
    ) -> Result<IdentityInputs, EnrollError> {
        let client_identifier = new_client_identifier();
        self.inner
            .acme
            .expect_device(&client_identifier, &mi.serial, &mi.udid, now + CLIENT_IDENTIFIER_TTL)
            .await
            .map_err(|e| EnrollError::Unavailable(e.to_string()))?;
        Ok(IdentityInputs::Acme {
            directory_url: self.inner.urls.acme_directory(),
            client_identifier,
            subject: subject("adebox", mi.udid.as_str()),
        })
    }

    /// The SCEP identity payload for a device too old for ACME (§1.7, §2.5): a one-time
    /// challenge bound to the device, valid [`scep::challenge::CHALLENGE_TTL`].
    async fn scep_identity(
        &self,
        mi: &MachineInfo,
        now: OffsetDateTime,
    ) -> Result<IdentityInputs, EnrollError> {
        let (serial, udid) = (mi.serial.clone(), mi.udid.clone());
        let challenge = self
            .inner
            .store
            .write(move |wtx| scep::challenge::issue_in(wtx, &serial, &udid, now))
            .await?;
        // CN = UDID, never empty: a MachineInfo without one is refused when it is read.
        Ok(IdentityInputs::Scep {
            url: self.inner.urls.scep(),
            challenge,
            subject: subject("adebox", mi.udid.as_str()),
            // The URL is served with the certificate the MDM URLs use (pinned while it is the
            // appliance CA's); a fingerprint would have to name the CA or the RA, which Apple
            // leaves unclear.
            ca_fingerprint: None,
        })
    }

    /// The unsigned enrollment profile (../shared/spec/enrollment.md §2.7): the appliance CA,
    /// the `identity` payload, and `com.apple.mdm` pinned to that CA. The root payload follows
    /// the profiles' `anchor_certs` (the TLS certificate in use): under a publicly trusted
    /// certificate there is none, and nothing is pinned (apple-2026.md §7); the device's
    /// identity certificate, issued by the appliance CA, needs no root on the device.
    fn profile_for(
        &self,
        mi: &MachineInfo,
        identity: IdentityInputs,
        topic: String,
    ) -> Result<Vec<u8>, EnrollError> {
        let urls = &self.inner.urls;
        let inputs = ProfileInputs {
            identifier: PROFILE_IDENTIFIER.into(),
            display_name: "Device management".into(),
            organization: "adebox".into(),
            description: Some(format!(
                "Enrolls this device ({}) in the organisation's device management.",
                mi.serial
            )),
            ca_der: self.inner.profiles.anchor_certs().into_iter().next(),
            ca_file_name: "adebox-ca.cer".into(),
            identity,
            mdm: MdmInputs {
                topic,
                server_url: urls.mdm_server(),
                check_in_url: urls.mdm_checkin(),
                // Devices escrow their bootstrap token only with this (apple-2026.md §3.1).
                server_capabilities: vec!["com.apple.mdm.bootstraptoken".into()],
            },
        };
        build_profile(&inputs, &mut random_uuid)
            .and_then(|p| p.to_xml())
            .map_err(|e| EnrollError::Unavailable(e.to_string()))
    }

    /// The gate's facts about `serial`, and the appliance profile the device has at Apple.
    async fn gather(
        &self,
        serial: &Serial,
        product: Option<&str>,
    ) -> Result<(gate::Gate, Option<crate::profiles::DefinedProfile>), EnrollError> {
        let serials = vec![serial.clone()];
        let facts =
            self.inner.store.read(move |rtx| crate::devices::facts_in(rtx, &serials)).await?.pop();
        let Some(f) = facts else { return Ok((gate::Gate { device: None }, None)) };
        let token_is_ours = self
            .inner
            .tokens
            .list()
            .await
            .map_err(|e| EnrollError::Unavailable(e.to_string()))?
            .iter()
            .any(|t| t.id == f.token);
        let owned = match &f.profile_uuid {
            Some(uuid) => self.inner.profiles.defined_as(&f.token, uuid).await?,
            None => None,
        };
        let device = gate::DeviceFacts {
            removed: f.removed,
            token_is_ours,
            has_profile: !f.has_no_profile(),
            our_profile: owned.as_ref().map(|p| p.profile_id.clone()),
            wrong_platform: owned.as_ref().and_then(|p| {
                let family = f.family.as_deref().or_else(|| gate::family_of(product));
                crate::profiles::platform::guard(&p.name, &p.platforms, family)
                    .err()
                    .map(|e| e.to_string())
            }),
        };
        Ok((gate::Gate { device: Some(device) }, owned))
    }

    /// Adds an event to the funnel and, when the device is in the inventory, its timeline.
    async fn record(
        &self,
        mi: Option<&MachineInfo>,
        step: Step,
        refusal: Option<&Refusal>,
        message: String,
        now: OffsetDateTime,
    ) -> Result<(), EnrollError> {
        let event = EnrollEvent {
            at: now,
            step,
            serial: mi.map(|m| m.serial.clone()),
            udid: mi.map(|m| m.udid.clone()),
            product: mi.and_then(|m| m.product.clone()),
            reason: refusal.map(|r| r.code().to_string()),
            message,
        };
        self.inner.store.write(move |wtx| events::record_with_timeline_in(wtx, &event)).await?;
        Ok(())
    }

    pub async fn settings(&self) -> Result<EnrollSettings, EnrollError> {
        Ok(self.inner.store.read(events::settings_in).await?)
    }

    pub async fn set_settings(&self, s: EnrollSettings) -> Result<EnrollSettings, EnrollError> {
        self.inner.store.write(move |wtx| events::set_settings_in(wtx, &s)).await?;
        Ok(s)
    }

    /// The profile URL devices post their MachineInfo to (what every profile tells Apple).
    pub fn enrollment_url(&self) -> String {
        self.inner.urls.enroll_machine_info()
    }

    /// Counts per funnel step, all time and in the last 24 hours.
    pub async fn funnel(&self) -> Result<Funnel, EnrollError> {
        let since = self.inner.clock.now() - Duration::hours(24);
        Ok(self.inner.store.read(move |rtx| events::funnel_in(rtx, since)).await?)
    }

    /// Recent refusals (and audit-only passes), newest first, and how many are kept.
    /// Refusals since `since` recorded after event `after` (all of them without), and the
    /// newest event's sequence: what the alert rules count, reading each event once.
    pub async fn refused_after(
        &self,
        after: Option<u64>,
        since: OffsetDateTime,
    ) -> Result<(Vec<OffsetDateTime>, Option<u64>), EnrollError> {
        Ok(self.inner.store.read(move |rtx| events::refused_after_in(rtx, after, since)).await?)
    }

    pub async fn refusals(
        &self,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<EnrollEvent>, u64), EnrollError> {
        Ok(self.inner.store.read(move |rtx| events::refusals_in(rtx, limit, offset)).await?)
    }
}

fn contacted_words(mi: &MachineInfo) -> String {
    let model = mi.product.as_deref().unwrap_or("unknown model");
    let os = mi.os_version.as_deref().or(mi.version.as_deref()).unwrap_or("unknown OS");
    format!("contacted the enrollment URL ({model}, {os})")
}

/// A one-time ClientIdentifier: 32 random bytes, base64url (no `/`, which draft-09 forbids in
/// permanent-identifier values, spec §2.3).
fn new_client_identifier() -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(&crate::crypto::random_bytes::<32>())
}

/// The files of `<data_dir>/enroll/` and of the SCEP CA and RA's `<data_dir>/scep/` a backup
/// must carry, as `("enroll/<name>", contents)`.
pub fn backup_files(data_dir: &std::path::Path) -> Result<crate::files::Carried, SigningError> {
    let mut files = signing::PROFILE_FILES.backup(data_dir)?;
    files.extend(scep::ra::backup_files(data_dir)?);
    Ok(files)
}

/// Puts back the `enroll/` and `scep/` files a backup carried (keys 0600, folders 0700);
/// other names are ignored. Returns how many.
pub fn restore_files(
    data_dir: &std::path::Path,
    files: &[(String, Vec<u8>)],
) -> Result<usize, SigningError> {
    Ok(signing::PROFILE_FILES.restore(data_dir, files)? + scep::ra::restore_files(data_dir, files)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_identifiers_are_unique_and_have_no_slash() {
        let a = new_client_identifier();
        assert_ne!(a, new_client_identifier());
        assert!(!a.contains('/') && a.len() >= 43, "{a}");
    }
}
