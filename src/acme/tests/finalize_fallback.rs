//! The finalize write when the stored records changed after the certificate was signed from a
//! read of the last commit ([`super::super::precheck::presign`]): the write must decide from
//! what it reads itself, signing again or refusing, never issue what the earlier read showed.

use super::*;

/// A device whose order is ready (its challenge answered), and the finalize request for it
/// checked against the last commit but not yet written.
async fn ready_and_prepared(w: &World) -> (Device, String, Prepared) {
    let mut d = Device::new();
    let (order_id, authz_id, token) = d.order(&w.acme).await;
    let att = d.att_obj(&w.pki, props(&token), w.now);
    d.post(&w.acme, Endpoint::Challenge(authz_id), Some(json!({"attObj": att}))).await.unwrap();
    let prepared = prepare_finalize(w, &d, &order_id).await;
    (d, order_id, prepared)
}

async fn prepare_finalize(w: &World, d: &Device, order_id: &str) -> Prepared {
    let endpoint = Endpoint::Finalize(order_id.to_string());
    let payload = json!({"csr": d.csr(&d.se_key)});
    let jws = d.key.sign(
        &w.acme.url_of(&endpoint),
        &w.acme.new_nonce(),
        d.kid.as_deref(),
        Some(&payload),
    );
    let prepared = w.acme.prepare(endpoint, jws.to_string().into_bytes(), None).await.unwrap();
    // The precondition of every test here: the certificate was signed before the write, for
    // the device the identifier named then.
    let presigned = prepared.checked.presigned.as_ref().expect("signed before the write");
    assert_eq!((presigned.serial.as_str(), presigned.udid.as_str()), (SERIAL, UDID));
    prepared
}

/// The certificate a finalize answer points at (DER), fetched by its owner.
async fn fetched(w: &World, d: &Device, r: Reply) -> Vec<u8> {
    let Body::Json(order) = r.body else { panic!("not JSON") };
    assert_eq!(order["status"], "valid");
    let cert_id = order["certificate"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let Body::PemChain(pem) = d.post(&w.acme, Endpoint::Cert(cert_id), None).await.unwrap().body
    else {
        panic!("not a PEM chain")
    };
    crate::crypto::chain::pem_certificates(&pem).unwrap().remove(0)
}

#[tokio::test]
async fn a_device_bound_again_before_the_write_gets_a_certificate_for_the_new_binding() {
    let w = world().await;
    let (d, _, prepared) = ready_and_prepared(&w).await;
    // The enrollment binds the identifier to another device between the read and the write.
    let (serial, udid) =
        (Serial::parse("C02OTHER0002").unwrap(), Udid::parse("00008030-000FFFFFFFFFFFFF").unwrap());
    w.acme.expect_device(CLIENT_ID, &serial, &udid, w.now + Duration::minutes(30)).await.unwrap();

    let r = w.acme.commit(prepared).await.unwrap();
    let der = fetched(&w, &d, r).await;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let cn = cert.subject().iter_common_name().next().unwrap().as_str().unwrap();
    assert_eq!(cn, udid.as_str(), "signed for the binding the write read, not the earlier one");
    let san = cert.subject_alternative_name().unwrap().unwrap();
    let x509_parser::extensions::GeneralName::OtherName(_, value) = &san.value.general_names[0]
    else {
        panic!("expected an otherName")
    };
    assert!(value.windows(serial.as_str().len()).any(|w| w == serial.as_str().as_bytes()));
    assert!(!value.windows(SERIAL.len()).any(|w| w == SERIAL.as_bytes()));
    assert_eq!(cert.public_key().raw, d.se_key.subject_public_key_info().as_slice());
    let (_, ca) = x509_parser::parse_x509_certificate(w.ca.cert_der()).unwrap();
    cert.verify_signature(Some(ca.public_key())).unwrap();
    // What the store records agrees with the certificate.
    let to = w.acme.device_for_certificate(&hex::encode(Sha256::digest(&der))).await.unwrap();
    let to = to.expect("the certificate is recorded");
    assert_eq!((to.serial, to.udid), (serial, udid));
}

#[tokio::test]
async fn an_unchanged_order_uses_the_certificate_signed_before_the_write() {
    let w = world().await;
    let (d, _, prepared) = ready_and_prepared(&w).await;
    let presigned = prepared.checked.presigned.as_ref().unwrap().der.clone();
    let der = fetched(&w, &d, w.acme.commit(prepared).await.unwrap()).await;
    assert_eq!(der, presigned);
}

#[tokio::test]
async fn an_order_finalized_in_between_is_not_issued_twice() {
    let w = world().await;
    let (d, order_id, first) = ready_and_prepared(&w).await;
    // A retry of the same finalize, read from the same last commit.
    let second = prepare_finalize(&w, &d, &order_id).await;
    let der = fetched(&w, &d, w.acme.commit(first).await.unwrap()).await;

    // The retry is answered with the valid order and the same certificate, not a new one.
    let again = fetched(&w, &d, w.acme.commit(second).await.unwrap()).await;
    assert_eq!(again, der);
    let (serial, _) = ids();
    let issued = w.acme.certificates_of(&serial).await.unwrap();
    assert_eq!(issued.len(), 1, "one certificate for one order");
    let sha = hex::encode(Sha256::digest(&der));
    assert!(w.acme.device_for_certificate(&sha).await.unwrap().is_some());
}

#[tokio::test]
async fn an_identifier_gone_before_the_write_gets_no_certificate() {
    let w = world().await;
    let (_, order_id, prepared) = ready_and_prepared(&w).await;
    // Upkeep (or a restore) removed the binding between the read and the write.
    w.acme
        .inner
        .store
        .write(|wtx| {
            let mut t = wtx.open_table(records::EXPECTED)?;
            t.remove(CLIENT_ID.as_bytes())?;
            Ok::<_, AcmeError>(())
        })
        .await
        .unwrap();
    let err = w.acme.commit(prepared).await.unwrap_err();
    assert_eq!(err.problem_type(), "rejectedIdentifier", "{err}");
    assert!(w.acme.certificates_of(&ids().0).await.unwrap().is_empty());
    let still = w.acme.inner.pending.order(&order_id).unwrap();
    assert_eq!(still.status, records::Status::Ready);
}
