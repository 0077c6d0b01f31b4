//! `wxpay call` and `wxpay list`: any operation through the library's dynamic client.

use http::Method;
use serde_json::{Map, Value, json};
use wxpay::apis::{Content, OPERATIONS, Operation};
use wxpay::{Error, Host, RequestError, SignedRequest, Verified};

use crate::cli::{CallArgs, Global};
use crate::config;
use crate::exit::Failure;
use crate::fields::{self, Request};
use crate::output::{Output, pretty};
use crate::sign_error;

/// What `call` was asked for, resolved against the catalog.
struct Target {
    method: Method,
    template: String,
    operation: Option<&'static Operation>,
    /// Placeholder values taken from a concrete path.
    path_values: Vec<(String, String)>,
    /// Query pairs written in the path.
    query: Vec<(String, String)>,
}

fn resolve(words: &[String]) -> Result<Target, Failure> {
    // `call "POST /v3/…"` as one word works too; only the first space separates.
    let words: Vec<&str> = match words {
        [one] => match one.trim().split_once(' ') {
            Some((method, path)) => vec![method, path.trim_start()],
            None => vec![one.as_str()],
        },
        many => many.iter().map(String::as_str).collect(),
    };
    match words.as_slice() {
        [name] if !name.starts_with('/') => {
            let operation = find(name)?;
            Ok(Target {
                method: method(operation.method)?,
                template: operation.path.to_owned(),
                operation: Some(operation),
                path_values: Vec::new(),
                query: Vec::new(),
            })
        }
        [method_name, path] => {
            let method = method(&method_name.to_ascii_uppercase())?;
            let (path, query) = fields::split_path(path).map_err(Failure::usage)?;
            // A path of the catalog: its template (so sensitive fields are known), with the
            // concrete segments as placeholder values.
            let known = OPERATIONS.iter().find_map(|op| {
                (op.method == method.as_str())
                    .then(|| fields::match_template(op.path, &path))
                    .flatten()
                    .map(|values| (op, values))
            });
            Ok(match known {
                Some((operation, path_values)) => Target {
                    method,
                    template: operation.path.to_owned(),
                    operation: Some(operation),
                    path_values,
                    query,
                },
                None => Target {
                    method,
                    template: path,
                    operation: None,
                    path_values: Vec::new(),
                    query,
                },
            })
        }
        // An APIv2 path alone: APIv2 requests are POSTs.
        [path] if crate::apiv2::is_v2_path(path) => Ok(Target {
            method: Method::POST,
            template: (*path).to_owned(),
            operation: None,
            path_values: Vec::new(),
            query: Vec::new(),
        }),
        _ => Err(Failure::usage(
            "give an operation name (PauseStock) or METHOD PATH (POST /v3/…)",
        )),
    }
}

fn method(name: &str) -> Result<Method, Failure> {
    match name {
        "GET" => Ok(Method::GET),
        "POST" => Ok(Method::POST),
        "PUT" => Ok(Method::PUT),
        "PATCH" => Ok(Method::PATCH),
        "DELETE" => Ok(Method::DELETE),
        other => Err(Failure::usage(format!(
            "{other:?} is not an APIv3 method (GET, POST, PUT, PATCH, DELETE)"
        ))),
    }
}

/// The operation `name` designates: a request type's name (`CreateNativeOrder`), or the name
/// qualified by its module's trailing segments (`partner::CreateNativeOrder`,
/// `pay::transactions::CreateNativeOrder`, optionally after `wxpay::apis::`), matched without
/// regard to case. A qualifier that is a whole module path picks that module even when it is
/// also the tail of another's. A name several operations share is refused with the
/// candidates, never guessed: a direct operation and its partner twin send different fields.
fn find(name: &str) -> Result<&'static Operation, Failure> {
    let candidates = designated(name);
    match candidates.as_slice() {
        [operation] => Ok(operation),
        [] => Err(unknown(name)),
        many => {
            let mut message = format!(
                "{name:?} names {} operations; qualify it with its module:",
                many.len()
            );
            for op in many {
                message.push_str(&format!(
                    "\n  {:width$}  {} {}",
                    shortest_name(op),
                    op.method,
                    op.path,
                    width = many
                        .iter()
                        .map(|op| shortest_name(op).len())
                        .max()
                        .unwrap_or(0),
                ));
            }
            Err(Failure::usage(message))
        }
    }
}

