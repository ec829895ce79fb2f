//! The bootstrap-token check-ins (`../shared/spec/apple-2026.md` §3.2): `SetBootstrapToken`
//! stores (or, empty, deletes) the device's token through `lifecycle`, `GetBootstrapToken`
//! answers with the exact stored bytes (zero-length data when there is none: still 200).
//! Both need a current enrollment: a device that checked out must enroll again first.
//! A `ReturnToService` check-in (§2.4) is answered with the settings the admin gave when
//! starting Return to Service for the device and an enrollment profile signed for this
//! answer, and refused while there are none.

use super::records::load_enrollment;
use super::{Mdm, MdmError};
use crate::apple::mdm::{CheckIn, bootstrap_token_response};
use crate::lifecycle::{BootstrapError, bootstrap, rts};

impl Mdm {
    /// Handles the check-ins that answer with a body; `None` for the others (the caller
    /// handles those).
    pub(super) async fn lifecycle_check_in(
        &self,
        msg: &CheckIn,
    ) -> Result<Option<Vec<u8>>, MdmError> {
        if !matches!(
            msg,
            CheckIn::SetBootstrapToken(_)
                | CheckIn::GetBootstrapToken(_)
                | CheckIn::ReturnToService(_)
        ) {
            return Ok(None);
        }
        let profile = match msg {
            CheckIn::ReturnToService(_) => {
                self.handover_profile(msg.udid(), super::rts::HandoverKind::CheckIn).await?
            }
            _ => None,
        };
        let now = self.inner.clock.now();
        let sealer = self.inner.store.sealer().clone();
        let msg = msg.clone();
        let body = self
            .inner
            .store
            .write(
                move |wtx| {
                    let mut e = match load_enrollment(wtx, msg.udid())? {
                        Some(e) if e.checked_out_at.is_some() => return Err(MdmError::CheckedOut),
                        Some(e) => e,
                        None => return Err(MdmError::NotEnrolled),
                    };
                    e.last_seen = now;
                    super::records::save_enrollment(wtx, &e)?;
                    let body = match &msg {
                        CheckIn::SetBootstrapToken(b) => {
                            bootstrap::set_in(
                                wtx,
                                &sealer,
                                &b.udid,
                                &b.token,
                                b.awaiting_configuration,
                                now,
                            )
                            .map_err(|err| match err {
                                BootstrapError::TooLarge { .. } => MdmError::Invalid {
                                    field: "BootstrapToken",
                                    message: err.to_string(),
                                },
                                BootstrapError::Store(s) => MdmError::Store(s),
                            })?;
                            log::info!(udid = b.udid.as_str(), bytes = b.token.len(); "bootstrap token set");
                            Vec::new()
                        }
                        CheckIn::GetBootstrapToken(g) => {
                            let token = bootstrap::token_in(wtx, &sealer, &g.udid)?;
                            let bytes = token.as_ref().map(|t| t.expose().as_slice()).unwrap_or(&[]);
                            bootstrap_token_response(bytes)
                        }
                        _ => {
                            let device = (e.product.as_deref(), e.os_version.as_deref());
                            let Some(mut rts) =
                                rts::settings_in(wtx, &sealer, &e.udid, device, None)?
                            else {
                                return Err(MdmError::Invalid {
                                    field: "MessageType",
                                    message: "Return to Service is not set up for this device; \
                                              start it from the device page"
                                        .into(),
                                });
                            };
                            rts.mdm_profile =
                                super::rts::handed_profile_in(wtx, &e.serial, profile, now)?;
                            let given = match (&rts.wifi_profile, &rts.mdm_profile) {
                                (Some(_), Some(_)) => "its Wi-Fi profile and a new enrollment profile",
                                (Some(_), None) => "its Wi-Fi profile",
                                (None, Some(_)) => "a new enrollment profile",
                                (None, None) => "no profiles",
                            };
                            crate::devices::note_in(
                                wtx,
                                &e.serial,
                                crate::devices::TimelineKind::MdmErased,
                                format!("the device started Return to Service; it was given {given}"),
                                now,
                            )?;
                            rts.check_in_response()
                        }
                    };
                    Ok::<_, MdmError>(body)
                },
            )
            .await?;
        Ok(Some(body))
    }
}
