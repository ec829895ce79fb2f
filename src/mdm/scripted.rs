//! The command API (issue 19 item 2), as NanoMDM's `/v1/enqueue` and `/v1/push`: a script
//! sends any MDM command as a raw plist for devices named by UDID or serial; each device's
//! outcome is reported separately, so one unknown id does not stop the others.
//!
//! Who may send what is decided here, in one place ([`permission_for`]): erase-like request
//! types and types adebox does not know need `device_erase` (Owner); the others
//! `device_commands`.

use super::queue::{NORMAL, Queued, enqueue_as_in};
use super::records::{BY_SERIAL, ENROLLMENTS, EnrollmentRec, load_enrollment, udid_key};
use super::{Mdm, MdmError, PushTarget, push_target};
use crate::admin::Permission;
use crate::apple::mdm::request_types::{self, Class};
use crate::apple::mdm::{Command, CommandRequest};
use crate::ids::{Serial, Udid};
use crate::schemas::{describe, os_of_product};
use crate::store;
use redb::{ReadTransaction, WriteTransaction};

/// Most devices one request names.
pub const MAX_IDS: usize = 500;

/// What a caller needs to send `request_type`.
pub fn permission_for(request_type: &str) -> Permission {
    match request_types::classify(request_type) {
        Class::Known => Permission::DeviceCommands,
        Class::EraseLike | Class::Unknown => Permission::DeviceErase,
    }
}

/// One device's outcome (NanoMDM's per-id status).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdOutcome {
    pub id: String,
    pub command_error: Option<String>,
    pub push_error: Option<String>,
}

impl IdOutcome {
    pub fn failed(&self) -> bool {
        self.command_error.is_some() || self.push_error.is_some()
    }
}

/// Splits the `{id,…}` path segment: trimmed, empty parts dropped, duplicates once.
pub fn split_ids(text: &str) -> Result<Vec<String>, MdmError> {
    let mut ids: Vec<String> = Vec::new();
    for id in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !ids.iter().any(|x| x.eq_ignore_ascii_case(id)) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(MdmError::Invalid {
            field: "id",
            message: format!("name 1 to {MAX_IDS} devices by UDID or serial, separated by commas"),
        });
    }
    Ok(ids)
}

/// The enrollment an id names: a UDID, else a serial number.
fn enrollment_in(wtx: &WriteTransaction, id: &str) -> Result<EnrollmentRec, MdmError> {
    if let Ok(udid) = Udid::parse(id)
        && let Some(e) = load_enrollment(wtx, &udid)?
    {
        return Ok(e);
    }
    if let Ok(serial) = Serial::parse(id) {
        let udid: Option<String> = store::get(&wtx.open_table(BY_SERIAL)?, serial.as_bytes())?;
        if let Some(u) = udid
            && let Some(e) = load_enrollment(wtx, &Udid::from_stored(u))?
        {
            return Ok(e);
        }
    }
    Err(MdmError::UnknownDevice(id.to_string()))
}

fn push_error(target: &Option<PushTarget>) -> Option<String> {
    target.is_none().then(|| "the device has no push token yet (no TokenUpdate); it gets the command when it next checks in".to_string())
}