/// Every operation `name` could mean (see [`find`]).
fn designated(name: &str) -> Vec<&'static Operation> {
    let name = name.trim();
    let name = name.strip_prefix("wxpay::apis::").unwrap_or(name);
    let (qualifier, bare) = name.rsplit_once("::").unwrap_or(("", name));
    let qualifier = qualifier.to_ascii_lowercase();
    let named = OPERATIONS
        .iter()
        .filter(|op| op.name.eq_ignore_ascii_case(bare));
    if qualifier.is_empty() {
        return named.collect();
    }
    let named: Vec<&Operation> = named
        .filter(|op| {
            op.module == qualifier
                || op
                    .module
                    .strip_suffix(qualifier.as_str())
                    .is_some_and(|head| head.ends_with("::"))
        })
        .collect();
    match named.iter().find(|op| op.module == qualifier) {
        Some(exact) => vec![*exact],
        None => named,
    }
}

/// The shortest name that designates `op` alone: its bare name when no other operation
/// shares it, else qualified by as few trailing module segments as it takes.
fn shortest_name(op: &Operation) -> String {
    let segments: Vec<&str> = op.module.split("::").collect();
    (0..=segments.len())
        .map(|take| {
            let mut qualified = segments[segments.len() - take..].join("::");
            if !qualified.is_empty() {
                qualified.push_str("::");
            }
            qualified.push_str(op.name);
            qualified
        })
        .find(|name| matches!(designated(name).as_slice(), [only] if *only == op))
        // The module's whole path always designates the operation alone.
        .unwrap_or_else(|| format!("{}::{}", op.module, op.name))
}

/// The usage error for a name nothing designates, naming the nearest operation.
fn unknown(name: &str) -> Failure {
    let bare = name.rsplit_once("::").map_or(name, |(_, bare)| bare);
    let named = designated(bare);
    if !named.is_empty() {
        // The qualifier is what is wrong: name the modules that declare it.
        let names: Vec<String> = named.iter().map(|op| shortest_name(op)).collect();
        return Failure::usage(format!(
            "unknown operation {name:?}; the catalog has {}",
            names.join(", ")
        ));
    }
    let lower = bare.to_ascii_lowercase();
    let nearest = OPERATIONS
        .iter()
        .map(|op| {
            let distance = strsim::levenshtein(&lower, &op.name.to_ascii_lowercase());
            (distance, op.name)
        })
        .min();
    let mut message = format!("unknown operation {name:?}");
    if let Some((distance, nearest)) = nearest
        && distance <= bare.len().max(3) / 2
    {
        message.push_str(&format!("; did you mean {nearest}?"));
    }
    message.push_str(" (`wxpay list` shows them all; METHOD PATH calls any other)");
    Failure::usage(message)
}

/// The `--body` JSON object: inline, `@FILE` or `-` (stdin).
fn read_body(text: &str) -> Result<Map<String, Value>, Failure> {
    let source = match text {
        "-" => std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::usage(format!("cannot read --body from stdin: {e}")))?,
        file if file.starts_with('@') => std::fs::read_to_string(&file[1..])
            .map_err(|e| Failure::usage(format!("cannot read --body {file}: {e}")))?,
        inline => inline.to_owned(),
    };
    match serde_json::from_str(&source) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Failure::usage("--body must be a JSON object")),
        Err(error) => Err(Failure::usage(format!("--body is not JSON: {error}"))),
    }
}

