//! `wxpay call` and `wxpay list`: any operation through the library's dynamic client, the
//! APIv3 catalog's (`wxpay::apis::OPERATIONS`) and the APIv2 catalog's
//! (`wxpay::apis::v2::OPERATIONS`).

use http::Method;
use serde_json::{Map, Value, json};
use wxpay::apis::v2::{OPERATIONS as V2_OPERATIONS, Operation as V2Operation};
use wxpay::apis::{Content, OPERATIONS, Operation};
use wxpay::{Error, Host, RequestError, SignTypes, SignedRequest, Verified};

use crate::cli::{CallArgs, Global, ListProtocol};
use crate::config;
use crate::exit::Failure;
use crate::fields::{self, Request};
use crate::output::{Output, pretty};
use crate::sign_error;

/// An operation of either catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    V3(&'static Operation),
    V2(&'static V2Operation),
}

impl Named {
    fn name(self) -> &'static str {
        match self {
            Named::V3(op) => op.name,
            Named::V2(op) => op.name,
        }
    }

    /// The module under `wxpay::apis`: `marketing::favor`, `v2::redpack`.
    fn module(self) -> String {
        match self {
            Named::V3(op) => op.module.to_owned(),
            Named::V2(op) => format!("v2::{}", op.module),
        }
    }

    fn method(self) -> &'static str {
        match self {
            Named::V3(op) => op.method,
            Named::V2(op) => op.method,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Named::V3(op) => op.path,
            Named::V2(op) => op.path,
        }
    }

    fn host(self) -> Host {
        match self {
            Named::V3(op) => op.host,
            Named::V2(op) => op.host,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Named::V3(op) => op.title,
            Named::V2(op) => op.title,
        }
    }

    fn link(self) -> &'static str {
        match self {
            Named::V3(op) => op.link,
            Named::V2(op) => op.link,
        }
    }

    /// `module::Name`, as `wxpay list` shows it.
    fn qualified(self) -> String {
        format!("{}::{}", self.module(), self.name())
    }
}

fn v3() -> impl Iterator<Item = Named> {
    OPERATIONS.iter().map(Named::V3)
}

fn v2() -> impl Iterator<Item = Named> {
    V2_OPERATIONS.iter().map(Named::V2)
}

