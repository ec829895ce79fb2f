//! One device's run of its profile's steps ([`SetupRun`]): planned once when Setup Assistant
//! starts waiting (a snapshot: editing the profile's steps later never changes it), then
//! advanced by the device's answers. Pure: [`SetupRun::next`] says what to do now, the other
//! methods record what happened; `mdm` queues the commands and writes the timeline.

use super::steps::OnError;
use crate::apple::mdm::Command;
use serde::{Deserialize, Serialize};

/// Where one step of a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Not sent yet.
    Waiting,
    /// Queued for the device; no answer yet.
    Sent,
    /// The device acknowledged it.
    Done,
    /// The device reported an error and the step blocks the release.
    Failed,
    /// Not run (nothing to send on this device) or failed with "skip", or passed over by
    /// "release anyway"; `detail` says which.
    Skipped,
}

/// One step of a run, with the command it sends (built when the run was planned).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunStep {
    /// Plain words for the page and the timeline ("Install the profile \"Wi-Fi\"").
    pub title: String,
    /// `None` when the step has nothing to send on this device (state `Skipped`).
    #[serde(default)]
    pub command: Option<Command>,
    pub on_error: OnError,
    pub state: StepState,
    /// The CommandUUID of its latest delivery.
    #[serde(default)]
    pub command_uuid: Option<String>,
    /// Why it failed or was skipped.
    #[serde(default)]
    pub detail: Option<String>,
    /// How many times it was sent (retries included).
    #[serde(default)]
    pub attempts: u32,
}

impl RunStep {
    /// A step that sends `command`.
    pub fn send(title: String, command: Command, on_error: OnError) -> RunStep {
        RunStep {
            title,
            command: Some(command),
            on_error,
            state: StepState::Waiting,
            command_uuid: None,
            detail: None,
            attempts: 0,
        }
    }

    /// A step with nothing to send on this device.
    pub fn skipped(title: String, why: String, on_error: OnError) -> RunStep {
        RunStep {
            title,
            command: None,
            on_error,
            state: StepState::Skipped,
            command_uuid: None,
            detail: Some(why),
            attempts: 0,
        }
    }
}

/// A device's run of its steps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SetupRun {
    pub steps: Vec<RunStep>,
    /// Who released the device without its remaining steps.
    #[serde(default)]
    pub released_anyway_by: Option<String>,
}

/// What the run needs now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Send step `i`.
    Send(usize),
    /// Step `i` is with the device; wait for its answer.
    Wait(usize),
    /// Step `i` failed and blocks: an admin retries it or releases anyway.
    Blocked(usize),
    /// Every step is done or skipped: send DeviceConfigured.
    Release,
}

impl SetupRun {
    pub fn new(steps: Vec<RunStep>) -> SetupRun {
        SetupRun { steps, released_anyway_by: None }
    }

    /// Steps run in order: the first unfinished one decides.
    pub fn next(&self) -> Next {
        for (i, s) in self.steps.iter().enumerate() {
            match s.state {
                StepState::Done | StepState::Skipped => continue,
                StepState::Waiting => return Next::Send(i),
                StepState::Sent => return Next::Wait(i),
                StepState::Failed => return Next::Blocked(i),
            }
        }
        Next::Release
    }

    /// Marks step `i` sent as `command_uuid`.
    pub fn sent(&mut self, i: usize, command_uuid: String) {
        let s = &mut self.steps[i];
        s.state = StepState::Sent;
        s.command_uuid = Some(command_uuid);
        s.attempts += 1;
    }

    /// The step waiting for the answer to `command_uuid`.
    pub fn step_of(&self, command_uuid: &str) -> Option<usize> {
        self.steps.iter().position(|s| {
            s.state == StepState::Sent && s.command_uuid.as_deref() == Some(command_uuid)
        })
    }

    /// Records the device's answer to step `i`: acknowledged, or an error described by `why`.
    pub fn answered(&mut self, i: usize, acknowledged: bool, why: &str) {
        let s = &mut self.steps[i];
        if acknowledged {
            s.state = StepState::Done;
            s.detail = None;
            return;
        }
        s.detail = Some(why.to_string());
        s.state = match s.on_error {
            OnError::Block => StepState::Failed,
            OnError::Skip => StepState::Skipped,
        };
    }

    /// Puts the blocking step back in line; returns its index, or `None` when nothing blocks.
    pub fn retry(&mut self) -> Option<usize> {
        let Next::Blocked(i) = self.next() else { return None };
        // A step refused before sending (its command off Apple's schema) has nothing to retry.
        self.steps[i].command.as_ref()?;
        self.steps[i].state = StepState::Waiting;
        Some(i)
    }

    /// Skips every unfinished step, noting who released the device.
    pub fn release_anyway(&mut self, actor: &str) {
        for s in &mut self.steps {
            if matches!(s.state, StepState::Waiting | StepState::Sent | StepState::Failed) {
                let before = s.detail.take();
                let why = format!("not run: {actor} released the device anyway");
                s.detail = Some(match before {
                    Some(b) => format!("{b}; {why}"),
                    None => why,
                });
                s.state = StepState::Skipped;
            }
        }
        self.released_anyway_by = Some(actor.to_string());
    }

    /// The step that blocks, with why.
    pub fn blocked(&self) -> Option<(usize, &RunStep)> {
        match self.next() {
            Next::Blocked(i) => Some((i, &self.steps[i])),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(policies: &[OnError]) -> SetupRun {
        SetupRun::new(
            policies
                .iter()
                .enumerate()
                .map(|(i, p)| RunStep::send(format!("step {i}"), Command::DeviceConfigured, *p))
                .collect(),
        )
    }

    #[test]
    fn steps_go_out_one_at_a_time_then_the_release() {
        let mut r = run(&[OnError::Block, OnError::Block]);
        assert_eq!(r.next(), Next::Send(0));
        r.sent(0, "a".into());
        assert_eq!(r.next(), Next::Wait(0));
        assert_eq!(r.step_of("a"), Some(0));
        r.answered(0, true, "");
        assert_eq!(r.next(), Next::Send(1));
        r.sent(1, "b".into());
        r.answered(1, true, "");
        assert_eq!(r.next(), Next::Release);
        assert_eq!(SetupRun::default().next(), Next::Release);
    }

    #[test]
    fn a_failing_blocking_step_holds_until_retried_or_released_anyway() {
        let mut r = run(&[OnError::Block, OnError::Block]);
        r.sent(0, "a".into());
        r.answered(0, false, "profile refused");
        assert_eq!(r.next(), Next::Blocked(0));
        assert_eq!(r.blocked().unwrap().1.detail.as_deref(), Some("profile refused"));
        assert_eq!(r.retry(), Some(0));
        assert_eq!(r.next(), Next::Send(0));
        r.sent(0, "a2".into());
        assert_eq!(r.step_of("a"), None, "an answer to the old delivery is not this one");
        r.answered(0, false, "again");
        r.release_anyway("ann");
        assert_eq!(r.next(), Next::Release);
        assert_eq!(r.steps[0].attempts, 2);
        assert!(r.steps[1].detail.as_deref().unwrap().contains("ann released"));
        assert_eq!(r.retry(), None);
    }

    #[test]
    fn a_failing_skipped_step_lets_the_next_one_go() {
        let mut r = run(&[OnError::Skip, OnError::Block]);
        r.sent(0, "a".into());
        r.answered(0, false, "no");
        assert_eq!(r.steps[0].state, StepState::Skipped);
        assert_eq!(r.next(), Next::Send(1));
    }
}