pub async fn call(global: &Global, out: &Output, args: CallArgs) -> Result<(), Failure> {
    let target = resolve(&args.operation)?;
    if target.operation.is_none() && crate::apiv2::is_v2_path(&target.template) {
        if !target.query.is_empty() {
            return Err(Failure::usage(
                "an APIv2 request carries its fields in <xml>: give them with --field, not in \
                 the path's query",
            ));
        }
        let body = match &args.body {
            Some(text) => read_body(text)?,
            None => Map::new(),
        };
        return crate::apiv2::call(global, out, &args, target.method, &target.template, body).await;
    }
    if args.sign_type.is_some() || args.cert || args.unsigned_answer || args.ca_cert.is_some() {
        return Err(Failure::usage(
            "--sign-type, --cert, --unsigned-answer and --ca-cert are for APIv2 paths \
             (outside /v3/)",
        ));
    }
    // A path the catalog does not know goes to the main host unless --host says otherwise.
    let host = match &args.host {
        Some(key) => Host::from_key(key).ok_or_else(|| {
            let keys: Vec<&str> = Host::ALL.iter().map(|host| host.key()).collect();
            Failure::usage(format!(
                "--host {key:?} is not a host key ({})",
                keys.join(", ")
            ))
        })?,
        None => target.operation.map_or(Host::Api, |op| op.host),
    };
    if let Some(op) = target.operation
        && op.content == Content::Multipart
    {
        return Err(Failure::usage(format!(
            "{} is a multipart upload, which the command line does not send; use \
             wxpay::apis::{}::{} from Rust",
            op.name, op.module, op.name
        )));
    }
    let mut object = match &args.body {
        Some(text) => read_body(text)?,
        None => Map::new(),
    };
    for field in &args.fields {
        let (path, value) = fields::parse_field(field).map_err(Failure::usage)?;
        fields::insert(&mut object, &path, value).map_err(Failure::usage)?;
    }
    for (name, value) in &target.path_values {
        if object.contains_key(name) {
            return Err(Failure::usage(format!(
                "{name} is in the path already; do not give it as a field too"
            )));
        }
        object.insert(name.clone(), Value::String(value.clone()));
    }
    let has_body = matches!(target.method, Method::POST | Method::PUT | Method::PATCH);
    let Request {
        path,
        query: field_query,
        body,
    } = fields::split_fields(&target.template, object, has_body).map_err(Failure::usage)?;

    let session = config::connect(global, None).await?;
    let client = &session.client;

    let mut request = client
        .request(target.method.clone(), &target.template)
        .host(host);
    for (name, value) in &path {
        request = request.path(name, value);
    }
    // The operation's sensitive fields are named, and the library encrypts them on each
    // attempt for the platform key that attempt names in `Wechatpay-Serial`.
    let (encrypted, encrypted_query) = target
        .operation
        .map_or((&[][..], &[][..]), |op| (op.encrypted, op.encrypted_query));
    for (name, value) in target.query.iter().chain(&field_query) {
        request = if encrypted_query.contains(&name.as_str()) {
            request.query_encrypted(name, value)
        } else {
            request.query(name, value)
        };
    }
    if let Some(body) = &body {
        request = request.json(body);
    }
    for path in encrypted {
        // The catalog names every sensitive field; a body may leave optional ones out.
        request = request.encrypt_if_present(path);
    }
    if args.dry_run {
        let signed = match request.prepare() {
            Ok(signed) => signed,
            Err(Error::Request(RequestError::NoEncryptionKey)) => {
                // A certificate merchant configured with only the APIv3 key has no platform
                // key before its first download; a dry run sends nothing, that download
                // included.
                return Err(Failure::config(format!(
                    "{} has sensitive fields to encrypt and no platform key is configured; a \
                     dry run does not download one (configure the platform public key or \
                     certificates, e.g. after `wxpay certs download`)",
                    target.operation.map_or("the request", |op| op.name)
                )));
            }
            Err(error) => return Err(error.into()),
        };
        print_signed(out, target.operation, host, &signed);
        return Ok(());
    }
    let answer: Result<Verified<Value>, Error> = request.send_verified().await;
    let verified = match answer {
        Ok(verified) => verified,
        Err(error) => {
            // Encrypted fields differ on every attempt (RSA-OAEP is randomised), so the body
            // that was signed is known here only when nothing in it was encrypted.
            let signed_body = match (&body, encrypted.is_empty()) {
                (Some(body), true) => serde_json::to_vec(body).ok(),
                (None, _) => Some(Vec::new()),
                (Some(_), false) => None,
            };
            return Err(explain(error, signed_body.as_deref()));
        }
    };
    let name = target.operation.map(|op| op.name);
    let document = json!({
        "operation": name,
        "status": verified.status.as_u16(),
        "request_id": verified.request_id,
        "verified": true,
        "body": verified.value,
    });
    out.print(&document, || {
        let mut text = format!(
            "{} {} — signature verified, Request-ID {}\n",
            verified.status.as_u16(),
            verified.status.canonical_reason().unwrap_or(""),
            verified.request_id.as_deref().unwrap_or("(none)"),
        );
        if !verified.value.is_null() {
            text.push_str(&pretty(&verified.value));
        }
        text
    });
    Ok(())
}

