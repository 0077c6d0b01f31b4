//! `wxpay debug sign-error`: the platform's view of a refused signature
//! (`detail.sign_information`) beside what was signed, part by part.
//!
//! The platform answers `SIGN_ERROR` with the method and URL it saw, the signed message as it
//! rebuilt it with the body cut short (`truncated_sign_message`) and the whole message's
//! length. What was signed comes either as the exact message (`--request FILE`: the five
//! lines `METHOD`, `PATH?QUERY`, `TIMESTAMP`, `NONCE`, `BODY`, each ended by `\n`) or as the
//! `signed_request` the library keeps on a `SIGN_ERROR` (everything but the body, whose
//! length it gives).

use serde_json::{Value, json};
use wxpay::SignInformation;

use crate::cli::SignErrorArgs;
use crate::exit::Failure;
use crate::output::Output;

/// What was signed.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    method: String,
    url: String,
    timestamp: String,
    nonce: String,
    /// The body, when the whole message is known.
    body: Option<String>,
    /// The whole message's length in bytes.
    length: Option<usize>,
}

impl Signed {
    /// From the exact signed message.
    pub fn message(text: &str) -> Signed {
        let mut parts = text.splitn(5, '\n');
        let mut next = || parts.next().unwrap_or_default().to_owned();
        let (method, url, timestamp, nonce) = (next(), next(), next(), next());
        let rest = next();
        let body = rest.strip_suffix('\n').unwrap_or(&rest).to_owned();
        Signed {
            method,
            url,
            timestamp,
            nonce,
            body: Some(body),
            length: Some(text.len()),
        }
    }

    /// From what the library keeps of a signed request: everything but the body, whose
    /// length it gives.
    pub fn without_body(signed: &wxpay::SignedRequest) -> Signed {
        Signed {
            method: signed.method.clone(),
            url: signed.url.clone(),
            timestamp: signed.timestamp.to_string(),
            nonce: signed.nonce.clone(),
            body: None,
            length: Some(signed.sign_message_length),
        }
    }

    /// From a `signed_request` object as `wxpay --json call` prints it.
    fn from_json(value: &Value) -> Option<Signed> {
        let text = |name: &str| match value.get(name)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Some(Signed {
            method: text("method")?,
            url: text("url")?,
            timestamp: text("timestamp")?,
            nonce: text("nonce")?,
            body: None,
            length: value
                .get("sign_message_length")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok()),
        })
    }
}

/// One compared part.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    part: &'static str,
    platform: String,
    ours: Option<String>,
    /// `None` when there is nothing of ours to compare with.
    same: Option<bool>,
}

/// The comparison and what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    rows: Vec<Row>,
    differs: Vec<&'static str>,
    verdict: String,
}

/// Compares the platform's `sign_information` with what was signed.
pub fn diagnose(information: &SignInformation, ours: &Signed) -> Result<Diagnosis, String> {
    diagnose_with(information, Some(ours))
}

