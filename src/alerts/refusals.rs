//! The enrollment refusals of the last hour, as the alert rules count them, kept between
//! evaluations: each evaluation reads only the events recorded since the previous one, so
//! running the rules often costs little however many events the store keeps.

use std::collections::VecDeque;
use time::{Duration, OffsetDateTime};

/// Refusal times within the last hour and the newest enrollment event read.
#[derive(Debug, Default)]
pub(super) struct RefusalWindow {
    newest: Option<u64>,
    times: VecDeque<OffsetDateTime>,
}

impl RefusalWindow {
    /// Refusals in the hour before `now`, reading what is new from `enroll`.
    pub(super) async fn count(
        &mut self,
        enroll: &crate::enroll::Enroll,
        now: OffsetDateTime,
    ) -> Result<u32, crate::enroll::EnrollError> {
        let since = now - Duration::hours(1);
        let (mut new, newest) = enroll.refused_after(self.newest, since).await?;
        if newest < self.newest {
            // The events were replaced (a restored backup): read the hour again.
            self.times.clear();
            (new, _) = enroll.refused_after(None, since).await?;
        }
        self.newest = newest;
        self.times.extend(new);
        while self.times.front().is_some_and(|t| *t < since) {
            self.times.pop_front();
        }
        Ok(self.times.iter().filter(|t| **t <= now).count() as u32)
    }
}