/// `--dry-run`: the signed request as it would go out, as an HTTP message (or one JSON
/// document). The body is the exact bytes signed, sensitive fields already encrypted.
fn print_signed(
    out: &Output,
    operation: Option<&Operation>,
    host: Host,
    signed: &http::Request<Vec<u8>>,
) {
    let headers: Vec<(&str, String)> = signed
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = String::from_utf8_lossy(signed.body());
    let document = json!({
        "dry_run": true,
        "operation": operation.map(|op| format!("{}::{}", op.module, op.name)),
        "host": host.key(),
        "method": signed.method().as_str(),
        "url": signed.uri().to_string(),
        "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
        "body": body,
    });
    out.print(&document, || {
        let mut text = format!("{} {}\n", signed.method(), signed.uri());
        for (name, value) in &headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        if !body.is_empty() {
            text.push('\n');
            text.push_str(&body);
            text.push('\n');
        }
        text
    });
    if !out.is_json() {
        eprintln!("dry run: signed, not sent");
    }
}

/// A failed call; a `SIGN_ERROR` comes with the comparison of both sides of the signature
/// (the body's too when `body`, the exact bytes signed, is known).
fn explain(error: Error, body: Option<&[u8]>) -> Failure {
    let diagnosis = match &error {
        Error::Api(api) if api.code == "SIGN_ERROR" => {
            match (api.sign_information(), &api.signed_request) {
                (Some(platform), Some(signed)) => {
                    sign_error::diagnose(&platform, &signed_message(signed, body)).ok()
                }
                _ => None,
            }
        }
        _ => None,
    };
    let mut failure = Failure::from(error);
    if let Some(diagnosis) = diagnosis {
        failure.notes.push(diagnosis.render());
    }
    failure
}

/// What was signed: the whole message when the body is known, else all but the body.
fn signed_message(signed: &SignedRequest, body: Option<&[u8]>) -> sign_error::Signed {
    match body {
        Some(body) => {
            let message = wxpay::protocol::request_message(
                &signed.method,
                &signed.url,
                signed.timestamp,
                &signed.nonce,
                body,
            );
            sign_error::Signed::message(&String::from_utf8_lossy(&message))
        }
        None => sign_error::Signed::without_body(signed),
    }
}