fn diagnose_with(
    information: &SignInformation,
    ours: Option<&Signed>,
) -> Result<Diagnosis, String> {
    let message = information
        .truncated_sign_message
        .as_deref()
        .ok_or("sign_information has no truncated_sign_message")?;
    let theirs = Signed::message(message);
    let length = information.sign_message_length;
    // The platform cuts the body short in its copy of the message.
    let truncated = length.is_some_and(|length| length > message.len());
    let method = information
        .method
        .clone()
        .unwrap_or_else(|| theirs.method.clone());
    let url = information
        .url
        .clone()
        .unwrap_or_else(|| theirs.url.clone());
    let platform_body = theirs.body.clone().unwrap_or_default();

    let compare = |part, platform: String, ours: Option<String>| {
        let same = ours.as_ref().map(|ours| *ours == platform);
        Row {
            part,
            platform,
            ours,
            same,
        }
    };
    let mut rows = vec![
        compare("method", method, ours.map(|o| o.method.clone())),
        compare("path and query", url, ours.map(|o| o.url.clone())),
        compare(
            "timestamp",
            theirs.timestamp.clone(),
            ours.map(|o| o.timestamp.clone()),
        ),
        compare("nonce", theirs.nonce.clone(), ours.map(|o| o.nonce.clone())),
    ];
    let our_body = ours.and_then(|o| o.body.clone());
    rows.push(Row {
        part: "body",
        platform: if truncated {
            format!("{platform_body}… (cut short by the platform)")
        } else {
            platform_body.clone()
        },
        same: our_body.as_ref().map(|body| {
            if truncated {
                body.starts_with(&platform_body)
            } else {
                *body == platform_body
            }
        }),
        ours: our_body,
    });
    let our_length = ours.and_then(|o| o.length);
    rows.push(Row {
        part: "length",
        platform: length.map_or("?".into(), |n| format!("{n} bytes")),
        ours: our_length.map(|n| format!("{n} bytes")),
        same: match (length, our_length) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        },
    });
    let differs: Vec<&'static str> = rows
        .iter()
        .filter(|row| row.same == Some(false))
        .map(|row| row.part)
        .collect();
    let verdict = if ours.is_none() {
        "nothing to compare with: give what was signed with --request FILE".to_owned()
    } else if differs.is_empty() {
        "the platform saw exactly what was signed, so the signature itself does not verify: \
         the private key does not belong to the merchant serial, or that certificate is not \
         the merchant's (mchid)"
            .to_owned()
    } else {
        let advice: Vec<&str> = differs
            .iter()
            .map(|part| match *part {
                "method" => "sign the method that is sent",
                "path and query" => {
                    "sign the path and query exactly as sent (same encoding, same order)"
                }
                "timestamp" => "sign the timestamp that the Authorization header carries",
                "nonce" => "sign the nonce_str that the Authorization header carries",
                "body" => "sign the exact body bytes that are sent (no re-serialising)",
                _ => "the body differs in length: sign the exact bytes that are sent",
            })
            .collect();
        format!("differs: {} — {}", differs.join(", "), advice.join("; "))
    };
    Ok(Diagnosis {
        rows,
        differs,
        verdict,
    })
}

impl Diagnosis {
    /// The comparison as a table for people.
    pub fn render(&self) -> String {
        const WIDTH: usize = 44;
        let cell = |text: &str| {
            // Control characters made visible (a stray \r or \n is a classic culprit).
            let shown: String = text
                .chars()
                .flat_map(|c| {
                    let visible: Vec<char> = if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        vec![c]
                    };
                    visible
                })
                .collect();
            if shown.chars().count() > WIDTH {
                format!("{}…", shown.chars().take(WIDTH - 1).collect::<String>())
            } else {
                shown
            }
        };
        let mut out = format!(
            "SIGN_ERROR: the platform's view beside what was signed\n  {:16} {:WIDTH$}  {}\n",
            "part", "platform", "we signed"
        );
        for row in &self.rows {
            let mark = match row.same {
                Some(true) => '=',
                Some(false) => '≠',
                None => ' ',
            };
            out.push_str(&format!(
                "{mark} {:16} {:WIDTH$}  {}\n",
                row.part,
                cell(&row.platform),
                row.ours.as_deref().map_or("—".into(), cell)
            ));
        }
        out.push_str(&self.verdict);
        out
    }

    fn to_json(&self) -> Value {
        json!({
            "parts": self.rows.iter().map(|row| json!({
                "part": row.part,
                "platform": row.platform,
                "signed": row.ours,
                "same": row.same,
            })).collect::<Vec<_>>(),
            "differs": self.differs,
            "verdict": self.verdict,
        })
    }
}

