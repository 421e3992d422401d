//! The JWT bearer authenticator through a real server over a real socket:
//! tokens accepted and refused, keys from a file, a secret and a JWKS URL.

#![allow(clippy::unwrap_used, missing_docs)]

mod server;

use std::time::{Duration, Instant};

use base64::Engine as _;
use bisslog_http::jwt::{JwtAuthenticator, JwtKeys};
use serde_json::json;
use server::{
    AUDIENCE, Answer, ISSUER, JwksServer, Running, claims, claims_with, fixture, fixture_path, now,
    sign,
};

/// Keys from the fixture JWKS file (RS256 `rsa-1`, ES256 `ec-1`, EdDSA
/// `ed-1`), issuer and audience checked.
fn from_file() -> JwtAuthenticator {
    JwtAuthenticator::builder(JwtKeys::from_jwks_file(fixture_path("jwks.json")).unwrap())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

/// Every invalid token gets the same answer, whatever check failed.
fn assert_invalid(answer: &Answer, case: &str) {
    assert_eq!(answer.status, 401, "{case}: {answer:?}");
    assert_eq!(answer.code(), "invalid-token", "{case}: {answer:?}");
    assert_eq!(
        answer.body["detail"], "the bearer token is not valid",
        "{case}"
    );
    assert_eq!(
        answer.challenge.as_deref(),
        Some("Bearer error=\"invalid_token\""),
        "{case}"
    );
}

fn b64(value: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn valid_tokens_of_every_algorithm_are_accepted_and_their_claims_become_attributes() {
    let s = Running::start(from_file()).await;
    for key in ["rsa-1", "ec-1", "ed-1"] {
        let answer = s.bearer(&sign(key, Some(key), &claims())).await;
        assert_eq!(answer.status, 200, "{key}: {answer:?}");
        let attributes = &answer.body;
        assert_eq!(attributes["sub"], "ana", "{key}");
        assert_eq!(attributes["iss"], ISSUER);
        assert_eq!(attributes["aud"], AUDIENCE);
        assert_eq!(attributes["scope"], "schemas:read schemas:write");
        assert_eq!(attributes["roles"], json!(["schema-manager"]));
        assert_eq!(attributes["tenant"], json!({"id": 7}));
    }
    // The scheme is case-insensitive; an audience list containing ours is
    // accepted.
    let token = sign(
        "rsa-1",
        Some("rsa-1"),
        &claims_with(json!({"aud": ["other", AUDIENCE]})),
    );
    let answer = s.get(Some(&format!("bearer {token}"))).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    s.stop().await;

    let secret = JwtAuthenticator::builder(JwtKeys::hmac_secret(server::SECRET).unwrap())
        .build()
        .unwrap();
    let s = Running::start(secret).await;
    // No issuer or audience configured: neither is checked.
    let answer = s
        .bearer(&sign(
            "hmac",
            None,
            &claims_with(json!({"iss": "anyone", "aud": null})),
        ))
        .await;
    assert_eq!((answer.status, &answer.body["sub"]), (200, &json!("ana")));
    s.stop().await;
}

#[tokio::test]
async fn expired_not_yet_valid_and_foreign_tokens_are_refused_within_the_leeway() {
    let s = Running::start(from_file()).await;
    let expired = s
        .bearer(&sign(
            "rsa-1",
            Some("rsa-1"),
            &claims_with(json!({"exp": now() - 120})),
        ))
        .await;
    assert_eq!((expired.status, expired.code()), (401, "expired-token"));
    assert_eq!(expired.body["detail"], "the bearer token has expired");
    assert_eq!(
        expired.challenge.as_deref(),
        Some("Bearer error=\"invalid_token\"")
    );
    // Within the 30 s clock skew, either side of the window.
    let just_expired = claims_with(json!({"exp": now() - 10}));
    assert_eq!(
        s.bearer(&sign("ec-1", Some("ec-1"), &just_expired))
            .await
            .status,
        200
    );
    let almost_valid = claims_with(json!({"nbf": now() + 10}));
    assert_eq!(
        s.bearer(&sign("ec-1", Some("ec-1"), &almost_valid))
            .await
            .status,
        200
    );

    for (case, changes) in [
        ("not yet valid", json!({"nbf": now() + 120})),
        ("wrong issuer", json!({"iss": "https://evil.example.com"})),
        ("no issuer", json!({"iss": null})),
        ("wrong audience", json!({"aud": "another-service"})),
        ("no audience", json!({"aud": null})),
        ("no expiry", json!({"exp": null})),
        ("expiry not a number", json!({"exp": "tomorrow"})),
    ] {
        let answer = s
            .bearer(&sign("ed-1", Some("ed-1"), &claims_with(changes)))
            .await;
        assert_invalid(&answer, case);
    }
    s.stop().await;
}

#[tokio::test]
async fn alg_none_and_algorithm_confusion_are_refused() {
    let s = Running::start(from_file()).await;
    let payload = b64(&claims());
    for alg in ["none", "None", "NONE"] {
        let header = b64(&json!({"alg": alg, "typ": "JWT", "kid": "rsa-1"}));
        assert_invalid(&s.bearer(&format!("{header}.{payload}.")).await, alg);
        let signed = sign("rsa-1", Some("rsa-1"), &claims());
        let signature = signed.rsplit('.').next().unwrap();
        assert_invalid(
            &s.bearer(&format!("{header}.{payload}.{signature}")).await,
            alg,
        );
    }
    // An HS256 token "signed" with the RSA public key's bytes as the secret,
    // naming the RSA key.
    let public_key = fixture("rsa-1.pub.pem");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let confused = jsonwebtoken::encode(
        &header,
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(public_key.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_invalid(&s.bearer(&confused).await, "HS256 with the RSA public key");
    // A key of one type never verifies another algorithm, even a valid
    // signature: an ES256 token naming the Ed25519 key.
    assert_invalid(
        &s.bearer(&sign("ec-1", Some("ed-1"), &claims())).await,
        "ES256 on an EdDSA key",
    );
    s.stop().await;

    // An authenticator with a secret refuses asymmetric tokens.
    let secret = JwtAuthenticator::builder(JwtKeys::hmac_secret(server::SECRET).unwrap())
        .build()
        .unwrap();
    let s = Running::start(secret).await;
    assert_invalid(
        &s.bearer(&sign("rsa-1", None, &claims())).await,
        "RS256 on a secret",
    );
    assert_eq!(
        s.bearer(&sign("hmac", Some("any"), &claims())).await.status,
        200
    );
    s.stop().await;
}

#[tokio::test]
async fn unknown_keys_and_malformed_oversized_or_absent_tokens_are_refused() {
    let s = Running::start(from_file()).await;
    assert_invalid(
        &s.bearer(&sign("rsa-2", Some("rsa-2"), &claims())).await,
        "unknown kid",
    );
    assert_invalid(
        &s.bearer(&sign("rsa-2", Some("rsa-1"), &claims())).await,
        "signed with another key",
    );
    assert_invalid(
        &s.bearer(&sign("rsa-1", None, &claims())).await,
        "no kid among several keys",
    );
    let token = sign("rsa-1", Some("rsa-1"), &claims());
    for (case, bad) in [
        ("signature truncated", token[..token.len() - 10].to_owned()),
        ("cut in half", token[..token.len() / 2].to_owned()),
        (
            "signature dropped",
            token[..=token.rfind('.').unwrap()].to_owned(),
        ),
        ("header only", token[..token.find('.').unwrap()].to_owned()),
        ("not base64", format!("{token}!")),
        ("garbage", "a.b.c".to_owned()),
        ("payload not JSON", {
            let mut parts: Vec<&str> = token.split('.').collect();
            parts[1] = "bm90IGpzb24";
            parts.join(".")
        }),
    ] {
        assert_invalid(&s.bearer(&bad).await, case);
    }
    let oversized = sign(
        "rsa-1",
        Some("rsa-1"),
        &claims_with(json!({"padding": "x".repeat(9 * 1024)})),
    );
    assert_invalid(&s.bearer(&oversized).await, "oversized");

    for (case, authorization) in [
        ("no header", None),
        (
            "wrong scheme",
            Some(format!("Basic {}", b64(&json!("ana:secret")))),
        ),
        ("token as the scheme", Some(token.clone())),
        ("empty bearer", Some("Bearer ".to_owned())),
    ] {
        let answer = s.get(authorization.as_deref()).await;
        assert_eq!(
            (answer.status, answer.code()),
            (401, "missing-token"),
            "{case}"
        );
        assert_eq!(answer.challenge.as_deref(), Some("Bearer"), "{case}");
    }
    s.stop().await;

    // The length limit is the builder's.
    let strict = JwtAuthenticator::builder(JwtKeys::from_jwks_json(&fixture("jwks.json")).unwrap())
        .max_token_length(100)
        .build()
        .unwrap();
    let s = Running::start(strict).await;
    assert_invalid(&s.bearer(&token).await, "longer than the configured limit");
    s.stop().await;
}

fn from_url(jwks: &JwksServer, min_refresh_interval: Duration) -> JwtAuthenticator {
    JwtAuthenticator::builder(JwtKeys::jwks_url(&jwks.url).unwrap())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .min_refresh_interval(min_refresh_interval)
        .fetch_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

#[tokio::test]
async fn rotated_keys_are_fetched_and_removed_ones_refused() {
    let jwks = JwksServer::start(fixture("jwks.json")).await;
    let s = Running::start(from_url(&jwks, Duration::ZERO)).await;
    assert_eq!(jwks.fetches(), 0, "fetched on the first token, not before");
    let old = sign("rsa-1", Some("rsa-1"), &claims());
    assert_eq!(s.bearer(&old).await.status, 200);
    assert_eq!(s.bearer(&old).await.status, 200);
    assert_eq!(jwks.fetches(), 1, "the keys are cached");

    jwks.serve(fixture("jwks-rotated.json"));
    assert_eq!(s.bearer(&old).await.status, 200, "cached until a refresh");
    assert_eq!(jwks.fetches(), 1);
    let new = sign("rsa-2", Some("rsa-2"), &claims());
    assert_eq!(
        s.bearer(&new).await.status,
        200,
        "the new kid after a refresh"
    );
    assert_eq!(jwks.fetches(), 2);
    assert_invalid(&s.bearer(&old).await, "a key gone from the JWKS");
    assert_eq!(
        s.bearer(&sign("ec-1", Some("ec-1"), &claims()))
            .await
            .status,
        200
    );
    s.stop().await;
    jwks.stop().await;
}

#[tokio::test]
async fn a_burst_of_unknown_kids_fetches_at_most_once_per_interval() {
    let jwks = JwksServer::start(fixture("jwks.json")).await;
    let s = Running::start(from_url(&jwks, Duration::from_secs(3600))).await;
    let burst: Vec<_> = (0..20)
        .map(|i| sign("rsa-2", Some(&format!("random-{i}")), &claims()))
        .collect();
    let answers = futures_util::future::join_all(burst.iter().map(|t| s.bearer(t))).await;
    for answer in &answers {
        assert_invalid(answer, "random kid");
    }
    assert_eq!(jwks.fetches(), 1, "one fetch for the whole burst");
    // The keys that fetch brought keep working, without another fetch.
    let valid = sign("rsa-1", Some("rsa-1"), &claims());
    assert_eq!(s.bearer(&valid).await.status, 200);
    for token in &burst[..5] {
        assert_invalid(&s.bearer(token).await, "random kid again");
    }
    assert_eq!(jwks.fetches(), 1);
    s.stop().await;
    jwks.stop().await;
}

#[tokio::test]
async fn while_the_jwks_server_is_slow_or_down_cached_keys_work_and_new_kids_fail_closed() {
    let jwks = JwksServer::start(fixture("jwks.json")).await;
    let s = Running::start(from_url(&jwks, Duration::ZERO)).await;
    let cached = sign("rsa-1", Some("rsa-1"), &claims());
    let new = sign("rsa-2", Some("rsa-2"), &claims());
    assert_eq!(s.bearer(&cached).await.status, 200);

    jwks.slow();
    jwks.serve(fixture("jwks-rotated.json"));
    let started = Instant::now();
    assert_invalid(&s.bearer(&new).await, "new kid, JWKS server slow");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the fetch is bounded by its timeout: {:?}",
        started.elapsed()
    );
    assert_eq!(jwks.fetches(), 2, "the slow fetch was attempted");
    assert_eq!(
        s.bearer(&cached).await.status,
        200,
        "cached key, JWKS server slow"
    );

    jwks.stop().await;
    assert_invalid(&s.bearer(&new).await, "new kid, JWKS server down");
    assert_eq!(
        s.bearer(&cached).await.status,
        200,
        "cached key, JWKS server down"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_jwks_server_down_at_the_first_token_costs_a_backoff_not_the_interval() {
    let jwks = JwksServer::start(fixture("jwks.json")).await;
    jwks.failing(true);
    // An interval far longer than the test: only the backoff can let the
    // second fetch happen.
    let s = Running::start(from_url(&jwks, Duration::from_secs(3600))).await;
    let valid = sign("rsa-1", Some("rsa-1"), &claims());

    let flood: Vec<_> = (0..20).map(|_| valid.clone()).collect();
    let answers = futures_util::future::join_all(flood.iter().map(|t| s.bearer(t))).await;
    for answer in &answers {
        assert_invalid(answer, "JWKS server failing");
    }
    assert_eq!(jwks.fetches(), 1, "one fetch for the whole flood");
    for _ in 0..5 {
        assert_invalid(&s.bearer(&valid).await, "within the backoff");
    }
    assert_eq!(jwks.fetches(), 1, "no fetch within the backoff");

    jwks.failing(false);
    let started = Instant::now();
    let status = loop {
        let status = s.bearer(&valid).await.status;
        if status == 200 || started.elapsed() > Duration::from_secs(10) {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 200, "the key after the backoff, not after an hour");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "about one second of backoff: {:?}",
        started.elapsed()
    );
    assert_eq!(
        jwks.fetches(),
        2,
        "one more fetch: the polls within the backoff fetched nothing"
    );

    // After a success, unknown kids wait for the interval again.
    let random = sign("rsa-2", Some("random"), &claims());
    assert_invalid(&s.bearer(&random).await, "random kid after a success");
    assert_eq!(s.bearer(&valid).await.status, 200);
    assert_eq!(jwks.fetches(), 2);
    s.stop().await;
    jwks.stop().await;
}
