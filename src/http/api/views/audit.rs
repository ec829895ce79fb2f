//! The views of the audit log: a line (`/api/v1/audit`), an exported line with its MAC
//! (`/api/v1/audit/export`) and the chain's verification (`/api/v1/audit/verify`).

use crate::audit::Outcome;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// One audit line as stored and as the API returns it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Entry {
    pub id: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    #[schema(value_type = String, example = "success")]
    pub outcome: Outcome,
    pub remote_addr: Option<String>,
    pub detail: Option<String>,
    /// The action in plain words ("Set a default profile"); the page shows it, the code is
    /// secondary. Absent in the JSON-lines export, which carries the chained entry only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_words: Option<String>,
    /// `target` as the page shows it: a token or profile by its name, while it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// `detail` with the ids of existing tokens and profiles replaced by their quoted names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_words: Option<String>,
}

impl From<&crate::audit::Entry> for Entry {
    fn from(r: &crate::audit::Entry) -> Entry {
        Entry {
            id: r.id,
            at: r.at,
            actor: r.actor.clone(),
            action: r.action.clone(),
            target: r.target.clone(),
            outcome: r.outcome,
            remote_addr: r.remote_addr.clone(),
            detail: r.detail.clone(),
            action_words: None,
            target_name: None,
            detail_words: None,
        }
    }
}

impl Entry {
    /// The entry as the page reads it: the action in words, ids of tokens and profiles
    /// (`names`: id → name) shown as names. The stored entry is not changed.
    pub fn readable(mut self, names: &std::collections::HashMap<String, String>) -> Entry {
        self.action_words = Some(action_words(&self.action));
        self.target_name = self.target.as_ref().map(|t| match names.get(t.trim()) {
            Some(name) => name.clone(),
            // The push certificate's target is its topic, an identifier with a uuid in it.
            None if t.starts_with(PUSH_TOPIC_PREFIX) => "Push certificate".to_string(),
            None => named(t, names),
        });
        self.detail_words = self.detail.as_ref().map(|d| named(d, names));
        self
    }
}

/// How every push topic starts (`com.apple.mgmt.External.<uuid>`).
const PUSH_TOPIC_PREFIX: &str = "com.apple.mgmt.External.";

/// `text` with every id of `names` replaced by the quoted name; "Lab (id)" after the name
/// itself becomes "Lab".
fn named(text: &str, names: &std::collections::HashMap<String, String>) -> String {
    names.iter().fold(text.to_string(), |text, (id, name)| {
        if !text.contains(id.as_str()) {
            return text;
        }
        let after_name = format!("{name} ({id})");
        if text.contains(&after_name) {
            text.replace(&after_name, name)
        } else {
            text.replace(id.as_str(), &format!("\u{201c}{name}\u{201d}"))
        }
    })
}

/// An action code in plain words; a code this list does not know yet reads as its words
/// ("mdm.device_lock" → "Mdm: device lock").
pub fn action_words(code: &str) -> String {
    let known = match code {
        "admin.setup" => "First administrator set up",
        "admin.login" => "Signed in",
        "admin.logout" => "Signed out",
        "admin.password_change" => "Changed a password",
        "admin.password_set_cli" => "Set a password from the command line",
        "admin.user_create" => "Added an administrator",
        "admin.user_delete" => "Removed an administrator",
        "admin.role_change" => "Changed an administrator's role",
        "admin.unlock" => "Unlocked an administrator",
        "admin.api_token_create" => "Created an API token",
        "admin.api_token_revoke" => "Revoked an API token",
        "tls.custom_install" => "Installed a server certificate",
        "tls.custom_remove" => "Removed the installed server certificate",
        "tls.renew" => "Renewed the server certificate",
        "tls.anchors_switch" => "Redefined the profiles for the new server certificate",
        "tls.switch_confirm" => "Confirmed the server certificate the configuration file asks for",
        "store.backup" => "Made a backup",
        "token.key_create" => "Made a key for a new server token",
        "token.key_discard" => "Discarded a server token key",
        "token.add" => "Added a server token",
        "token.renew" => "Renewed a server token",
        "token.delete" => "Deleted a server token",
        "sync.request" => "Asked for a sync",
        "sync.settings_change" => "Changed the sync settings",
        "profile.create" => "Created a profile",
        "profile.update" => "Changed a profile",
        "profile.delete" => "Deleted a profile",
        "profile.default_set" => "Set a default profile",
        "assignment.request" => "Assigned a profile to devices",
        "assignment.remove" => "Removed the profile of devices",
        "enrollment.settings_change" => "Changed the enrollment settings",
        "push.request_create" => "Made a push certificate request",
        "push.certificate_upload" => "Uploaded the push certificate",
        "push.certificate_renew" => "Renewed the push certificate",
        "mdm.command" => "Sent a command to a device",
        "mdm.erase" => "Erased a device",
        "audit.chain_start" => "Started the audit chain",
        "audit.prune" => "Pruned the audit log",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let (area, what) = code.split_once('.').unwrap_or(("", code));
    let what = what.replace(['_', '.'], " ");
    let mut area = area.to_string();
    if let Some(first) = area.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    if area.is_empty() { what } else { format!("{area}: {what}") }
}

#[cfg(test)]
mod readable_tests {
    use super::*;

    #[test]
    fn every_known_action_has_words_and_new_ones_read_as_words() {
        for a in crate::audit::Action::ALL {
            let words = action_words(a.code());
            assert!(!words.contains('.') && !words.contains('_'), "{}: {words}", a.code());
        }
        assert_eq!(action_words("mdm.device_lock"), "Mdm: device lock");
    }

    #[test]
    fn ids_of_existing_tokens_and_profiles_read_as_names() {
        let names: std::collections::HashMap<String, String> =
            [("oCaG2Svw".to_string(), "Main campus".to_string())].into();
        assert_eq!(named("Main campus (oCaG2Svw)", &names), "Main campus");
        assert_eq!(
            named("default of oCaG2Svw cleared", &names),
            "default of \u{201c}Main campus\u{201d} cleared"
        );
        assert_eq!(named("nothing here", &names), "nothing here");
        let push = Entry {
            id: 1,
            at: time::OffsetDateTime::UNIX_EPOCH,
            actor: "alice".into(),
            action: "push.certificate_upload".into(),
            target: Some("com.apple.mgmt.External.808767b9-5e93-4ed5-a92e-2da18a47c118".into()),
            outcome: crate::audit::Outcome::Success,
            remote_addr: None,
            detail: None,
            action_words: None,
            target_name: None,
            detail_words: None,
        }
        .readable(&names);
        assert_eq!(push.target_name.as_deref(), Some("Push certificate"));
        assert_eq!(push.action_words.as_deref(), Some("Uploaded the push certificate"));
    }
}

/// One line of the JSON-lines export (`/api/v1/audit/export`): the entry, whose `id` is its
/// sequence number in the chain, with the MAC that chains it (hex; absent for an entry the
/// chain does not cover).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ExportLine {
    #[serde(flatten)]
    pub entry: Entry,
    pub mac: Option<String>,
}