pub fn run(out: &Output, args: SignErrorArgs) -> Result<(), Failure> {
    let text = if args.answer == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::usage(format!("cannot read the answer from stdin: {e}")))?
    } else {
        std::fs::read_to_string(&args.answer)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", args.answer)))?
    };
    let answer: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::usage(format!("the answer is not JSON: {e}")))?;
    // The platform's answer itself, or the error `wxpay --json call` printed.
    let error = answer.get("error").unwrap_or(&answer);
    let information = error.get("detail").and_then(SignInformation::from_detail);
    let information = information.ok_or_else(|| {
        Failure::usage(
            "the answer has no detail.sign_information: is it the platform's SIGN_ERROR answer?",
        )
    })?;
    let ours = match &args.request {
        Some(path) => {
            let message = std::fs::read_to_string(path).map_err(|e| {
                Failure::usage(format!("cannot read --request {}: {e}", path.display()))
            })?;
            Some(Signed::message(&message))
        }
        None => error.get("signed_request").and_then(Signed::from_json),
    };
    let diagnosis = diagnose_with(&information, ours.as_ref()).map_err(Failure::usage)?;
    out.print(&diagnosis.to_json(), || diagnosis.render());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: &str = "POST\n/v3/marketing/favor/stocks/9856888/pause\n1700000000\nNONCE123\n{\"stock_creator_mchid\":\"1230000109\"}\n";

    /// As the platform (and the sandbox) report it: the body cut to 10 characters.
    fn platform_view(message: &str) -> SignInformation {
        let ours = Signed::message(message);
        let body = ours.body.clone().unwrap_or_default();
        let cut: String = body.chars().take(10).collect();
        let detail = json!({"sign_information": {
            "method": ours.method,
            "url": ours.url,
            "truncated_sign_message": format!(
                "{}\n{}\n{}\n{}\n{cut}\n", ours.method, ours.url, ours.timestamp, ours.nonce
            ),
            "sign_message_length": message.len(),
        }});
        SignInformation::from_detail(&detail).expect("sign_information")
    }

    #[test]
    fn the_same_message_blames_the_key() {
        let diagnosis = diagnose(&platform_view(SIGNED), &Signed::message(SIGNED)).unwrap();
        assert!(diagnosis.differs.is_empty(), "{diagnosis:?}");
        assert!(
            diagnosis.verdict.contains("private key"),
            "{}",
            diagnosis.verdict
        );
    }

    #[test]
    fn each_part_that_differs_is_named() {
        let platform = platform_view(SIGNED);
        for (part, ours) in [
            ("method", SIGNED.replacen("POST", "PUT", 1)),
            ("path and query", SIGNED.replacen("9856888", "9856889", 1)),
            ("timestamp", SIGNED.replacen("1700000000", "1700000001", 1)),
            ("nonce", SIGNED.replacen("NONCE123", "NONCE124", 1)),
            ("body", SIGNED.replacen("{\"stock", "{ \"stock", 1)),
        ] {
            let diagnosis = diagnose(&platform, &Signed::message(&ours)).unwrap();
            assert!(diagnosis.differs.contains(&part), "{part}: {diagnosis:?}");
            assert!(diagnosis.render().contains(&format!("≠ {part}")), "{part}");
        }
        // Past the platform's cut only the length shows it.
        let longer = SIGNED.replacen("1230000109", "12300001090", 1);
        let diagnosis = diagnose(&platform, &Signed::message(&longer)).unwrap();
        assert_eq!(diagnosis.differs, ["length"]);
    }

    #[test]
    fn a_stray_carriage_return_is_made_visible() {
        let ours = SIGNED.replacen("pause\n", "pause\r\n", 1);
        let rendered = diagnose(&platform_view(SIGNED), &Signed::message(&ours))
            .unwrap()
            .render();
        assert!(rendered.contains("/pause\\r"), "{rendered}");
        assert!(rendered.contains("≠ path and query"), "{rendered}");
    }

    #[test]
    fn without_our_side_only_the_platform_is_shown() {
        let diagnosis = diagnose_with(&platform_view(SIGNED), None).unwrap();
        assert!(diagnosis.rows.iter().all(|row| row.same.is_none()));
        assert!(diagnosis.verdict.contains("--request"));
        assert!(diagnose_with(&SignInformation::default(), None).is_err());
    }
}
