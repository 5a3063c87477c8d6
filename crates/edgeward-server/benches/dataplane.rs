//! Criterion: what the data plane spends authorizing one request.
//!
//! - `dataplane_cache_hit`: a token value seen before (1,000 tokens cached): hash the value, find
//!   its grant, check expiry, revocation, network, EdgeWorker, namespace and right.
//! - `dataplane_cold_verify` against `ed25519_verify_bare`: a value never seen before (signature
//!   and claims), against a bare Ed25519 verification of the same signing input, in the same run.
//! - `metrics_record_request`: what the `observe` middleware adds per request for metrics (the
//!   route's series, its histogram, the request counter), to compare with `dataplane_cache_hit`.
#![allow(clippy::disallowed_methods, reason = "tests and benchmarks run real servers against the system time")]
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::collections::BTreeMap;

use base64::Engine;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edgeward_core::network::Network;
use edgeward_core::permission::Right;
use edgeward_server::dataplane::{Grant, TokenGate, ValueGrant};
use edgeward_token::{sign, Claims, KeySet, SigningKeyPair};

fn claims(i: usize) -> Claims {
    let mut namespaces = BTreeMap::new();
    namespaces.insert("namespace-default".to_owned(), serde_json::json!(["r", "w", "d"]));
    namespaces.insert("namespace-marketing".to_owned(), serde_json::json!(["r"]));
    Claims {
        iss: "edgeward".into(),
        jti: uuid::Uuid::new_v4().to_string(),
        iat: 1_700_000_000,
        exp: 4_102_444_799,
        cpc: "1234567".into(),
        env: vec!["s".into(), "p".into()],
        ewids: "all".into(),
        name: format!("bench_{i}"),
        namespaces,
    }
}

fn live_token() -> edgeward_core::token::Token {
    edgeward_core::token::Token {
        uuid: uuid::Uuid::new_v4(),
        name: edgeward_core::names::TokenName::parse("bench").unwrap(),
        networks: edgeward_core::network::Networks::BOTH,
        ewids: edgeward_core::token::EdgeWorkerScope::All,
        namespaces: BTreeMap::new(),
        expiry: None,
        issued_at: chrono::Utc::now(),
        latest_refresh: None,
        next_refresh: None,
        generation: 1,
        cpcode: "1234567".into(),
        revoked_at: None,
    }
}

fn bench(c: &mut Criterion) {
    let key = SigningKeyPair::generate();
    let keys = KeySet::new(key.clone());
    let values: Vec<String> = (0..1_000).map(|i| sign(&claims(i), &key)).collect();
    let gate = TokenGate::default();
    for v in &values {
        // What the store would answer for the value's jti: a live token.
        let ValueGrant::Unconfirmed(pending) = gate.grant_for_value(v, &keys).unwrap() else { unreachable!() };
        gate.confirm(pending, Some(&live_token())).unwrap();
    }
    let now = chrono::Utc::now();
    let hot = &values[500];
    c.bench_function("dataplane_cache_hit", |b| {
        b.iter(|| {
            let ValueGrant::Known(g) = gate.grant_for_value(black_box(hot), &keys).unwrap() else { unreachable!() };
            gate.check(&g, now, Network::Production, None, black_box("default"), Right::Read).unwrap();
        })
    });

    let metrics = edgeward_server::metrics::Metrics::new(chrono::Utc::now());
    let route = edgeward_server::app::ITEM_ROUTE;
    let data = metrics.listener("data", &[route, "/healthz", "/readyz", "/.well-known/jwks.json"]);
    let elapsed = std::time::Duration::from_micros(120);
    c.bench_function("metrics_record_request", |b| {
        b.iter(|| data.record(black_box(Some(route)), &http::Method::GET, black_box(200), black_box(elapsed)))
    });

    let cold = &values[0];
    c.bench_function("dataplane_cold_verify", |b| b.iter(|| Grant::from_value(black_box(cold), &keys).unwrap()));
    let (signing_input, sig) = cold.rsplit_once('.').unwrap();
    let sig: [u8; 64] = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig).unwrap().try_into().unwrap();
    let sig = ed25519_dalek::Signature::from_bytes(&sig);
    let vk = key.verifying_key();
    c.bench_function("ed25519_verify_bare", |b| {
        b.iter(|| ed25519_dalek::Verifier::verify(&vk, black_box(signing_input.as_bytes()), &sig).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench
}
criterion_main!(benches);