/// What `call` was asked for, resolved against the catalogs.
struct Target {
    method: Method,
    template: String,
    operation: Option<&'static Operation>,
    /// The APIv2 catalog's operation, for an APIv2 call it knows.
    v2: Option<&'static V2Operation>,
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
            let named = find(name)?;
            let (operation, v2) = match named {
                Named::V3(op) => (Some(op), None),
                Named::V2(op) => (None, Some(op)),
            };
            Ok(Target {
                method: method(named.method())?,
                template: named.path().to_owned(),
                operation,
                v2,
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
            let v2 = V2_OPERATIONS
                .iter()
                .find(|op| op.method == method.as_str() && op.path == path);
            Ok(match known {
                Some((operation, path_values)) => Target {
                    method,
                    template: operation.path.to_owned(),
                    operation: Some(operation),
                    v2: None,
                    path_values,
                    query,
                },
                None => Target {
                    method,
                    template: path,
                    operation: None,
                    v2,
                    path_values: Vec::new(),
                    query,
                },
            })
        }
        // An APIv2 path alone: the catalog's operation there, else a POST.
        [path] if crate::apiv2::is_v2_path(path) => {
            let v2 = V2_OPERATIONS.iter().find(|op| op.path == *path);
            Ok(Target {
                method: method(v2.map_or("POST", |op| op.method))?,
                template: (*path).to_owned(),
                operation: None,
                v2,
                path_values: Vec::new(),
                query: Vec::new(),
            })
        }
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
///
/// APIv2 operations are under `v2::` (`v2::redpack::SendRedpack`, or `v2::SendRedpack` for
/// every APIv2 operation of that name). Without `v2::` a name designates APIv3 operations
/// first, so the APIv2 catalog takes no name an APIv3 operation answers to (`QueryRefund` is
/// `refund::domestic::QueryRefund`; the APIv2 one is `v2::refund::QueryRefund`).
fn find(name: &str) -> Result<Named, Failure> {
    let candidates = designated(name);
    match candidates.as_slice() {
        [operation] => Ok(*operation),
        [] => Err(unknown(name)),
        many => {
            let width = many
                .iter()
                .map(|op| shortest_name(*op).len())
                .max()
                .unwrap_or(0);
            let mut message = format!(
                "{name:?} names {} operations; qualify it with its module:",
                many.len()
            );
            for op in many {
                message.push_str(&format!(
                    "\n  {:width$}  {} {}",
                    shortest_name(*op),
                    op.method(),
                    op.path(),
                ));
            }
            Err(Failure::usage(message))
        }
    }
}

/// Every operation `name` could mean (see [`find`]).
fn designated(name: &str) -> Vec<Named> {
    let name = name.trim();
    let name = name.strip_prefix("wxpay::apis::").unwrap_or(name);
    let (qualifier, bare) = name.rsplit_once("::").unwrap_or(("", name));
    let qualifier = qualifier.to_ascii_lowercase();
    if qualifier == "v2" {
        return v2()
            .filter(|op| op.name().eq_ignore_ascii_case(bare))
            .collect();
    }
    if qualifier.starts_with("v2::") {
        return designated_in(v2(), &qualifier, bare);
    }
    match designated_in(v3(), &qualifier, bare) {
        none if none.is_empty() => designated_in(v2(), &qualifier, bare),
        some => some,
    }
}

/// The operations of `catalog` named `bare` whose module ends with the whole segments of
/// `qualifier` (the one whose module is `qualifier` alone when there is one).
fn designated_in(catalog: impl Iterator<Item = Named>, qualifier: &str, bare: &str) -> Vec<Named> {
    let named = catalog.filter(|op| op.name().eq_ignore_ascii_case(bare));
    if qualifier.is_empty() {
        return named.collect();
    }
    let named: Vec<Named> = named
        .filter(|op| {
            let module = op.module();
            module == qualifier
                || module
                    .strip_suffix(qualifier)
                    .is_some_and(|head| head.ends_with("::"))
        })
        .collect();
    match named.iter().find(|op| op.module() == qualifier) {
        Some(exact) => vec![*exact],
        None => named,
    }
}

/// The shortest name that designates `op` alone: its bare name when no other operation
/// shares it, else qualified by as few trailing module segments as it takes. An APIv2
/// operation whose bare name is not enough goes by its whole `v2::module::Name`.
fn shortest_name(op: Named) -> String {
    if let Named::V2(_) = op {
        return if matches!(designated(op.name()).as_slice(), [only] if *only == op) {
            op.name().to_owned()
        } else {
            op.qualified()
        };
    }
    let module = op.module();
    let segments: Vec<&str> = module.split("::").collect();
    (0..=segments.len())
        .map(|take| {
            let mut qualified = segments[segments.len() - take..].join("::");
            if !qualified.is_empty() {
                qualified.push_str("::");
            }
            qualified.push_str(op.name());
            qualified
        })
        .find(|name| matches!(designated(name).as_slice(), [only] if *only == op))
        // The module's whole path always designates the operation alone.
        .unwrap_or_else(|| op.qualified())
}

/// The usage error for a name nothing designates, naming the nearest operation.
fn unknown(name: &str) -> Failure {
    let bare = name.rsplit_once("::").map_or(name, |(_, bare)| bare);
    let named: Vec<Named> = v3()
        .chain(v2())
        .filter(|op| op.name().eq_ignore_ascii_case(bare))
        .collect();
    if !named.is_empty() {
        // The qualifier is what is wrong: name the modules that declare it.
        let names: Vec<String> = named.iter().map(|op| shortest_name(*op)).collect();
        return Failure::usage(format!(
            "unknown operation {name:?}; the catalog has {}",
            names.join(", ")
        ));
    }
    let lower = bare.to_ascii_lowercase();
    let nearest = v3()
        .chain(v2())
        .map(|op| {
            let distance = strsim::levenshtein(&lower, &op.name().to_ascii_lowercase());
            (distance, op.name())
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
    if target.v2.is_some()
        || (target.operation.is_none() && crate::apiv2::is_v2_path(&target.template))
    {
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
        return crate::apiv2::call(
            global,
            out,
            &args,
            target.v2,
            target.method,
            &target.template,
            body,
        )
        .await;
    }
    if args.sign_type.is_some() || args.cert || args.unsigned_answer {
        return Err(Failure::usage(
            "--sign-type, --cert and --unsigned-answer are for APIv2 operations (paths \
             outside /v3/)",
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

    let session = config::connect_trusting(global, None, args.ca_cert.as_deref()).await?;
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

/// `wxpay list`: one line per operation (so `wc -l` counts them), the APIv3 catalog's then the
/// APIv2 catalog's (or one of them, with `protocol`), each grouped by product (in the order of
/// their modules): the qualified name, the host, the method, the path and the title.
pub fn list(
    out: &Output,
    filter: Option<&str>,
    protocol: Option<ListProtocol>,
) -> Result<(), Failure> {
    let needle = filter.map(str::to_lowercase);
    let matching = |op: &Named| {
        needle.as_deref().is_none_or(|needle| {
            op.name().to_lowercase().contains(needle)
                || op.module().contains(needle)
                || op.path().to_lowercase().contains(needle)
                || op.title().to_lowercase().contains(needle)
        })
    };
    let mut matches: Vec<Named> = Vec::new();
    for (catalog, listed) in [
        (ListProtocol::V3, v3().collect::<Vec<_>>()),
        (ListProtocol::V2, v2().collect()),
    ] {
        if protocol.is_some_and(|protocol| protocol != catalog) {
            continue;
        }
        let mut listed: Vec<Named> = listed.into_iter().filter(matching).collect();
        listed.sort_by_key(|op| (op.module(), op.name()));
        matches.extend(listed);
    }
    let document = Value::Array(
        matches
            .iter()
            .map(|op| match op {
                Named::V3(v3) => json!({
                    "protocol": "APIv3",
                    "name": v3.name,
                    "module": v3.module,
                    "call": shortest_name(*op),
                    "rust": format!("wxpay::apis::{}", op.qualified()),
                    "host": v3.host.key(),
                    "method": v3.method,
                    "path": v3.path,
                    "title": v3.title,
                    "link": v3.link,
                    "encrypted": v3.encrypted,
                    "encrypted_query": v3.encrypted_query,
                }),
                Named::V2(v2) => json!({
                    "protocol": "APIv2",
                    "name": v2.name,
                    "module": op.module(),
                    "call": shortest_name(*op),
                    "rust": format!("wxpay::apis::{}", op.qualified()),
                    "host": v2.host.key(),
                    "method": v2.method,
                    "path": v2.path,
                    "title": v2.title,
                    "link": op.link(),
                    "sign_types": match v2.protocol.sign_types {
                        SignTypes::Md5 => vec!["MD5"],
                        SignTypes::HmacSha256 => vec!["HMAC-SHA256"],
                        _ => vec!["MD5", "HMAC-SHA256"],
                    },
                    "client_certificate": v2.protocol.client_certificate,
                    "signed_answer": v2.protocol.signed_answer,
                    "nonce": v2.protocol.nonce,
                    "idempotent": v2.idempotent,
                }),
            })
            .collect(),
    );
    out.print(&document, || {
        let width = matches
            .iter()
            .map(|op| op.qualified().len())
            .max()
            .unwrap_or(0);
        let host_width = matches
            .iter()
            .map(|op| op.host().key().len())
            .max()
            .unwrap_or(0);
        let path_width = matches.iter().map(|op| op.path().len()).max().unwrap_or(0);
        let mut text = String::new();
        for op in &matches {
            text.push_str(&format!(
                "{:width$}  {:host_width$} {:6} {:path_width$}  {}\n",
                op.qualified(),
                op.host().key(),
                op.method(),
                op.path(),
                op.title()
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

    fn v3_of(named: Named) -> &'static Operation {
        match named {
            Named::V3(op) => op,
            Named::V2(op) => panic!("an APIv2 operation: {op:?}"),
        }
    }

    #[test]
    fn names_resolve_case_insensitively_and_typos_get_a_suggestion() {
        assert_eq!(find("pausestock").unwrap().name(), "PauseStock");
        let error = find("PauseStok").unwrap_err();
        assert!(
            error.message.contains("did you mean PauseStock?"),
            "{}",
            error.message
        );
        let error = find("Zzzzzzzzzzzzzz").unwrap_err();
        assert!(!error.message.contains("did you mean"), "{}", error.message);
        // APIv2 names are suggested too.
        let error = find("SendRedpak").unwrap_err();
        assert!(
            error.message.contains("did you mean SendRedpack?"),
            "{}",
            error.message
        );
    }

    #[test]
    fn every_operation_has_a_name_that_designates_it_alone() {
        for op in v3().chain(v2()) {
            let short = shortest_name(op);
            assert_eq!(find(&short).unwrap(), op, "{short}");
            let full = format!("wxpay::apis::{}", op.qualified());
            assert_eq!(find(&full).unwrap(), op, "{full}");
        }
        // A whole module path wins over the modules it is the tail of
        // (`global::merchant_service` ends in `merchant_service`).
        assert_eq!(
            v3_of(find("merchant_service::ListComplaints").unwrap()).module,
            "merchant_service"
        );
        assert_eq!(
            v3_of(find("Partner::createNativeOrder").unwrap()).module,
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
    fn apiv2_names_live_under_v2_and_leave_apiv3_names_alone() {
        // Unique in both catalogs: the bare name.
        assert!(matches!(find("GetPublicKey").unwrap(), Named::V2(op) if op.module == "transfer"));
        assert_eq!(
            shortest_name(find("v2::transfer::GetPublicKey").unwrap()),
            "GetPublicKey"
        );
        // Several APIv2 modules: refused.
        assert!(find("Micropay").is_err(), "pay, sandbox and sandbox::xdc");
        // Shared by two APIv2 modules: refused with both, by their whole names.
        let error = find("sendredpack").unwrap_err();
        assert!(
            error.message.contains("v2::redpack::SendRedpack")
                && error.message.contains("v2::workwx::SendRedpack"),
            "{}",
            error.message
        );
        assert!(
            matches!(find("v2::redpack::SendRedpack").unwrap(), Named::V2(op) if op.path == "/mmpaymkttransfers/sendredpack")
        );
        assert_eq!(designated("v2::SendRedpack").len(), 2);
        // An APIv3 name keeps designating its APIv3 operation; `v2::` reaches the APIv2 one.
        assert!(
            matches!(find("QueryRefund").unwrap(), Named::V3(op) if op.module == "refund::domestic")
        );
        assert!(
            matches!(find("v2::refund::QueryRefund").unwrap(), Named::V2(op) if op.path == "/pay/refundquery")
        );
        assert_eq!(
            shortest_name(find("v2::refund::QueryRefund").unwrap()),
            "v2::refund::QueryRefund"
        );
        assert!(find("v2::PauseStock").is_err());
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
        // APIv2: the catalog's operation at that path, by METHOD PATH or the path alone.
        let red_packet = resolve(&["POST /mmpaymkttransfers/sendredpack".into()]).unwrap();
        assert_eq!(red_packet.v2.map(|op| op.name), Some("SendRedpack"));
        let alone = resolve(&["/pay/orderquery".into()]).unwrap();
        assert_eq!(
            alone.v2.map(|op| (op.module, op.name)),
            Some(("pay", "QueryOrder"))
        );
        let unknown = resolve(&["/pay/somethingnew".into()]).unwrap();
        assert!(unknown.v2.is_none() && unknown.method == Method::POST);
    }
}