impl From<&crate::audit::Sealed> for ExportLine {
    fn from(s: &crate::audit::Sealed) -> ExportLine {
        ExportLine { entry: Entry::from(&s.entry), mac: s.mac.clone() }
    }
}

/// Whether the audit chain verifies (`/api/v1/audit/verify`).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AuditVerification {
    /// `verifies`, `broken`, `not_started` or `key_not_loaded`.
    pub status: &'static str,
    /// The report in words, as `adebox admin verify-audit` prints it.
    pub message: String,
    /// Entries that verified (before the break, when broken).
    pub entries: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// The head MAC (hex) at `last_seq`, to compare with the journal's anchors.
    pub head_mac: Option<String>,
    pub broken: Option<AuditBreak>,
    pub start: Option<AuditChainStart>,
}

/// The first broken link.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AuditBreak {
    pub seq: u64,
    /// `edited`, `missing`, `reordered`, `unsealed`, `inserted`, `start_edited`, `wrong_key`.
    pub problem: &'static str,
    /// For `missing`: the last missing sequence number.
    pub missing_to: Option<u64>,
    /// For `reordered`: the sequence number the entry in this place carries.
    pub holds: Option<u64>,
}

/// Where verification starts.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AuditChainStart {
    /// `new`, `upgrade` or `checkpoint`.
    pub kind: &'static str,
    /// The link before the first entry the chain covers (the last pruned one at a checkpoint).
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The entries chained at upgrade, whose content before then is not vouched for.
    pub upgraded_first: Option<u64>,
    pub upgraded_last: Option<u64>,
}

impl From<&crate::audit::Verification> for AuditVerification {
    fn from(v: &crate::audit::Verification) -> AuditVerification {
        use crate::audit::{OriginKind, Problem, Verdict};
        let (status, entries, first_seq, last_seq, broken) = match &v.verdict {
            Verdict::Verifies { entries, first, last } => {
                ("verifies", *entries, *first, *last, None)
            }
            Verdict::Broken(b) => {
                let (missing_to, holds) = match b.problem {
                    Problem::Missing { last } => (Some(last), None),
                    Problem::Reordered { holds } => (None, Some(holds)),
                    _ => (None, None),
                };
                let brk = AuditBreak { seq: b.seq, problem: b.problem.code(), missing_to, holds };
                ("broken", b.verified, None, None, Some(brk))
            }
            Verdict::NotStarted { entries } => ("not_started", *entries, None, None, None),
            Verdict::KeyNotLoaded => ("key_not_loaded", 0, None, None, None),
        };
        let start = v.origin.as_ref().map(|o| AuditChainStart {
            kind: match o.kind {
                OriginKind::New => "new",
                OriginKind::Upgrade => "upgrade",
                OriginKind::Checkpoint => "checkpoint",
            },
            seq: o.seq,
            at: o.at,
            upgraded_first: o.upgraded.map(|s| s.first),
            upgraded_last: o.upgraded.map(|s| s.last),
        });
        AuditVerification {
            status,
            message: v.report(),
            entries,
            first_seq,
            last_seq,
            head_mac: v.head.clone().filter(|_| status == "verifies"),
            broken,
            start,
        }
    }
}
