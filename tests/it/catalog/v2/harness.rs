//! What the generated APIv2 cases run: each declaration against the spec's facts, each example
//! answer through the runtime's decoding. Every failure of a module is collected and reported
//! together, so one run shows every operation that is off.

use wxpay::{ApiV2, Endpoint, Host, Protocol};

/// One operation: how to build its request (constructor and every setter), and what the spec
/// says of it.
pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub host: Host,
    pub protocol: ApiV2,
    pub idempotent: bool,
    pub request: fn() -> Box<dyn Declared>,
}

/// What a declaration says of itself.
pub trait Declared {
    fn declaration(&self) -> (&'static str, &'static str, Host, Protocol, bool);
}

impl<E: Endpoint> Declared for E {
    fn declaration(&self) -> (&'static str, &'static str, Host, Protocol, bool) {
        let method = match E::METHOD.as_str() {
            "GET" => "GET",
            "POST" => "POST",
            _ => "another method",
        };
        (
            method,
            E::PATH_TEMPLATE,
            E::HOST,
            E::PROTOCOL,
            E::IDEMPOTENT,
        )
    }
}

pub fn declarations(cases: &[Case]) {
    let mut problems = Vec::new();
    for case in cases {
        let declared = (case.request)().declaration();
        let spec = (
            case.method,
            case.path,
            case.host,
            Protocol::ApiV2(case.protocol),
            case.idempotent,
        );
        if declared != spec {
            problems.push(format!(
                "{}: declared {declared:?}, the spec says {spec:?}",
                case.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// One example answer: the `<xml>` a successful call receives.
pub struct Answer {
    pub name: &'static str,
    pub decode: fn(&str) -> Result<(), String>,
    pub body: &'static str,
}

/// Decodes `body` as `E`'s answer, the way the client does after verifying it.
pub fn decodes<E: Endpoint>(body: &str) -> Result<(), String> {
    E::decode_response(body.as_bytes())
        .map(drop)
        .map_err(|e| e.to_string())
}

pub fn answers(cases: &[Answer]) {
    let problems: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            (case.decode)(case.body)
                .err()
                .map(|e| format!("{}: {e}\n  {}", case.name, case.body))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
