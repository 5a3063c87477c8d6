//! Criterion: what the data plane spends authorizing one request.
//!
//! - `dataplane_cache_hit`: a token value seen before (1,000 tokens cached): hash the value, find
//!   its grant, check expiry, revocation, network, EdgeWorker, namespace and right.
//! - `dataplane_cold_verify` against `ed25519_verify_bare`: a value never seen before (signature
//!   and claims), against a bare Ed25519 verification of the same signing input, in the same run.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::collections::BTreeMap;

use base64::Engine;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edgeward_core::network::Network;
use edgeward_core::permission::Right;
use edgeward_server::dataplane::{Grant, TokenGate};
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

fn bench(c: &mut Criterion) {
    let key = SigningKeyPair::generate();
    let keys = KeySet::new(key.clone());
    let values: Vec<String> = (0..1_000).map(|i| sign(&claims(i), &key)).collect();
    let gate = TokenGate::default();
    for v in &values {
        gate.grant_for_value(v, &keys).unwrap();
    }
    let now = chrono::Utc::now();
    let hot = &values[500];
    c.bench_function("dataplane_cache_hit", |b| {
        b.iter(|| {
            let g = gate.grant_for_value(black_box(hot), &keys).unwrap();
            gate.check(&g, now, Network::Production, None, black_box("default"), Right::Read).unwrap();
        })
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
