//! Criterion: cost of verifying one EdgeGrid-signed request on the server (parse + two HMACs +
//! body hash), and of signing one on the client.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edgeward_edgegrid::{parse_authorization, verify, Credentials, Settings, SignedRequest};

fn bench(c: &mut Criterion) {
    let creds = Credentials {
        client_token: "akab-ct-0123456789abcdef-0123456789abcdef".into(),
        access_token: "akab-at-0123456789abcdef-0123456789abcdef".into(),
        client_secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0=".into(),
    };
    let body = br#"{"name":"tok1","allowOnProduction":false,"allowOnStaging":true,"restrictToEwids":["all"],"expiry":"","namespacePermissions":{"default":["r","w","d"]}}"#;
    let req = SignedRequest { method: "POST", host: "127.0.0.1:8443", target: "/edgekv/v1/tokens", headers: &[], body };
    let settings = Settings::default();
    let header = creds.authorization(&req, &settings, "20261128T12:00:00+0000", "9b2f6a4e-7c1d-4f7a-9d3e-2a1b0c9d8e7f");
    c.bench_function("edgegrid_verify_post", |b| {
        b.iter(|| {
            let parsed = parse_authorization(black_box(&header)).unwrap();
            assert!(verify(&creds.client_secret, &parsed, &req, &settings));
        })
    });
    c.bench_function("edgegrid_sign_post", |b| {
        b.iter(|| creds.authorization(black_box(&req), &settings, "20261128T12:00:00+0000", "nonce"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench
}
criterion_main!(benches);
