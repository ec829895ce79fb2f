use super::*;

fn fixture(name: &str) -> Option<Vec<u8>> {
    crate::fixtures::read(&format!("mdm-checkin/{name}"))
}

pub(crate) fn plist_of(pairs: &[(&str, Value)]) -> Vec<u8> {
    let mut d = Dictionary::new();
    for (k, v) in pairs {
        d.insert((*k).into(), v.clone());
    }
    let mut out = Vec::new();
    Value::Dictionary(d).to_writer_xml(&mut out).unwrap();
    out
}

#[test]
fn real_ipad_authenticate_decodes() {
    let Some(bytes) = fixture("Authenticate.1.plist") else { return };
    let CheckIn::Authenticate(a) = parse_check_in(&bytes).unwrap() else {
        panic!("not Authenticate")
    };
    assert_eq!(a.udid, "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69");
    assert_eq!(a.serial_number.as_deref(), Some("F5JM992LF193"));
    assert_eq!(a.product_name.as_deref(), Some("iPad2,5"));
    assert_eq!(a.os_version.as_deref(), Some("9.3.5"));
    assert_eq!(a.build_version.as_deref(), Some("13G36"));
    assert_eq!(a.topic, "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9");
    assert_eq!(a.device_name, None);
}

#[test]
fn real_mac_authenticate_decodes_with_macos_keys() {
    let Some(bytes) = fixture("Authenticate.2.plist") else { return };
    let CheckIn::Authenticate(a) = parse_check_in(&bytes).unwrap() else {
        panic!("not Authenticate")
    };
    assert_eq!(a.udid, "66ADE930-5FDF-5EC4-8429-15640684C489");
    assert_eq!(a.device_name.as_deref(), Some("Fruit"));
    assert_eq!(a.model.as_deref(), Some("iMac14,2"));
    assert_eq!(a.serial_number.as_deref(), Some("C02MT66KFLHH"));
}

#[test]
fn real_token_updates_decode() {
    let Some(one) = fixture("TokenUpdate.1.plist") else { return };
    let CheckIn::TokenUpdate(t) = parse_check_in(&one).unwrap() else { panic!("not TokenUpdate") };
    assert_eq!(t.udid, "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69");
    assert_eq!(
        hex::encode(&t.token),
        "47e8eec062c2f729ec1703c1b3e18f1971d85f00be76445d34080baa701b5f51"
    );
    assert_eq!(t.push_magic, "CEFDF0BD-E342-4A27-8742-E930EA116B0A");
    let unlock = t.unlock_token.as_ref().unwrap();
    assert_eq!(unlock.len(), 1288);
    assert!(unlock.starts_with(b"DATA"));
    assert!(!t.awaiting_configuration);
    assert!(!format!("{t:?}").contains("DATA"), "the unlock token never reaches Debug");

    let Some(two) = fixture("TokenUpdate.2.plist") else { return };
    let CheckIn::TokenUpdate(t) = parse_check_in(&two).unwrap() else { panic!("not TokenUpdate") };
    assert_eq!(t.push_magic, "888CEB39-BFFA-40F6-89FA-B60752EB63C2");
    assert_eq!(
        hex::encode(&t.token),
        "1ba7c90066c50f77689a24f3a425caf68a300f729e88e460a9416022d5d642cc"
    );
    assert_eq!(t.unlock_token, None);
}

#[test]
fn real_device_information_result_decodes() {
    let Some(bytes) = fixture("DeviceInformation.1.plist") else { return };
    let r = parse_report(&bytes).unwrap();
    assert_eq!(r.status, Status::Acknowledged);
    assert_eq!(r.command_uuid.as_deref(), Some("76eda240-5488-4989-8339-f2ae160113c4"));
    assert_eq!(r.udid, "66ADE930-5FDF-5EC4-8429-15640684C489");
    assert_eq!(r.results["QueryResponses"]["HostName"], "fruit.example.com");
    assert!(!r.results.contains_key("RequestType"));
}