/// `wxpay list`: one line per operation (so `wc -l` counts them), grouped by product (in the
/// order of their modules): the qualified name, the host, the method, the path and the title.
pub fn list(out: &Output, filter: Option<&str>) -> Result<(), Failure> {
    let needle = filter.map(str::to_lowercase);
    let mut matches: Vec<&Operation> = OPERATIONS
        .iter()
        .filter(|op| {
            needle.as_deref().is_none_or(|needle| {
                op.name.to_lowercase().contains(needle)
                    || op.module.contains(needle)
                    || op.path.to_lowercase().contains(needle)
                    || op.title.to_lowercase().contains(needle)
            })
        })
        .collect();
    matches.sort_by_key(|op| (op.module, op.name));
    let qualified = |op: &Operation| format!("{}::{}", op.module, op.name);
    let document = Value::Array(
        matches
            .iter()
            .map(|op| {
                json!({
                    "name": op.name,
                    "module": op.module,
                    "call": shortest_name(op),
                    "rust": format!("wxpay::apis::{}", qualified(op)),
                    "host": op.host.key(),
                    "method": op.method,
                    "path": op.path,
                    "title": op.title,
                    "link": op.link,
                    "encrypted": op.encrypted,
                    "encrypted_query": op.encrypted_query,
                })
            })
            .collect(),
    );
    out.print(&document, || {
        let width = matches
            .iter()
            .map(|op| qualified(op).len())
            .max()
            .unwrap_or(0);
        let path_width = matches.iter().map(|op| op.path.len()).max().unwrap_or(0);
        let mut text = String::new();
        for op in &matches {
            text.push_str(&format!(
                "{:width$}  {:5} {:6} {:path_width$}  {}\n",
                qualified(op),
                op.host.key(),
                op.method,
                op.path,
                op.title
            ));
        }
        if matches.is_empty() {
            text.push_str("no operation matches\n");
        }
        text
    });
    if matches.is_empty() && filter.is_some() {
        return Err(Failure::usage(format!(
            "no operation matches {:?}",
            filter.unwrap_or_default()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_case_insensitively_and_typos_get_a_suggestion() {
        assert_eq!(find("pausestock").unwrap().name, "PauseStock");
        let error = find("PauseStok").unwrap_err();
        assert!(
            error.message.contains("did you mean PauseStock?"),
            "{}",
            error.message
        );
        let error = find("Zzzzzzzzzzzzzz").unwrap_err();
        assert!(!error.message.contains("did you mean"), "{}", error.message);
    }

    #[test]
    fn every_operation_has_a_name_that_designates_it_alone() {
        for op in OPERATIONS {
            let short = shortest_name(op);
            assert!(std::ptr::eq(find(&short).unwrap(), op), "{short}");
            let full = format!("wxpay::apis::{}::{}", op.module, op.name);
            assert!(std::ptr::eq(find(&full).unwrap(), op), "{full}");
        }
        // A whole module path wins over the modules it is the tail of
        // (`global::merchant_service` ends in `merchant_service`).
        assert_eq!(
            find("merchant_service::ListComplaints").unwrap().module,
            "merchant_service"
        );
        assert_eq!(
            find("Partner::createNativeOrder").unwrap().module,
            "pay::transactions::partner"
        );
        assert!(find("CreateNativeOrder").is_err());
        let error = find("global::transactions::QueryOrderByOutTradeNo").unwrap_err();
        assert!(
            error.message.contains("partner::QueryOrderByOutTradeNo")
                && error.message.contains("med_ins::QueryOrderByOutTradeNo")
                && !error.message.contains("did you mean"),
            "{}",
            error.message
        );
        // The qualifier matches whole segments only.
        assert!(designated("transactions::CreateNativeOrder").len() == 3);
        assert!(designated("actions::CreateNativeOrder").is_empty());
    }

    #[test]
    fn a_catalog_path_resolves_to_its_template() {
        let target = resolve(&[
            "post".into(),
            "/v3/marketing/favor/stocks/9856888/pause".into(),
        ])
        .unwrap();
        assert_eq!(target.operation.unwrap().name, "PauseStock");
        assert_eq!(
            target.template,
            "/v3/marketing/favor/stocks/{stock_id}/pause"
        );
        assert_eq!(target.path_values, [("stock_id".into(), "9856888".into())]);
        let other = resolve(&["GET /v3/somewhere/new?x=1".into()]).unwrap();
        assert!(other.operation.is_none());
        assert_eq!(other.template, "/v3/somewhere/new");
        assert_eq!(other.query, [("x".into(), "1".into())]);
        assert!(resolve(&["FETCH".into(), "/v3/x".into()]).is_err());
    }
}
