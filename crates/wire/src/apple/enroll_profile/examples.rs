//! Example inputs of an enrollment profile with every value set, for the tests of this crate
//! and of the simulators (whose strict reader is fed the profiles built from them). Not used
//! by the product.

use super::*;
use crate::crypto::Secret;

const TOPIC: &str = "com.apple.mgmt.External.2a3c5e7d-1111-4a4a-9b9b-123456789abc";

pub fn uuids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("00000000-0000-4000-8000-{n:012}")
    }
}

/// Inputs of a profile with every value set (the other tests of profiles start from these).
pub fn inputs(identity: IdentityInputs) -> ProfileInputs {
    ProfileInputs {
        identifier: "com.example.adebox.enroll".into(),
        display_name: "Example Corp MDM".into(),
        organization: "Example Corp".into(),
        description: Some("Enrolls this device in Example Corp's device management.".into()),
        ca_der: Some(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
        ca_file_name: "adebox-root.cer".into(),
        identity,
        mdm: MdmInputs {
            topic: TOPIC.into(),
            server_url: "https://mdm.example.test/mdm/connect".into(),
            check_in_url: "https://mdm.example.test/mdm/checkin".into(),
            server_capabilities: vec![],
        },
    }
}

pub fn acme() -> IdentityInputs {
    IdentityInputs::Acme {
        directory_url: "https://mdm.example.test/acme/directory".into(),
        client_identifier: "q7Kx2mZ0oneTimeValue".into(),
        subject: subject("Example Corp", "00008101-001938611EE9001E"),
    }
}

pub fn scep() -> IdentityInputs {
    IdentityInputs::Scep {
        url: "https://mdm.example.test/scep".into(),
        challenge: Secret::new("s3cret-challenge".into()),
        subject: subject("Example Corp", "G4NQM9HHK0"),
        ca_fingerprint: None,
    }
}
