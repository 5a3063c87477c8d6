//! Criterion: cost of signing and verifying one token value, and of sealing one.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::collections::BTreeMap;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edgeward_token::{sign, verify, Claims, DataKey, KeySet, SigningKeyPair};

fn claims() -> Claims {
    let mut namespaces = BTreeMap::new();
    namespaces.insert("namespace-default".to_owned(), serde_json::json!(["r", "w", "d"]));
    namespaces.insert("namespace-marketing".to_owned(), serde_json::json!(["r"]));
    Claims {
        iss: "edgeward".into(),
        jti: "1ab0e94b-c47e-568e-ab3e-1921ffcefe0c".into(),
        iat: 1_700_000_000,
        exp: 1_700_086_399,
        cpc: "1234567".into(),
        env: vec!["s".into(), "p".into()],
        ewids: "all".into(),
        name: "bench".into(),
        namespaces,
    }
}

fn bench(c: &mut Criterion) {
    let key = SigningKeyPair::generate();
    let keys = KeySet::new(key.clone());
    let c0 = claims();
    let value = sign(&c0, &key);
    c.bench_function("token_sign", |b| b.iter(|| sign(black_box(&c0), &key)));
    c.bench_function("token_verify", |b| b.iter(|| verify(black_box(&value), &keys).unwrap()));
    let dk = DataKey::from_bytes(&DataKey::generate_bytes()).unwrap();
    c.bench_function("seal_token_value", |b| b.iter(|| dk.seal(black_box(value.as_bytes()), b"uuid")));
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench
}
criterion_main!(benches);
