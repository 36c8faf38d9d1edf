//! The webhook check against deliveries signed by garrison-core's `WebhookSecret::sign`, the server's
//! own signing: genuine ones pass and are read; stale, tampered and wrongly signed ones do not.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use garrison_client::webhooks::{DeliveryHeaders, VerifyError, WebhookSecret, verify_webhook, verify_webhook_at};

const ID: &str = "msg_0123456789abcdef0123456789abcdef";
const BODY: &[u8] = br#"{"type":"xp.changed","timestamp":"2026-12-07T10:00:00Z","data":{"serverId":"123456789012345678","robloxId":"7","operation":"add","amount":10,"delta":10,"xp":110,"reference":"patrol","reason":null,"keyName":"bot"}}"#;
/// 2026-12-07T10:00:00Z.
const SENT: i64 = 1_796_637_600;

fn secret() -> WebhookSecret {
    WebhookSecret::from_bytes([7; 32])
}

fn at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
}

fn check(secret: &str, timestamp: i64, signature: &str, body: &[u8], now: i64) -> Result<(), VerifyError> {
    let timestamp = timestamp.to_string();
    verify_webhook_at(secret, DeliveryHeaders { id: ID, timestamp: &timestamp, signature }, body, at(now)).map(|_| ())
}

#[test]
fn a_genuine_delivery_is_read() {
    let signature = secret().sign(ID, SENT, BODY);
    let timestamp = SENT.to_string();
    let headers = DeliveryHeaders { id: ID, timestamp: &timestamp, signature: &signature };
    let event = verify_webhook_at(&secret().text(), headers, BODY, at(SENT + 299)).expect("genuine");
    assert_eq!(event.kind, "xp.changed");
    assert_eq!(event.timestamp, "2026-12-07T10:00:00Z");
    assert_eq!(event.data["xp"], 110);
    // Several signatures (a rotated secret): any one that matches will do.
    let both = format!("v1,bm90IHRoaXMgb25l {signature}");
    check(&secret().text(), SENT, &both, BODY, SENT).expect("one of them matches");
}

#[test]
fn the_system_clock_is_the_default_now() {
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs())
        .expect("seconds fit");
    let signature = secret().sign(ID, now, BODY);
    let timestamp = now.to_string();
    let headers = DeliveryHeaders { id: ID, timestamp: &timestamp, signature: &signature };
    verify_webhook(&secret().text(), headers, BODY).expect("genuine and fresh");
}

#[test]
fn a_stale_or_future_timestamp_is_refused() {
    let signature = secret().sign(ID, SENT, BODY);
    for now in [SENT + 301, SENT - 301, SENT + 86_400] {
        let error = check(&secret().text(), SENT, &signature, BODY, now).expect_err("outside five minutes");
        assert!(matches!(error, VerifyError::StaleTimestamp { .. }), "{error}");
    }
    let error = check(&secret().text(), SENT, &signature, BODY, SENT + 301).expect_err("stale");
    assert!(matches!(error, VerifyError::StaleTimestamp { skew_secs: 301 }), "{error}");
    let headers = DeliveryHeaders { id: ID, timestamp: "yesterday", signature: &signature };
    let error = verify_webhook_at(&secret().text(), headers, BODY, at(SENT)).expect_err("not seconds");
    assert!(matches!(error, VerifyError::InvalidTimestamp), "{error}");
}

#[test]
fn a_tampered_delivery_is_refused() {
    let signature = secret().sign(ID, SENT, BODY);
    let tampered = String::from_utf8_lossy(BODY).replace("\"xp\":110", "\"xp\":999999");
    let error = check(&secret().text(), SENT, &signature, tampered.as_bytes(), SENT).expect_err("tampered body");
    assert!(matches!(error, VerifyError::BadSignature), "{error}");
    // The signature covers the id and the timestamp too.
    let error = check(&secret().text(), SENT + 1, &signature, BODY, SENT).expect_err("another timestamp");
    assert!(matches!(error, VerifyError::BadSignature), "{error}");
}

#[test]
fn a_wrong_secret_is_refused() {
    let signature = secret().sign(ID, SENT, BODY);
    let other = WebhookSecret::from_bytes([8; 32]).text();
    let error = check(&other, SENT, &signature, BODY, SENT).expect_err("another endpoint's secret");
    assert!(matches!(error, VerifyError::BadSignature), "{error}");
    let error = check("not-a-secret", SENT, &signature, BODY, SENT).expect_err("no secret at all");
    assert!(matches!(error, VerifyError::InvalidSecret), "{error}");
}

#[test]
fn a_genuine_body_that_is_not_an_event_is_refused() {
    let body = br#"{"hello":"world"}"#;
    let signature = secret().sign(ID, SENT, body);
    let error = check(&secret().text(), SENT, &signature, body, SENT).expect_err("not an event");
    assert!(matches!(error, VerifyError::InvalidBody(_)), "{error}");
}