#[test]
fn awaiting_configuration_true_is_read() {
    let body = plist_of(&[
        ("MessageType", "TokenUpdate".into()),
        ("UDID", "U1".into()),
        ("Topic", "com.apple.mgmt.External.x".into()),
        ("Token", Value::Data(vec![1; 32])),
        ("PushMagic", "PM".into()),
        ("AwaitingConfiguration", true.into()),
    ]);
    let CheckIn::TokenUpdate(t) = parse_check_in(&body).unwrap() else { panic!() };
    assert!(t.awaiting_configuration);
}

#[test]
fn check_out_decodes() {
    let body = plist_of(&[("MessageType", "CheckOut".into()), ("UDID", "U1".into())]);
    assert_eq!(
        parse_check_in(&body).unwrap(),
        CheckIn::CheckOut(CheckOut { udid: Udid::parse("U1").unwrap(), topic: None })
    );
}

#[test]
fn a_udid_that_is_no_udid_is_refused() {
    for bad in ["A".repeat(3000), "\u{202e}00008030-001A2C3E0A12802E".into(), "a b".into()] {
        let body =
            plist_of(&[("MessageType", "CheckOut".into()), ("UDID", Value::String(bad.clone()))]);
        assert!(
            matches!(parse_check_in(&body), Err(MdmWireError::BadId { key: "UDID", .. })),
            "{bad:.40}"
        );
        let report = plist_of(&[("Status", "Idle".into()), ("UDID", Value::String(bad))]);
        assert!(matches!(parse_report(&report), Err(MdmWireError::BadId { key: "UDID", .. })));
    }
}

#[test]
fn unknown_message_type_is_a_typed_error() {
    let body = plist_of(&[("MessageType", "UserAuthenticate".into()), ("UDID", "U1".into())]);
    assert_eq!(
        parse_check_in(&body),
        Err(MdmWireError::UnknownMessageType("UserAuthenticate".into()))
    );
}

#[test]
fn bootstrap_token_messages_parse_and_keep_the_token_out_of_debug() {
    let body = plist_of(&[
        ("MessageType", "SetBootstrapToken".into()),
        ("UDID", "U1".into()),
        ("BootstrapToken", Value::Data(b"secret-token-bytes".to_vec())),
        ("AwaitingConfiguration", true.into()),
    ]);
    let CheckIn::SetBootstrapToken(b) = parse_check_in(&body).unwrap() else { panic!() };
    assert_eq!((b.token.as_slice(), b.awaiting_configuration), (&b"secret-token-bytes"[..], true));
    assert!(!format!("{b:?}").contains("secret"));
    // Absent token: delete (§3.2).
    let body = plist_of(&[("MessageType", "SetBootstrapToken".into()), ("UDID", "U1".into())]);
    let CheckIn::SetBootstrapToken(b) = parse_check_in(&body).unwrap() else { panic!() };
    assert!(b.token.is_empty());
    let body = plist_of(&[("MessageType", "GetBootstrapToken".into()), ("UDID", "U1".into())]);
    assert!(matches!(parse_check_in(&body), Ok(CheckIn::GetBootstrapToken(_))));
    let body = plist_of(&[("MessageType", "ReturnToService".into()), ("UDID", "U1".into())]);
    assert!(matches!(parse_check_in(&body), Ok(CheckIn::ReturnToService(_))));
    let answer = Value::from_reader_xml(&bootstrap_token_response(b"tok")[..]).unwrap();
    assert_eq!(answer.as_dictionary().unwrap()["BootstrapToken"], Value::Data(b"tok".to_vec()));
}

#[test]
fn malformed_inputs_are_refused_without_panic() {
    for bad in [&b""[..], b"garbage", b"<plist><array/></plist>", &[0xff; 100][..], b"bplist00"] {
        assert!(parse_check_in(bad).is_err());
        assert!(parse_report(bad).is_err());
    }
    let no_udid = plist_of(&[("MessageType", "Authenticate".into()), ("Topic", "t".into())]);
    assert_eq!(parse_check_in(&no_udid), Err(MdmWireError::MissingKey("UDID")));
    let wrong = plist_of(&[
        ("MessageType", "TokenUpdate".into()),
        ("UDID", "U".into()),
        ("Topic", "t".into()),
        ("Token", "not data".into()),
        ("PushMagic", "p".into()),
    ]);
    assert!(matches!(parse_check_in(&wrong), Err(MdmWireError::WrongType { key: "Token", .. })));
}

