//! The official EdgeGrid test vectors (shared by Akamai's Node and Python libraries) and
//! property tests for the header parser.

use super::*;
use proptest::prelude::*;

const HOST: &str = "akaa-baseurl-xxxxxxxxxxx-xxxxxxxxxxxxx.luna.akamaiapis.net";
const TS: &str = "20140321T19:34:21+0000";
const NONCE: &str = "nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

fn creds() -> Credentials {
    Credentials {
        client_token: "akab-client-token-xxx-xxxxxxxxxxxxxxxx".into(),
        access_token: "akab-access-token-xxx-xxxxxxxxxxxxxxxx".into(),
        client_secret: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=".into(),
    }
}

fn settings() -> Settings {
    Settings { max_body: 2048, headers_to_sign: vec!["X-Test1".into(), "X-Test2".into(), "X-Test3".into()] }
}

struct Vector {
    method: &'static str,
    target: &'static str,
    body: String,
    headers: Vec<(&'static str, &'static str)>,
    signature: &'static str,
}

fn vectors() -> Vec<Vector> {
    let v = |method, target, body: &str, headers: Vec<(&'static str, &'static str)>, signature| Vector {
        method,
        target,
        body: body.to_string(),
        headers,
        signature,
    };
    vec![
        v("GET", "/", "", vec![], "tL+y4hxyHxgWVD30X3pWnGKHcPzmrIF+LThiAOhMxYU="),
        v("GET", "/testapi/v1/t1?p1=1&p2=2", "", vec![], "hKDH1UlnQySSHjvIcZpDMbQHihTQ0XyVAKZaApabdeA="),
        v(
            "POST",
            "/testapi/v1/t3",
            "datadatadatadatadatadatadatadata",
            vec![],
            "hXm4iCxtpN22m4cbZb4lVLW5rhX8Ca82vCFqXzSTPe4=",
        ),
        // Bodies longer than max_body are hashed over their first max_body bytes only.
        v("POST", "/testapi/v1/t3", &"d".repeat(2049), vec![], "6Q6PiTipLae6n4GsSIDTCJ54bEbHUBp+4MUXrbQCBoY="),
        v("POST", "/testapi/v1/t3", &"d".repeat(2048), vec![], "6Q6PiTipLae6n4GsSIDTCJ54bEbHUBp+4MUXrbQCBoY="),
        v("POST", "/testapi/v1/t6", "", vec![], "1gEDxeQGD5GovIkJJGcBaKnZ+VaPtrc4qBUHixjsPCQ="),
        v(
            "GET",
            "/testapi/v1/t4",
            "",
            vec![("X-Test1", "test-simple-header")],
            "8F9AybcRw+PLxnvT+H0JRkjROrrUgsxJTnRXMzqvcwY=",
        ),
        v(
            "GET",
            "/testapi/v1/t4",
            "",
            vec![("X-Test1", "\"     test-header-with-spaces     \"")],
            "ucq2AbjCNtobHfCTuS38fdkl5UDdWHZhQX46fYR8CqI=",
        ),
        v(
            "GET",
            "/testapi/v1/t4",
            "",
            vec![("X-Test1", "     first-thing      second-thing")],
            "WtnneL539UadAAOJwnsXvPqT4Kt6z7HMgBEwAFpt3+c=",
        ),
        v(
            "GET",
            "/testapi/v1/t4",
            "",
            vec![("X-Test2", "t2"), ("X-Test1", "t1"), ("X-Test3", "t3")],
            "Wus73Nx8jOYM+kkBFF2q8D1EATRIMr0WLWwpLBgkBqY=",
        ),
        v(
            "GET",
            "/testapi/v1/t5",
            "",
            vec![("X-Test2", "t2"), ("X-Test1", "t1"), ("X-Test3", "t3"), ("X-Extra", "this won't be included")],
            "Knd/jc0A5Ghhizjayr0AUUvl2MZjBpS3FDSzvtq4Ixc=",
        ),
        v(
            "PUT",
            "/testapi/v1/t6",
            "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP",
            vec![],
            "GNBWEYSEWOLtu+7dD52da2C39aX/Jchpon3K/AmBqBU=",
        ),
        v(
            "GET",
            "/testapi/v1/configs/111?from=12345&limit=200000",
            "",
            vec![],
            "XM+hsuSs6nuy/5eDRty1IjtVCAdr8xPFRAZ/b8RXDm8=",
        ),
        v(
            "GET",
            "/testapi/v1/configs/111;222;333?from=12345&limit=200000",
            "",
            vec![],
            "pmQF7Is2+O4r/mMojPR4yeF58BrempNNoBX5/DT0Fxs=",
        ),
    ]
}

#[test]
fn signing_key_matches_reference() {
    assert_eq!(signing_key(&creds().client_secret, TS), "znsRMDBRqTXGJ7Ojip3/h2FGPu3LuoMYWgv9PKEnE/o=");
}

#[test]
fn official_vectors_sign_and_verify() {
    for v in vectors() {
        let req = SignedRequest {
            method: v.method,
            host: HOST,
            target: v.target,
            headers: &v.headers,
            body: v.body.as_bytes(),
        };
        let header = creds().authorization(&req, &settings(), TS, NONCE);
        assert!(header.ends_with(&format!("signature={}", v.signature)), "{} {}: {header}", v.method, v.target);
        let parsed = parse_authorization(&header).unwrap();
        assert!(verify(&creds().client_secret, &parsed, &req, &settings()));
        assert!(!verify("another-secret", &parsed, &req, &settings()));
    }
}

