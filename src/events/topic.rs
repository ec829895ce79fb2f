//! Event topics: MicroMDM's `mdm.*` names for check-ins and command results (the webhook
//! event schema in `../shared/fixtures/mdm-integration/webhook-event.schema.json`), and
//! adebox's own `adebox.*` names (its extension, `schemas/webhook-event.adebox.schema.json`).

use serde::{Deserialize, Serialize};

/// One topic a subscription can want. Serialised as its wire name (`mdm.Authenticate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Topic {
    #[serde(rename = "mdm.Authenticate")]
    MdmAuthenticate,
    #[serde(rename = "mdm.TokenUpdate")]
    MdmTokenUpdate,
    #[serde(rename = "mdm.CheckOut")]
    MdmCheckOut,
    #[serde(rename = "mdm.UserAuthenticate")]
    MdmUserAuthenticate,
    #[serde(rename = "mdm.SetBootstrapToken")]
    MdmSetBootstrapToken,
    #[serde(rename = "mdm.GetBootstrapToken")]
    MdmGetBootstrapToken,
    /// A command result (or an idle poll): MicroMDM's "acknowledge" event.
    #[serde(rename = "mdm.Connect")]
    MdmConnect,
    #[serde(rename = "mdm.DeclarativeManagement")]
    MdmDeclarativeManagement,
    #[serde(rename = "mdm.GetToken")]
    MdmGetToken,
    /// A device was added, changed, moved, restored or removed by a sync with Apple.
    #[serde(rename = "adebox.DeviceSynced")]
    DeviceSynced,
    /// Apple assigned an enrollment profile to a device.
    #[serde(rename = "adebox.ProfileAssigned")]
    ProfileAssigned,
    /// A device enrolled in MDM.
    #[serde(rename = "adebox.Enrolled")]
    Enrolled,
    /// A device was released from "Awaiting final configuration".
    #[serde(rename = "adebox.Released")]
    Released,
    /// The enrollment gate refused a device.
    #[serde(rename = "adebox.EnrollmentRefused")]
    EnrollmentRefused,
    /// A server token or the push certificate expires soon, or Apple refused it.
    #[serde(rename = "adebox.TokenExpiring")]
    TokenExpiring,
    /// A sync with Apple failed twice in a row.
    #[serde(rename = "adebox.SyncFailed")]
    SyncFailed,
    /// The daily backup failed (and, `…_resolved`, the next one succeeded).
    #[serde(rename = "adebox.BackupFailed")]
    BackupFailed,
    /// Any other alert (disk nearly full, appliance certificate renewal failing, …) and
    /// the "send test" button.
    #[serde(rename = "adebox.Alert")]
    Alert,
}

impl Topic {
    pub const ALL: [Topic; 18] = [
        Topic::MdmAuthenticate,
        Topic::MdmTokenUpdate,
        Topic::MdmCheckOut,
        Topic::MdmUserAuthenticate,
        Topic::MdmSetBootstrapToken,
        Topic::MdmGetBootstrapToken,
        Topic::MdmConnect,
        Topic::MdmDeclarativeManagement,
        Topic::MdmGetToken,
        Topic::DeviceSynced,
        Topic::ProfileAssigned,
        Topic::Enrolled,
        Topic::Released,
        Topic::EnrollmentRefused,
        Topic::TokenExpiring,
        Topic::SyncFailed,
        Topic::BackupFailed,
        Topic::Alert,
    ];

    /// The wire name (`mdm.Connect`, `adebox.Released`).
    pub fn name(self) -> &'static str {
        match self {
            Topic::MdmAuthenticate => "mdm.Authenticate",
            Topic::MdmTokenUpdate => "mdm.TokenUpdate",
            Topic::MdmCheckOut => "mdm.CheckOut",
            Topic::MdmUserAuthenticate => "mdm.UserAuthenticate",
            Topic::MdmSetBootstrapToken => "mdm.SetBootstrapToken",
            Topic::MdmGetBootstrapToken => "mdm.GetBootstrapToken",
            Topic::MdmConnect => "mdm.Connect",
            Topic::MdmDeclarativeManagement => "mdm.DeclarativeManagement",
            Topic::MdmGetToken => "mdm.GetToken",
            Topic::DeviceSynced => "adebox.DeviceSynced",
            Topic::ProfileAssigned => "adebox.ProfileAssigned",
            Topic::Enrolled => "adebox.Enrolled",
            Topic::Released => "adebox.Released",
            Topic::EnrollmentRefused => "adebox.EnrollmentRefused",
            Topic::TokenExpiring => "adebox.TokenExpiring",
            Topic::SyncFailed => "adebox.SyncFailed",
            Topic::BackupFailed => "adebox.BackupFailed",
            Topic::Alert => "adebox.Alert",
        }
    }

    /// A topic from its wire name; `None` for a name adebox does not publish.
    pub fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name.trim())
    }

    /// The topic of a check-in message, by its `MessageType`; `None` for a type MicroMDM
    /// gives no topic (adebox delivers no event for it).
    pub fn of_check_in(message_type: &str) -> Option<Topic> {
        Topic::parse(&format!("mdm.{message_type}"))
            .filter(|t| t.is_mdm() && *t != Topic::MdmConnect)
    }

    /// One of MicroMDM's topics (as opposed to adebox's own).
    pub fn is_mdm(self) -> bool {
        self.name().starts_with("mdm.")
    }
}

#[cfg(test)]
mod tests {
    use super::Topic;

    #[test]
    fn every_topic_parses_back_from_its_name_and_serde_agrees() {
        for t in Topic::ALL {
            assert_eq!(Topic::parse(t.name()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.name());
        }
        assert_eq!(Topic::parse("mdm.Nope"), None);
    }

    #[test]
    fn check_in_types_map_to_mdm_topics_only() {
        assert_eq!(Topic::of_check_in("Authenticate"), Some(Topic::MdmAuthenticate));
        assert_eq!(Topic::of_check_in("TokenUpdate"), Some(Topic::MdmTokenUpdate));
        assert_eq!(Topic::of_check_in("Connect"), None);
        assert_eq!(Topic::of_check_in("Released"), None);
    }
}