#[test]
fn huge_messages_are_refused_before_parsing() {
    let big = vec![b' '; MAX_MESSAGE + 1];
    assert!(matches!(parse_check_in(&big), Err(MdmWireError::TooLarge { .. })));
    assert!(matches!(parse_report(&big), Err(MdmWireError::TooLarge { .. })));
}

#[test]
fn every_status_round_trips() {
    for s in Status::ALL {
        assert_eq!(Status::parse(s.as_str()), Some(s));
        let mut pairs = vec![("UDID", Value::from("U")), ("Status", s.as_str().into())];
        if s != Status::Idle {
            pairs.push(("CommandUUID", "C".into()));
        }
        assert_eq!(parse_report(&plist_of(&pairs)).unwrap().status, s);
    }
    assert!(matches!(
        parse_report(&plist_of(&[("UDID", "U".into()), ("Status", "Maybe".into())])),
        Err(MdmWireError::UnknownStatus(_))
    ));
}

#[test]
fn report_without_command_uuid_is_refused_unless_idle() {
    let r = plist_of(&[("UDID", "U".into()), ("Status", "Acknowledged".into())]);
    assert_eq!(parse_report(&r), Err(MdmWireError::MissingKey("CommandUUID")));
}

#[test]
fn error_chain_is_read() {
    let mut e = Dictionary::new();
    e.insert("ErrorCode".into(), 12021.into());
    e.insert("ErrorDomain".into(), "MCMDMErrorDomain".into());
    e.insert("USEnglishDescription".into(), "Not supervised".into());
    let r = parse_report(&plist_of(&[
        ("UDID", "U".into()),
        ("Status", "Error".into()),
        ("CommandUUID", "C".into()),
        ("ErrorChain", Value::Array(vec![Value::Dictionary(e)])),
    ]))
    .unwrap();
    assert_eq!(
        r.error_chain,
        [ChainedError {
            code: Some(12021),
            domain: Some("MCMDMErrorDomain".into()),
            description: Some("Not supervised".into())
        }]
    );
}

#[test]
fn commands_build_the_documented_plists() {
    let all = [
        Command::DeviceInformation { queries: vec!["OSVersion".into()] },
        Command::DeviceName { name: "Lab-F5JM".into() },
        Command::DeviceConfigured,
        Command::EraseDevice,
        Command::ReturnToService,
        Command::InstallProfile { name: "Wi-Fi".into(), payload: b"<plist/>".to_vec() },
        Command::AccountConfiguration {
            short_name: "ann".into(),
            full_name: "Ann Lee".into(),
            lock: true,
        },
        Command::Raw {
            kind: "ProfileList".into(),
            command: b"<plist><dict><key>RequestType</key><string>ProfileList</string>\
                       <key>ManagedOnly</key><true/></dict></plist>"
                .to_vec(),
        },
    ];
    for c in &all {
        let bytes = c.to_plist("uuid-1", Some("iPhone15,2"));
        let (uuid, rt, cmd) = parse_command(&bytes).unwrap();
        assert_eq!(uuid, "uuid-1");
        assert_eq!(rt, c.request_type());
        match c {
            Command::DeviceInformation { .. } => {
                assert_eq!(cmd["Queries"].as_array().unwrap()[0].as_string(), Some("OSVersion"))
            }
            Command::DeviceName { .. } => {
                let item = cmd["Settings"].as_array().unwrap()[0].as_dictionary().unwrap();
                assert_eq!(item["Item"].as_string(), Some("DeviceName"));
                assert_eq!(item["DeviceName"].as_string(), Some("Lab-F5JM"));
            }
            Command::DeviceConfigured => assert_eq!(cmd.len(), 1),
            Command::EraseDevice => {
                assert!(
                    cmd.contains_key("PreserveDataPlan") && !cmd.contains_key("ReturnToService")
                )
            }
            Command::ReturnToService => {
                let rts = cmd["ReturnToService"].as_dictionary().unwrap();
                assert_eq!(rts["Enabled"].as_boolean(), Some(true));
            }
            Command::InstallProfile { .. } => {
                assert_eq!(cmd["Payload"].as_data(), Some(&b"<plist/>"[..]))
            }
            Command::AccountConfiguration { .. } => {
                assert_eq!(cmd["PrimaryAccountUserName"].as_string(), Some("ann"));
                assert_eq!(cmd["PrimaryAccountFullName"].as_string(), Some("Ann Lee"));
                assert_eq!(cmd["LockPrimaryAccountInfo"].as_boolean(), Some(true));
            }
            Command::Raw { .. } => assert_eq!(cmd["ManagedOnly"].as_boolean(), Some(true)),
        }
    }
    // PreserveDataPlan is iOS/iPadOS only.
    for (product, kept) in [(None, true), (Some("iPad13,18"), true), (Some("Mac14,3"), false)] {
        let (_, _, cmd) = parse_command(&Command::EraseDevice.to_plist("u", product)).unwrap();
        assert_eq!(cmd.contains_key("PreserveDataPlan"), kept, "{product:?}");
    }
}