#[test]
fn data_to_sign_layout() {
    let req = SignedRequest {
        method: "post",
        host: HOST,
        target: "/testapi/v1/t3",
        headers: &[],
        body: b"datadatadatadatadatadatadatadata",
    };
    assert_eq!(
        data_to_sign(&req, &settings(), "P;"),
        format!("POST\thttps\t{HOST}\t/testapi/v1/t3\t\tfDimoYqXOLntG3If/Z0K2aS9I19Pkv9P5OMCoL8lY0w=\tP;")
    );
}

#[test]
fn parse_rejects_malformed_headers() {
    let ok = "EG1-HMAC-SHA256 client_token=a;access_token=b;timestamp=20140321T19:34:21+0000;nonce=n;signature=s";
    let p = parse_authorization(ok).unwrap();
    assert_eq!(
        p.auth_prefix,
        "EG1-HMAC-SHA256 client_token=a;access_token=b;timestamp=20140321T19:34:21+0000;nonce=n;"
    );
    assert_eq!(parse_authorization("Bearer x"), Err(ParseError::Scheme));
    assert_eq!(parse_authorization(&ok.replace("nonce=n;", "")), Err(ParseError::Missing("nonce")));
    assert_eq!(parse_authorization(&ok.replace("signature=s", "signature=")), Err(ParseError::Missing("signature")));
    assert_eq!(parse_authorization(&ok.replace("+0000", "Z")), Err(ParseError::Timestamp));
    assert_eq!(parse_authorization(&ok.replace("nonce=n;", "nonce=n;nonce=m;")), Err(ParseError::Repeated("nonce")));
}

#[test]
fn a_changed_part_breaks_the_signature() {
    let req =
        SignedRequest { method: "POST", host: HOST, target: "/edgekv/v1/tokens", headers: &[], body: b"{\"a\":1}" };
    let header = creds().authorization(&req, &Settings::default(), TS, NONCE);
    let parsed = parse_authorization(&header).unwrap();
    let s = Settings::default();
    for other in [
        SignedRequest { method: "PUT", ..req },
        SignedRequest { host: "127.0.0.1:1", ..req },
        SignedRequest { target: "/edgekv/v1/tokens?x=1", ..req },
        SignedRequest { body: b"{\"a\":2}", ..req },
    ] {
        assert!(!verify(&creds().client_secret, &parsed, &other, &s));
    }
}

#[test]
fn timestamps_are_read_in_their_one_fixed_width_form() {
    let t = parse_timestamp("20140321T19:34:21+0000").unwrap();
    assert_eq!(format_timestamp(t), "20140321T19:34:21+0000");
    for bad in [
        "2014321T19:34:21+0000",   // a field not zero-padded
        "20140321T19:34:21+00000", // too long
        "20140321 19:34:21+0000",  // no T
        "20140321T19:34:21+0100",  // not UTC
        "20140321T19:34:21Z",
        "20140231T19:34:21+0000", // no such day
        "20140321T24:00:00+0000",
        "20140321T19:60:00+0000",
        "20140321T19:34:60+0000",
        "2014032aT19:34:21+0000",
        "+2014032T19:34:21+0000",
        "",
    ] {
        assert_eq!(parse_timestamp(bad), Err(ParseError::Timestamp), "{bad}");
    }
}

proptest! {
    #[test]
    fn parse_never_panics(s in ".{0,200}") {
        let _ = parse_authorization(&s);
    }

    #[test]
    fn a_timestamp_reads_back_as_written(secs in 0i64..253_402_300_799) {
        let t = chrono::DateTime::from_timestamp(secs, 0).unwrap();
        prop_assert_eq!(parse_timestamp(&format_timestamp(t)), Ok(t));
    }

    #[test]
    fn whatever_is_read_as_a_timestamp_chrono_reads_the_same(s in "[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\+0000") {
        let ours = parse_timestamp(&s).ok();
        // chrono reads `:60` as a leap second (a nanosecond field past 10^9); EdgeGrid
        // timestamps have none, and ours refuses them, as the fixed cases above check.
        let chrono = chrono::NaiveDateTime::parse_from_str(&s, TIMESTAMP_FORMAT)
            .ok()
            .filter(|n| chrono::Timelike::nanosecond(n) < 1_000_000_000)
            .map(|n| n.and_utc());
        prop_assert_eq!(ours, chrono);
    }

    #[test]
    fn sign_then_verify_round_trips(
        method in "(GET|POST|PUT|DELETE)",
        target in "/[a-z0-9/?=&;%-]{0,60}",
        body in proptest::collection::vec(any::<u8>(), 0..300),
        nonce in "[a-f0-9-]{1,36}",
    ) {
        let req = SignedRequest { method: &method, host: "127.0.0.1:8443", target: &target, headers: &[], body: &body };
        let header = creds().authorization(&req, &Settings::default(), TS, &nonce);
        let parsed = parse_authorization(&header).unwrap();
        prop_assert_eq!(parsed.nonce, nonce.as_str());
        prop_assert!(verify(&creds().client_secret, &parsed, &req, &Settings::default()));
    }
}