impl Mdm {
    /// Queues `request` for every device `ids` names, in one transaction, then pushes them
    /// unless `no_push`. `actor` is who sent it (the command's origin and the timeline).
    pub async fn enqueue_request(
        &self,
        ids: Vec<String>,
        request: CommandRequest,
        actor: &str,
        no_push: bool,
    ) -> Result<Vec<IdOutcome>, MdmError> {
        let actor = actor.to_string();
        let now = self.inner.clock.now();
        // Each device is checked for its own OS: the API checked the command for any OS.
        let check = self.inner.schemas.knows_command(&request.request_type) == Some(true);
        let schemas = self.inner.schemas.clone();
        let (outcomes, targets) = self
            .inner
            .store
            .write(move |wtx| {
                let (mut outcomes, mut targets) = (Vec::new(), Vec::new());
                for id in ids {
                    let mut out = IdOutcome { id: id.clone(), ..Default::default() };
                    let queued = enrollment_in(wtx, &id).and_then(|mut e| {
                        if e.checked_out_at.is_some() {
                            return Err(MdmError::CheckedOut);
                        }
                        let command = Command::Raw {
                            kind: request.request_type.clone(),
                            command: request.command.clone(),
                        };
                        if check {
                            let os = e.product.as_deref().map(os_of_product);
                            schemas.check_command(&request.value, os).map_err(|v| {
                                MdmError::Invalid {
                                    field: "Command",
                                    message: format!(
                                        "Apple's schema refuses it for this device ({}): {}",
                                        e.product.as_deref().unwrap_or("model unknown"),
                                        describe(&v)
                                    ),
                                }
                            })?;
                        }
                        let words = command.words();
                        let how = Queued {
                            uuid: request.uuid.clone(),
                            priority: NORMAL,
                            origin: &actor,
                            hold_for_earlier: false,
                        };
                        enqueue_as_in(wtx, &mut e, command, how, now)?;
                        let words = format!("{actor} queued through the command API: {words}");
                        super::queued_in(wtx, &e, words, now)
                    });
                    match queued {
                        Ok(target) => {
                            if !no_push {
                                out.push_error = push_error(&target);
                                targets.extend(target);
                            }
                        }
                        Err(e @ (MdmError::Store(_) | MdmError::Lookup(_))) => return Err(e),
                        Err(e) => out.command_error = Some(e.to_string()),
                    }
                    outcomes.push(out);
                }
                Ok::<_, MdmError>((outcomes, targets))
            })
            .await?;
        for t in targets {
            self.nudge(Some(t));
        }
        Ok(outcomes)
    }

    /// Pushes every device `ids` names (NanoMDM's `/v1/push`).
    /// The serial of each id (a UDID or a serial) that names an enrolled device.
    pub async fn serials_of(&self, ids: Vec<String>) -> Result<Vec<Serial>, MdmError> {
        self.inner
            .store
            .read(move |rtx| {
                let mut serials = Vec::new();
                for id in &ids {
                    if let Some(e) = enrollment_read(rtx, id)? {
                        serials.push(e.serial);
                    }
                }
                Ok(serials)
            })
            .await
    }

    pub async fn push_ids(&self, ids: Vec<String>) -> Result<Vec<IdOutcome>, MdmError> {
        let (outcomes, targets) = self
            .inner
            .store
            .read(move |rtx| {
                let (mut outcomes, mut targets) = (Vec::new(), Vec::new());
                for id in ids {
                    let mut out = IdOutcome { id: id.clone(), ..Default::default() };
                    match enrollment_read(rtx, &id)? {
                        None => out.push_error = Some(MdmError::UnknownDevice(id).to_string()),
                        Some(e) => {
                            let target = push_target(&e);
                            out.push_error = push_error(&target);
                            targets.extend(target);
                        }
                    }
                    outcomes.push(out);
                }
                Ok::<_, MdmError>((outcomes, targets))
            })
            .await?;
        for t in targets {
            self.nudge(Some(t));
        }
        Ok(outcomes)
    }
}

/// [`enrollment_in`] for a read.
fn enrollment_read(rtx: &ReadTransaction, id: &str) -> Result<Option<EnrollmentRec>, MdmError> {
    let enrollments = rtx.open_table(ENROLLMENTS)?;
    if let Ok(udid) = Udid::parse(id)
        && let Some(e) = store::get(&enrollments, udid_key(&udid).as_bytes())?
    {
        return Ok(Some(e));
    }
    let Ok(serial) = Serial::parse(id) else { return Ok(None) };
    let udid: Option<String> = store::get(&rtx.open_table(BY_SERIAL)?, serial.as_bytes())?;
    match udid {
        Some(u) => Ok(store::get(&enrollments, udid_key(&Udid::from_stored(u)).as_bytes())?),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_split_trimmed_and_bounded() {
        assert_eq!(split_ids(" a, b ,,A").unwrap(), ["a", "b"]);
        assert!(split_ids(" , ").is_err());
        let many: Vec<String> = (0..=MAX_IDS).map(|i| format!("d{i}")).collect();
        assert!(split_ids(&many.join(",")).is_err());
    }

    #[test]
    fn erase_like_and_unknown_commands_need_the_owners_permission() {
        assert_eq!(permission_for("ProfileList"), Permission::DeviceCommands);
        assert_eq!(permission_for("InstallProfile"), Permission::DeviceCommands);
        assert_eq!(permission_for("EraseDevice"), Permission::DeviceErase);
        assert_eq!(permission_for("DeviceLock"), Permission::DeviceErase);
        assert_eq!(permission_for("MadeUpCommand"), Permission::DeviceErase);
    }
}