#[test]
fn a_return_to_service_erase_carries_the_devices_settings() {
    let rts = super::rts::ReturnToService {
        wifi_profile: Some(b"wifi".to_vec()),
        mdm_profile: Some(b"mdm".to_vec()),
        bootstrap_token: None,
        should_retry_enrollment: false,
    };
    let bytes = Command::ReturnToService.to_plist_with("u", Some("iPhone15,2"), Some(&rts));
    let (_, rt, cmd) = parse_command(&bytes).unwrap();
    assert_eq!(rt, "EraseDevice");
    let d = cmd["ReturnToService"].as_dictionary().unwrap();
    assert_eq!(d["WiFiProfileData"].as_data(), Some(&b"wifi"[..]));
    assert_eq!(d["MDMProfileData"].as_data(), Some(&b"mdm"[..]));
    assert!(!d.contains_key("BootstrapToken"));
    let answer = Value::from_reader_xml(rts.check_in_response().as_slice()).unwrap();
    let inner = answer.as_dictionary().unwrap()["ReturnToService"].as_dictionary().unwrap();
    assert_eq!(inner, d, "the check-in answer carries the same dictionary");
}

#[test]
fn a_scripts_command_plist_is_read_with_its_uuid_and_request_type() {
    let body = b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>\
        <key>Command</key><dict><key>RequestType</key><string>ProfileList</string></dict>\
        <key>CommandUUID</key><string>fedd659e-fc3c-4e35-8bb1-c8f51ae542a5</string>\
        </dict></plist>";
    let r = parse_command_request(body).unwrap();
    assert_eq!(
        (r.uuid.as_str(), r.request_type.as_str()),
        ("fedd659e-fc3c-4e35-8bb1-c8f51ae542a5", "ProfileList")
    );
    let bad = [
        (&b"not a plist"[..], "not a property list"),
        (b"<plist><dict><key>Command</key><dict/></dict></plist>", "CommandUUID"),
        (b"<plist><dict><key>CommandUUID</key><string>u</string></dict></plist>", "Command"),
        (
            b"<plist><dict><key>CommandUUID</key><string>u</string><key>Command</key><dict>\
              <key>RequestType</key><string>Bad Type</string></dict></dict></plist>",
            "RequestType",
        ),
    ];
    for (body, want) in bad {
        let e = parse_command_request(body).unwrap_err().to_string();
        assert!(e.contains(want), "{e:?} should name {want}");
    }
    let huge = vec![b' '; MAX_COMMAND_REQUEST + 1];
    assert!(matches!(parse_command_request(&huge), Err(MdmWireError::TooLarge { .. })));
}
