//! The steps' commands checked against Apple's schemas before a run starts (`[mdm]
//! schemas_dir`): adebox builds them, so a command the schema refuses is a bug in adebox. It
//! is logged as an error and not sent; the step fails as its rule says (it blocks, with the
//! findings on the device page, or it is skipped), so no device gets a command Apple's schema
//! says it cannot read.

use super::run::{RunStep, SetupRun, StepState};
use super::steps::OnError;
use crate::schemas::{AppleSchemas, describe, os_of_product};

/// The CommandUUID the check uses: the real one is given when the step is queued.
const PROBE_UUID: &str = "00000000-0000-4000-8000-000000000000";

/// Refuses every waiting step whose command the schemas refuse for this device.
pub(super) fn refuse_off_schema(run: &mut SetupRun, product: Option<&str>, schemas: &AppleSchemas) {
    if schemas.notice().is_some() {
        return;
    }
    let os = product.map(os_of_product);
    for step in run.steps.iter_mut().filter(|s| s.state == StepState::Waiting) {
        let Some(command) = &step.command else { continue };
        let bytes = command.to_plist(PROBE_UUID, product);
        let found = match plist::Value::from_reader(std::io::Cursor::new(&bytes)) {
            Ok(value) => schemas.check_command(&value, os).err().map(|v| describe(&v)),
            Err(e) => Some(format!("the command is not a property list: {e}")),
        };
        if let Some(found) = found {
            log::error!(
                request_type = command.request_type(), step = step.title.as_str();
                "adebox built a setup step command that Apple's schema refuses (a bug; not sent): {found}"
            );
            refuse(
                step,
                format!(
                    "not sent: Apple's schema refuses the command adebox built (a bug in adebox; report it): {found}"
                ),
            );
        }
    }
}

fn refuse(step: &mut RunStep, why: String) {
    step.command = None;
    step.detail = Some(why);
    step.state = match step.on_error {
        OnError::Block => StepState::Failed,
        OnError::Skip => StepState::Skipped,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apple::mdm::Command;

    fn lock(message: &str) -> Command {
        let command = format!(
            "<plist version=\"1.0\"><dict><key>RequestType</key><string>DeviceLock</string>\
             <key>Message</key>{message}</dict></plist>"
        );
        Command::Raw { kind: "DeviceLock".into(), command: command.into_bytes() }
    }

    #[test]
    fn a_step_command_off_the_schema_is_not_sent_and_fails_as_its_rule_says() {
        let Some(fixtures) = crate::fixtures::dir() else { return };
        let schemas = AppleSchemas::load(Some(&fixtures.join("device-management"))).unwrap();
        let name = Command::DeviceName { name: "Lab-1".into() };
        let mut run = SetupRun::new(vec![
            RunStep::send("name".into(), name, OnError::Block),
            RunStep::send("bad, blocking".into(), lock("<integer>5</integer>"), OnError::Block),
            RunStep::send("bad, skipped".into(), lock("<integer>5</integer>"), OnError::Skip),
            RunStep::send("good".into(), lock("<string>Lost</string>"), OnError::Block),
        ]);
        // Without the schemas nothing changes.
        refuse_off_schema(&mut run, Some("iPhone15,2"), &AppleSchemas::off());
        assert!(run.steps.iter().all(|s| s.state == StepState::Waiting));
        refuse_off_schema(&mut run, Some("iPhone15,2"), &schemas);
        let states: Vec<StepState> = run.steps.iter().map(|s| s.state).collect();
        use StepState::*;
        assert_eq!(states, [Waiting, Failed, Skipped, Waiting]);
        let why = run.steps[1].detail.as_deref().unwrap();
        assert!(why.contains("Command.Message: expected string, found integer"), "{why}");
        assert!(run.steps[1].command.is_none() && run.steps[2].command.is_none());
        // A refused step has nothing to retry: it stays blocked until "release anyway".
        run.steps[0].state = Done;
        assert_eq!(run.retry(), None);
    }
}
