//! APIv2: what the spec's `openapi/v2/` files say of each operation ([`facts`], read by the
//! sandbox's table too, so the client and the sandbox agree on one rule), and the catalog
//! `wxpay::apis::v2` generated from them: `#[endpoint(v2 …)]` declarations with their
//! answers and enums, the operations table, and the per-operation tests.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use heck::ToUpperCamelCase;
use serde_json::{Map, Value};

use crate::names::Entry;

/// The host of every operation without `x-base-uri`.
pub const API_HOST: &str = "api.mch.weixin.qq.com";

/// The runtime's `Host` keys of the hosts the spec's `x-base-uri` names. A host missing here
/// has no key yet: its operations are listed as not declared.
const HOST_KEYS: &[(&str, &str)] = &[
    ("fraud.mch.weixin.qq.com", "fraud"),
    ("payapp.weixin.qq.com", "payapp"),
    ("payapp.mch.weixin.qq.com", "payapp_mch"),
];

/// The MD5 (lower-case hex) of the file the generated upload cases send (`harness::file()` of
/// `tests/it/catalog/v2`: `b"TEST media"`), as `md5sum` gives it: the element an
/// upload's `md5` names carries it.
const CASE_FILE_MD5: &str = "7d297a15e5e6b05d0805279017e041b7";

/// Request elements the runtime writes itself (`#[endpoint(v2 …)]` refuses them as fields).
const RUNTIME_REQUEST: &[&str] = &["nonce_str", "sign", "sign_type"];

/// Answer elements the runtime checks before decoding (and failure-only ones, which a decoded
/// success never carries): not fields of the answer types.
const RUNTIME_ANSWER: &[&str] = &[
    "return_code",
    "return_msg",
    "result_code",
    "err_code",
    "err_code_des",
    "error_code",
    "error_code_des",
    "sign",
    "sign_type",
    "nonce_str",
];

/// The envelope of a JSON answer, which the runtime checks (`retcode` other than 0 is the
/// business error, with `retmsg`): not fields of the answer type.
const JSON_ENVELOPE: &[&str] = &["retcode", "retmsg"];

/// Credentials an answer or request carries in plain text (`getaccesstoken`'s tokens): kept
/// out of `Debug` like personal data.
const CREDENTIALS: &[&str] = &["access_token", "refresh_token"];

/// Operations the platform answers unsigned although the spec lists a `sign` in the answer.
/// `pay_bank`: the plugin wxpay grew from reads it unsigned (its `SIGNLESS` list, 0.9.6), and
/// the issue counts bank payouts among the unsigned; checking a sign that never comes would
/// turn every payout that went through into an error.
const UNSIGNED_DESPITE_SPEC: &[&str] = &["/mmpaysptrans/pay_bank"];

/// What an operation answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// Flat `<xml>` elements.
    Xml,
    /// JSON (`getaccesstoken`).
    Json,
    /// A file (the bills); the spec describes only the failure.
    File,
    /// A page for the user's browser (the contract-signing pages).
    Page,
    /// A redirect of the user's browser (`authindex`).
    Redirect,
}

/// The sign types a request takes, from its `sign_type` element's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignTypes {
    Md5,
    HmacSha256,
    Either,
}

/// One operation as the spec describes it.
pub struct Facts {
    /// The host name that serves it.
    pub host: String,
    pub cert: bool,
    /// How the request carries its fields: `Xml`, `Query` (a GET) or `Multipart`.
    pub body: &'static str,
    /// A POST with query parameters beside its `<xml>` (`submchmanage`'s `action`).
    pub post_query: bool,
    /// Every request field, `sign` and `nonce_str` included, in the spec's order.
    pub fields: Map<String, Value>,
    /// The fields a request must carry, `sign` left out (checked on its own).
    pub required: Vec<String>,
    pub signed_request: bool,
    pub nonce: bool,
    pub sign_types: SignTypes,
    pub answer: AnswerKind,
    /// The success answer's schema and its properties.
    pub answer_schema: Option<Value>,
    pub answer_properties: Map<String, Value>,
    /// The platform signs the answer: the spec lists a `sign` in an `<xml>` answer.
    pub signed_answer: bool,
}

/// The facts of one operation of `spec::load_folder(…, "v2")`.
pub fn facts(path: &str, method: &str, op: &Value) -> Facts {
    let host = match op.get("x-base-uri").and_then(Value::as_str) {
        Some(uri) => uri
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_owned(),
        None => API_HOST.to_owned(),
    };
    let cert = op.get("x-api-cert-required").and_then(Value::as_bool) == Some(true);
    // The request's fields: an XML body's properties, or the query's / form's parameters.
    let mut body = "Xml";
    let mut post_query = false;
    let mut fields = Map::new();
    let mut required: Vec<String> = Vec::new();
    for parameter in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match parameter.get("in").and_then(Value::as_str) {
            Some("body") => {
                let schema = parameter.get("schema").unwrap_or(&Value::Null);
                if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                    fields.extend(properties.clone());
                }
                required.extend(strings(schema.get("required")));
            }
            Some(place @ ("query" | "formData")) => {
                // A POST's query parameter (`submchmanage`'s `action`) rides beside the XML.
                if place == "formData" {
                    body = "Multipart";
                } else if method == "GET" {
                    body = "Query";
                } else {
                    post_query = true;
                }
                let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
                fields.insert(name.to_owned(), parameter.clone());
                if parameter.get("required").and_then(Value::as_bool) == Some(true) {
                    required.push(name.to_owned());
                }
            }
            _ => {}
        }
    }
    let signed_request = fields.contains_key("sign");
    // A request carries only elements its schema describes: the spec's `required` also names
    // some that are not (answer fields copied into the request's list, the members of a JSON
    // element such as `scene_info`), which no request could send.
    required.retain(|name| name != "sign" && fields.contains_key(name));
    let mut seen = BTreeSet::new();
    required.retain(|name| seen.insert(name.clone()));
    let nonce = fields.contains_key("nonce_str");
    let sign_values = fields
        .get("sign_type")
        .map(|f| strings(f.get("enum")))
        .unwrap_or_default();
    let hmac = sign_values.iter().any(|v| v == "HMAC-SHA256");
    let md5 = sign_values.iter().any(|v| v == "MD5");
    // Where the element is required, MD5 too must be named; the runtime names MD5 only by
    // leaving `sign_type` out, so such an operation is signed HMAC-SHA256, which it takes
    // (`uploadmedia`, `getpublickey`, the deposit's `micropay`, …).
    let names_sign_type = required.iter().any(|name| name == "sign_type");
    let sign_types = match (hmac, md5) {
        (true, true) if names_sign_type => SignTypes::HmacSha256,
        (true, true) => SignTypes::Either,
        (true, false) => SignTypes::HmacSha256,
        _ => SignTypes::Md5,
    };

    let ok = op.pointer("/responses/200");
    let answer_schema = ok.and_then(|r| r.get("schema")).cloned();
    let answer_properties = answer_schema
        .as_ref()
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let produces_json = op
        .get("produces")
        .and_then(Value::as_array)
        .is_some_and(|p| p.iter().any(|v| v == "application/json"));
    let only_fails = answer_properties
        .get("return_code")
        .and_then(|c| c.get("enum"))
        .is_some_and(|e| e.as_array().is_some_and(|e| e.len() == 1 && e[0] == "FAIL"));
    let file_name = path.rsplit('/').next().unwrap_or_default();
    let answer = if op.pointer("/responses/302").is_some() {
        AnswerKind::Redirect
    } else if only_fails || file_name.starts_with("download") {
        AnswerKind::File
    } else if produces_json {
        AnswerKind::Json
    } else if answer_properties.is_empty() && method == "GET" {
        // A GET the platform answers with no document: the page the user's browser opens.
        AnswerKind::Page
    } else {
        AnswerKind::Xml
    };
    let signed_answer = answer == AnswerKind::Xml
        && answer_properties.contains_key("sign")
        && !UNSIGNED_DESPITE_SPEC.contains(&path);
    Facts {
        host,
        cert,
        body,
        post_query,
        fields,
        required,
        signed_request,
        nonce,
        sign_types,
        answer,
        answer_schema,
        answer_properties,
        signed_answer,
    }
}

pub fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(crate::spec::scalar_text)
        .collect()
}

// ---------------------------------------------------------------------------------------
// The catalog.

/// The checked-in names: `xtask/operations_v2.tsv`, in the form of `operations.tsv`.
pub const NAMES: &str = "xtask/operations_v2.tsv";

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Str,
    /// `i64` or `u64`.
    Int(&'static str),
    /// JSON text (`x-json`): `#[wxpay(json)]` on a request field.
    Json,
    /// A platform enum of the module.
    Enum(String),
    /// The file of an upload (`formData` of type `file`): `crate::UploadFile`.
    File,
}

struct Field {
    wire: String,
    ident: String,
    ty: Ty,
    required: bool,
    label: String,
    example: Option<Value>,
}

struct Answer {
    name: String,
    fields: Vec<Field>,
    /// Indexed elements (`coupon_id_$n`) that no field holds.
    indexed: Vec<String>,
    /// List elements (`hblist`): a `Vec` field each, of an item type of their own.
    lists: Vec<List>,
}

/// A list element of an answer: `<hblist><hbinfo>…</hbinfo>…</hblist>`, the spec's one
/// nesting (an object whose one property is an array of flat objects). The runtime's parser
/// reads exactly the lists it declares (`apiv2::xml::LISTS` in wxpay-core); the catalog's
/// answer cases decode each one from its example, so the two cannot drift apart unseen.
struct List {
    wire: String,
    ident: String,
    label: String,
    /// The item element (`hbinfo`) and the item type.
    item_wire: String,
    item: String,
    item_label: String,
    fields: Vec<Field>,
}

/// The names of list items' types, by item element: the spec names no type.
const LIST_ITEMS: &[(&str, &str)] = &[
    // 红包领取记录: who received a red packet, how much, when (`gethbinfo`).
    ("hbinfo", "ReceivedRedpack"),
];

/// The item element and its schema, if `schema` is a list element: an object whose only
/// property is an array of objects.
fn list_shape(schema: &Value) -> Option<(&String, &Value)> {
    let properties = schema.get("properties")?.as_object()?;
    let (item, array) = properties.iter().next()?;
    let items = array.get("items")?;
    (properties.len() == 1
        && array.get("type").and_then(Value::as_str) == Some("array")
        && items.get("type").and_then(Value::as_str) == Some("object"))
    .then_some((item, items))
}

enum Response {
    /// The decoded `<xml>` elements.
    Named(Answer),
    /// The bill's text.
    Text,
    /// Nothing to decode: a page, or no element beyond the runtime's.
    Nothing,
}

struct Op {
    entry: Entry,
    /// The fields a POST sends as query parameters beside its `<xml>` (`#[wxpay(query)]`).
    query: Vec<String>,
    /// An upload's element that carries its file's MD5 (`#[wxpay(file(md5 = "…"))]`), which
    /// is then no field of its own.
    file_md5: Option<String>,
    /// A request that lists its fields and no `sign` (`authindex`): `unsigned_request`. An
    /// operation whose spec lists nothing (`signcontract`) is taken as signed.
    unsigned_request: bool,
    title: String,
    tags: Vec<String>,
    links: Vec<String>,
    facts: Facts,
    host_key: Option<&'static str>,
    idempotent: bool,
    fields: Vec<Field>,
    response: Response,
}

struct Enum {
    name: String,
    label: String,
    variants: Vec<(String, String, String)>,
}

#[derive(Default)]
struct Module {
    path: String,
    ops: Vec<Op>,
    enums: Vec<Enum>,
    /// Names types may not take: the requests, their `…Required` and answers.
    reserved: BTreeSet<String>,
}

pub struct Output {
    pub files: BTreeMap<PathBuf, String>,
    pub summary: String,
}

/// The catalog's files: `src/apis/v2/**` and `tests/it/catalog/v2/mod.rs`.
pub fn generate(
    root: &Path,
    spec_dir: &Path,
    version: &str,
    rustfmt: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Output, String> {
    let operations = crate::spec::load_folder(spec_dir, "v2")?;
    let table = std::fs::read_to_string(root.join(NAMES))
        .map_err(|e| format!("cannot read {NAMES}: {e}"))?;
    let entries = crate::names::parse(&table)?;
    check_names(&entries, &operations)?;
    let by_key: BTreeMap<(&str, &str), &Value> = operations
        .iter()
        .map(|(path, method, op)| ((method.as_str(), path.as_str()), op))
        .collect();

    let mut modules: BTreeMap<String, Module> = BTreeMap::new();
    let mut not_declared: Vec<(String, String, String)> = Vec::new();
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| (&a.module, &a.path).cmp(&(&b.module, &b.path)));
    for entry in sorted {
        let op = by_key[&(entry.method.as_str(), entry.path.as_str())];
        let module = modules
            .entry(entry.module.clone())
            .or_insert_with(|| Module {
                path: entry.module.clone(),
                reserved: entries
                    .iter()
                    .filter(|e| e.module == entry.module)
                    .flat_map(|e| {
                        [
                            e.name.clone(),
                            format!("{}Required", e.name),
                            format!("{}Response", e.name),
                        ]
                    })
                    .chain(crate::PRELUDE.iter().map(|n| (*n).to_owned()))
                    .collect(),
                ..Module::default()
            });
        match build_op(module, entry, op) {
            Ok(op) => module.ops.push(op),
            Err(reason) => not_declared.push((entry.method.clone(), entry.path.clone(), reason)),
        }
    }
    // Every ancestor of a module is a module too (`papay` of `papay::partner`).
    let paths: Vec<String> = modules.keys().cloned().collect();
    for path in paths {
        if let Some((parent, _)) = path.rsplit_once("::") {
            modules.entry(parent.to_owned()).or_insert_with(|| Module {
                path: parent.to_owned(),
                ..Module::default()
            });
        }
    }

    let apis = root.join("src/apis/v2");
    let mut files = BTreeMap::new();
    for (path, module) in &modules {
        let children: Vec<&str> = modules
            .keys()
            .filter_map(|child| child.strip_prefix(&format!("{path}::")))
            .filter(|rest| !rest.contains("::"))
            .collect();
        let dir = path.split("::").fold(apis.clone(), |dir, p| dir.join(p));
        files.insert(
            dir.join("mod.rs"),
            rustfmt(&module_file(module, &children, version))?,
        );
    }
    files.insert(apis.join("mod.rs"), rustfmt(&root_file(&modules, version))?);
    files.insert(
        apis.join("operations/table.rs"),
        rustfmt(&operations_table(&modules, &not_declared, version))?,
    );
    files.insert(
        root.join("tests/it/catalog/v2/mod.rs"),
        rustfmt(&test_file(&modules, entries.len(), &not_declared, version)?)?,
    );

    let ops: Vec<&Op> = modules.values().flat_map(|m| &m.ops).collect();
    let answers = ops
        .iter()
        .filter(|op| matches!(op.response, Response::Named(_)))
        .count();
    let enums: usize = modules.values().map(|m| m.enums.len()).sum();
    let mut summary = format!(
        "  APIv2: {} of {} operations declared in {} modules ({} with a client certificate, {} \
         answered unsigned, {} idempotent), {answers} answer types, {enums} enums\n",
        ops.len(),
        entries.len(),
        modules.len(),
        ops.iter().filter(|op| op.facts.cert).count(),
        ops.iter().filter(|op| !op.facts.signed_answer).count(),
        ops.iter().filter(|op| op.idempotent).count(),
    );
    for (method, path, reason) in &not_declared {
        let _ = writeln!(summary, "  APIv2 not declared: {method} {path}: {reason}");
    }
    Ok(Output { files, summary })
}

/// One row per operation of the spec, no strays, one name per module.
fn check_names(entries: &[Entry], operations: &[(String, String, Value)]) -> Result<(), String> {
    let spec: BTreeSet<(&str, &str)> = operations
        .iter()
        .map(|(path, method, _)| (method.as_str(), path.as_str()))
        .collect();
    let table: BTreeSet<(&str, &str)> = entries
        .iter()
        .map(|e| (e.method.as_str(), e.path.as_str()))
        .collect();
    let mut problems: Vec<String> = spec
        .difference(&table)
        .map(|(m, p)| format!("{NAMES}: no row for {m} {p}"))
        .collect();
    problems.extend(
        table
            .difference(&spec)
            .map(|(m, p)| format!("{NAMES}: {m} {p} is not in the spec")),
    );
    let mut seen = BTreeSet::new();
    for e in entries {
        if !seen.insert((&e.module, &e.name)) {
            problems.push(format!("{NAMES}: `{}::{}` named twice", e.module, e.name));
        }
        if e.manual || e.default {
            problems.push(format!(
                "{NAMES}: {} {}: every APIv2 row is `generated`",
                e.method, e.path
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn build_op(module: &mut Module, entry: &Entry, op: &Value) -> Result<Op, String> {
    let facts = facts(&entry.path, &entry.method, op);
    let host_key = if facts.host == API_HOST {
        None
    } else {
        Some(
            HOST_KEYS
                .iter()
                .find(|(host, _)| *host == facts.host)
                .map(|(_, key)| *key)
                .ok_or_else(|| {
                    format!(
                        "served on {}, a host the runtime's `Host` has no key for",
                        facts.host
                    )
                })?,
        )
    };
    // An upload's file, and the text field the spec says is its MD5 (`media_hash`: "根据媒体
    // 文件内容进行MD5计算后的值"), which the runtime fills from the file.
    let has_file = facts
        .fields
        .values()
        .any(|schema| schema.get("type").and_then(Value::as_str) == Some("file"));
    let file_md5 = facts
        .fields
        .iter()
        .find(|(_, schema)| {
            has_file
                && schema.get("type").and_then(Value::as_str) == Some("string")
                && schema
                    .get("description")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.contains("MD5"))
        })
        .map(|(wire, _)| wire.clone());
    let query: Vec<String> = facts
        .fields
        .iter()
        .filter(|(_, schema)| {
            facts.post_query && schema.get("in").and_then(Value::as_str) == Some("query")
        })
        .map(|(wire, _)| wire.clone())
        .collect();
    let unsigned_request = !facts.signed_request && !facts.fields.is_empty();
    let required: BTreeSet<&str> = facts.required.iter().map(String::as_str).collect();
    let mut taken = BTreeSet::new();
    let mut fields = Vec::new();
    for (wire, schema) in &facts.fields {
        if RUNTIME_REQUEST.contains(&wire.as_str()) || file_md5.as_ref() == Some(wire) {
            continue;
        }
        fields.push(field(
            module,
            &entry.name,
            wire,
            schema,
            required.contains(wire.as_str()),
            true,
            &mut taken,
        ));
    }
    let response = match facts.answer {
        AnswerKind::File => Response::Text,
        AnswerKind::Xml | AnswerKind::Json => {
            let answer_required: BTreeSet<String> =
                strings(facts.answer_schema.as_ref().and_then(|s| s.get("required")))
                    .into_iter()
                    .collect();
            let mut taken = BTreeSet::new();
            let mut answer_fields = Vec::new();
            let mut indexed = Vec::new();
            let mut lists = Vec::new();
            // Required names the answer has no element of: a list item's (see `list`).
            let misplaced: BTreeSet<String> = answer_required
                .iter()
                .filter(|name| !facts.answer_properties.contains_key(*name))
                .cloned()
                .collect();
            let owner = format!("{}Response", entry.name);
            for (wire, schema) in &facts.answer_properties {
                if RUNTIME_ANSWER.contains(&wire.as_str()) || JSON_ENVELOPE.contains(&wire.as_str())
                {
                    continue;
                }
                if wire.contains('$') {
                    indexed.push(wire.clone());
                    continue;
                }
                if let Some((item_wire, item_schema)) = list_shape(schema) {
                    lists.push(list(
                        module,
                        (wire, schema),
                        (item_wire, item_schema),
                        &misplaced,
                        &mut taken,
                    )?);
                    continue;
                }
                answer_fields.push(field(
                    module,
                    &owner,
                    wire,
                    schema,
                    answer_required.contains(wire),
                    false,
                    &mut taken,
                ));
            }
            if answer_fields.is_empty() && lists.is_empty() {
                Response::Nothing
            } else {
                Response::Named(Answer {
                    name: owner,
                    fields: answer_fields,
                    indexed,
                    lists,
                })
            }
        }
        AnswerKind::Page | AnswerKind::Redirect => Response::Nothing,
    };
    let idempotent = entry.method == "POST"
        && fields
            .iter()
            .any(|f| f.required && crate::model::REQUEST_NUMBERS.contains(&f.wire.as_str()));
    let description = op.get("description").and_then(Value::as_str).unwrap_or("");
    Ok(Op {
        entry: entry.clone(),
        query,
        file_md5,
        unsigned_request,
        title: op
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        tags: strings(op.get("tags")),
        links: links(description),
        facts,
        host_key,
        idempotent,
        fields,
        response,
    })
}

/// A list element's field and item type (named by [`LIST_ITEMS`]; an item no row names
/// leaves its operation undeclared, with the reason).
///
/// An item's field is required when the item schema says so, or when the answer's `required`
/// names it and the answer has no element of that name (the spec lists `gethbinfo`'s `openid`,
/// `amount` and `rcv_time` there: they are `hbinfo`'s).
fn list(
    module: &mut Module,
    (wire, schema): (&str, &Value),
    (item_wire, item_schema): (&str, &Value),
    misplaced: &BTreeSet<String>,
    taken: &mut BTreeSet<String>,
) -> Result<List, String> {
    let item = LIST_ITEMS
        .iter()
        .find(|(known, _)| *known == item_wire)
        .map(|(_, name)| (*name).to_owned())
        .ok_or_else(|| {
            format!(
                "the list element `{wire}` has items `{item_wire}` that no type name is given for"
            )
        })?;
    if module.reserved.contains(&item) {
        return Err(format!(
            "the list item type {item} would take a reserved name"
        ));
    }
    let required: BTreeSet<String> = strings(item_schema.get("required"))
        .into_iter()
        .chain(misplaced.iter().cloned())
        .collect();
    let mut item_taken = BTreeSet::new();
    let fields = item_schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(field_wire, field_schema)| {
            field(
                module,
                &item,
                field_wire,
                field_schema,
                required.contains(field_wire),
                false,
                &mut item_taken,
            )
        })
        .collect();
    let array = schema
        .get("properties")
        .and_then(|p| p.get(item_wire))
        .unwrap_or(&Value::Null);
    Ok(List {
        wire: wire.to_owned(),
        ident: crate::model::unique_ident(wire, taken),
        label: crate::model::label_of(schema),
        item_wire: item_wire.to_owned(),
        item,
        item_label: crate::model::label_of(array),
        fields,
    })
}

/// The official documentation links of a description (`[官方文档](https://pay.weixin.qq.com/…)`),
/// in order, each once.
fn links(description: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, _) in description.match_indices("](https://") {
        let rest = &description[i + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        let link = rest[..end].to_owned();
        // The platform's pages only (a description also links a file share).
        let host = link
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap_or("");
        let official = host.ends_with(".weixin.qq.com") || host.ends_with(".wechatpay.cn");
        if official && !out.contains(&link) {
            out.push(link);
        }
    }
    out
}

fn field(
    module: &mut Module,
    owner: &str,
    wire: &str,
    schema: &Value,
    required: bool,
    request: bool,
    taken: &mut BTreeSet<String>,
) -> Field {
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let unsigned = matches!(format, "uint" | "uint32" | "uint64");
    let ty = if schema.get("x-json").is_some() {
        // JSON text: a request sends a value as JSON text, an answer's stays text.
        if request { Ty::Json } else { Ty::Str }
    } else {
        match schema.get("type").and_then(Value::as_str) {
            Some("integer") => Ty::Int(if unsigned { "u64" } else { "i64" }),
            Some("number") if unsigned => Ty::Int("u64"),
            Some("number") if matches!(format, "integer" | "int32" | "int64") => Ty::Int("i64"),
            Some("string") => match enum_of(module, owner, wire, schema) {
                Some(name) => Ty::Enum(name),
                None => Ty::Str,
            },
            Some("file") if request => Ty::File,
            // Booleans as the text the platform writes; other shapes (and the spec's
            // defects, an example where the type belongs) as text.
            _ => Ty::Str,
        }
    };
    Field {
        wire: wire.to_owned(),
        ident: crate::model::unique_ident(wire, taken),
        ty,
        required,
        label: crate::model::label_of(schema),
        example: schema.get("example").cloned(),
    }
}

/// The module's platform enum for a string field with values, declared on first use; a field
/// whose values name nothing stays a string.
fn enum_of(module: &mut Module, owner: &str, wire: &str, schema: &Value) -> Option<String> {
    let mut values: Vec<String> = Vec::new();
    for value in strings(schema.get("enum")) {
        if !value.is_empty() && !values.contains(&value) {
            values.push(value);
        }
    }
    if values.is_empty() {
        return None;
    }
    let labels = schema.get("x-enum-labels");
    let mut variants: Vec<(String, String, String)> = Vec::new();
    for value in &values {
        let label = labels
            .and_then(|l| l.get(value))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut ident = match crate::variants::variant(wire, value, &label) {
            Ok(Some(ident)) => ident,
            _ => return None,
        };
        if ident == "Unknown" || ident == "Self_" || ident == "Self" {
            ident = format!("{ident}Value");
        }
        let base = ident.clone();
        let mut n = 2;
        while variants.iter().any(|(v, _, _)| *v == ident) {
            ident = format!("{base}{n}");
            n += 1;
        }
        variants.push((ident, value.clone(), label));
    }
    let field = wire.to_upper_camel_case();
    // The same values under the same field name: one enum.
    let same = |e: &Enum| {
        (e.name == field || e.name.ends_with(&field))
            && e.variants
                .iter()
                .map(|v| &v.1)
                .eq(variants.iter().map(|v| &v.1))
    };
    if let Some(existing) = module.enums.iter().find(|e| same(e)) {
        return Some(existing.name.clone());
    }
    let taken = |m: &Module, name: &str| {
        m.reserved.contains(name) || m.enums.iter().any(|e| e.name == name)
    };
    // The field's name; else qualified by the product (`CouponType`), which any of its
    // operations may share; else by the operation.
    let product = module
        .path
        .rsplit("::")
        .find(|segment| *segment != "partner")
        .unwrap_or("")
        .to_upper_camel_case();
    let candidates = [
        (!crate::model::VAGUE.contains(&field.as_str())).then(|| field.clone()),
        Some(format!("{product}{field}")),
        Some(format!("{}{field}", owner.trim_end_matches("Response"))),
    ];
    let mut name = candidates
        .iter()
        .flatten()
        .find(|name| !taken(module, name))
        .cloned()
        .unwrap_or_else(|| format!("{}{field}", owner.trim_end_matches("Response")));
    let base = name.clone();
    let mut n = 2;
    while taken(module, &name) {
        name = format!("{base}{n}");
        n += 1;
    }
    module.enums.push(Enum {
        name: name.clone(),
        label: crate::model::label_of(schema),
        variants,
    });
    Some(name)
}

// ---------------------------------------------------------------------------------------
// Rendering.

fn doc_line(out: &mut String, text: &str) {
    if text.is_empty() {
        out.push_str("///\n");
    }
    for line in text.lines() {
        let _ = writeln!(out, "///{}{line}", if line.is_empty() { "" } else { " " });
    }
}

/// Spec text as Markdown that rustdoc takes literally.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']' | '*' | '_' | '`' | '<' | '>' | '\\' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn rust_ty(f: &Field) -> String {
    let ty = match &f.ty {
        Ty::Str => "String".to_owned(),
        Ty::Int(int) => (*int).to_owned(),
        Ty::Json => "serde_json::Value".to_owned(),
        Ty::Enum(name) => name.clone(),
        // Spelt out: a module may declare an operation named `UploadFile`.
        Ty::File => "crate::UploadFile".to_owned(),
    };
    if f.required {
        ty
    } else {
        format!("Option<{ty}>")
    }
}

fn field_doc(f: &Field) -> String {
    if f.label.is_empty() {
        format!("`{}`.", f.wire)
    } else {
        format!("{} (`{}`).", escape(&f.label), f.wire)
    }
}

fn personal(f: &Field) -> bool {
    f.ty == Ty::Str && (crate::model::personal(&f.wire) || CREDENTIALS.contains(&f.wire.as_str()))
}

const ROOT_DOC: &str = r#"//! APIv2: the operations of the platform's older protocol, which APIv3 never covered or
//! covered late (cash red packets, payouts to balance and bank cards, the v2 profit sharing
//! and deposit products, …), declared with [`#[endpoint(v2 …)]`](crate::endpoint): flat
//! `<xml>` requests signed with the APIv2 key (MD5, or HMAC-SHA256 where the operation takes
//! it), the merchant's client certificate on the connection where the platform requires it.
//!
//! Modules follow the products. Every field of a request is an element of its `<xml>`
//! (`submchmanage`'s `action` is a query parameter beside it; `uploadmedia`'s fields are the
//! signed text parts of its upload, its file unsigned); `nonce_str`, `sign` and `sign_type`
//! are the runtime's (`authindex`, a page the user's browser opens, is not signed). The answer types hold the elements
//! of a successful answer: the runtime checks `return_code`, `result_code` (with `err_code`
//! and `err_code_des`) and verifies `sign` first, so those are not fields; indexed elements
//! (`coupon_id_$n`) are not decoded yet, and each answer type lists the ones it leaves out.
//! The bills (`downloadbill`, `downloadfundflow`) answer their text as a `String`
//! (`answer = text`), `getaccesstoken` JSON (`answer = json`); the contract-signing pages
//! (`entrustweb`, `answer = page`) are for the user's browser, sent to their signed URL by
//! [`Client::page_url`](crate::Client::page_url).
//!
//! The modules are enabled by the `v2` feature; [`OPERATIONS`] lists every operation with its
//! rules in every build, for tools that send them through `Client::apiv2` (the `wxpay` command
//! line does).

mod operations;

pub use operations::{OPERATIONS, Operation};

"#;

fn root_file(modules: &BTreeMap<String, Module>, version: &str) -> String {
    let mut out = crate::emit::header(version);
    out.push_str(ROOT_DOC);
    for path in modules.keys().filter(|m| !m.contains("::")) {
        let _ = writeln!(
            out,
            "#[cfg(feature = \"v2\")]\n#[cfg_attr(docsrs, doc(cfg(feature = \"v2\")))]\npub mod {path};"
        );
    }
    out
}

fn module_file(m: &Module, children: &[&str], version: &str) -> String {
    let mut out = crate::emit::header(version);
    let mut tags: BTreeMap<&str, usize> = BTreeMap::new();
    for op in &m.ops {
        for tag in &op.tags {
            *tags.entry(tag.as_str()).or_default() += 1;
        }
    }
    let tag = tags.iter().max_by_key(|(_, n)| **n).map(|(t, _)| *t);
    match tag {
        Some(tag) => {
            let _ = writeln!(out, "//! {}.", escape(tag));
        }
        None => {
            let _ = writeln!(out, "//! The `{}` operations.", m.path.replace("::", "/"));
        }
    }
    out.push('\n');
    if !m.ops.is_empty() {
        if m.ops
            .iter()
            .any(|op| matches!(op.response, Response::Named(_)))
        {
            out.push_str("use serde::Deserialize;\n");
        }
        out.push_str("use crate::endpoint;\n\n");
    }
    for child in children {
        let _ = writeln!(out, "pub mod {child};");
    }
    if !children.is_empty() {
        out.push('\n');
    }
    for op in &m.ops {
        out.push_str(&operation(op, m));
    }
    for op in &m.ops {
        if let Response::Named(answer) = &op.response {
            out.push_str(&answer_struct(op, answer));
            for list in &answer.lists {
                out.push_str(&list_item_struct(op, list));
            }
        }
    }
    for e in &m.enums {
        out.push_str(&enumeration(e));
    }
    out
}

fn options(op: &Op) -> String {
    let mut options = String::new();
    match &op.response {
        Response::Named(answer) => {
            let _ = write!(options, " -> {}", answer.name);
        }
        Response::Text => options.push_str(" -> String"),
        Response::Nothing => {}
    }
    if op.facts.cert {
        options.push_str(", cert");
    }
    if !op.facts.signed_answer {
        options.push_str(", unsigned_answer");
    }
    match op.facts.sign_types {
        SignTypes::Md5 => {}
        SignTypes::HmacSha256 => options.push_str(", sign_type = hmac_sha256"),
        SignTypes::Either => options.push_str(", sign_type = either"),
    }
    if !op.facts.nonce {
        options.push_str(", no_nonce");
    }
    if op.unsigned_request {
        options.push_str(", unsigned_request");
    }
    if let Some(host) = op.host_key {
        let _ = write!(options, ", host = {host}");
    }
    if op.idempotent {
        options.push_str(", idempotent");
    }
    if let Some(kind) = answer_key(op.facts.answer) {
        let _ = write!(options, ", answer = {kind}");
    }
    options
}

/// The `answer = …` key of an operation that does not answer `<xml>`, as the DSL spells it.
fn answer_key(answer: AnswerKind) -> Option<&'static str> {
    match answer {
        AnswerKind::File => Some("text"),
        AnswerKind::Json => Some("json"),
        // A redirect (`authindex`) is a page too: the user's browser opens it.
        AnswerKind::Page | AnswerKind::Redirect => Some("page"),
        AnswerKind::Xml => None,
    }
}

fn operation(op: &Op, m: &Module) -> String {
    let mut out = String::new();
    let method = op.entry.method.as_str();
    let path = op.entry.path.as_str();
    doc_line(
        &mut out,
        &format!("`{method} {path}` {}", escape(&op.title)),
    );
    if let Some((first, rest)) = op.links.split_first() {
        doc_line(&mut out, "");
        let mut line = format!("[Official documentation]({first})");
        for (i, link) in rest.iter().enumerate() {
            let _ = write!(line, ", [{}]({link})", i + 2);
        }
        doc_line(&mut out, &line);
    }
    let mut facts = Vec::new();
    if !op.tags.is_empty() {
        let tags: Vec<String> = op.tags.iter().map(|t| escape(t)).collect();
        facts.push(format!("Product: {}.", tags.join(", ")));
    }
    if op.facts.cert {
        facts.push(
            "The merchant's API client certificate goes on the connection (`cert`).".to_owned(),
        );
    }
    if !op.facts.signed_answer {
        facts.push("The platform answers without a `sign` (`unsigned_answer`).".to_owned());
    }
    if let Some(host) = op.host_key {
        facts.push(format!(
            "Served on the platform's `{host}` host ([`Host`](crate::Host)): every client \
             sends it there."
        ));
    }
    match op.facts.answer {
        AnswerKind::File => facts.push(
            "Answers the bill's text (`answer = text`), read whole under the client's download \
             limits (a `GZIP` bill decompressed); a failure is the platform's `<xml>`."
                .to_owned(),
        ),
        AnswerKind::Json => facts.push(
            "Answers JSON (`answer = json`): a `retcode` other than 0 is the business error."
                .to_owned(),
        ),
        AnswerKind::Page => facts.push(
            "A page for the user's browser (`answer = page`): the server does not fetch it; \
             send the browser to its signed URL, [`Client::page_url`](crate::Client::page_url)."
                .to_owned(),
        ),
        AnswerKind::Redirect => facts.push(
            "A page for the user's browser, which the platform redirects (`answer = page`): the \
             fields are its query string, unsigned (`unsigned_request`); send the browser to \
             [`Client::page_url`](crate::Client::page_url)."
                .to_owned(),
        ),
        AnswerKind::Xml => {}
    }
    if bank_payout(op) {
        facts.push(
            "`enc_bank_no` and `enc_true_name` are RSA-OAEP ciphertext (base64) under the \
             platform's bank-card payout key: encrypt them with \
             [`Client::bank_payout_key`](crate::Client::bank_payout_key), fetched once \
             (`getpublickey`) and kept; after a refusal of the encryption, \
             [`refresh_bank_payout_key`](crate::Client::refresh_bank_payout_key)."
                .to_owned(),
        );
    }
    if let Some(md5) = &op.file_md5 {
        facts.push(format!(
            "An upload: the fields are signed text parts of a `multipart/form-data` body, the \
             file is not signed; `{md5}` (the file's MD5) is filled from the file."
        ));
    }
    if !op.query.is_empty() {
        let names: Vec<String> = op.query.iter().map(|q| format!("`{q}`")).collect();
        facts.push(format!(
            "{} goes in the URL's query beside the `<xml>`, outside the sign.",
            names.join(", ")
        ));
    }
    for fact in facts {
        doc_line(&mut out, "");
        doc_line(&mut out, &fact);
    }
    doc_line(&mut out, "");
    out.push_str(&example(op, m));
    let _ = writeln!(out, "#[doc(alias = \"{path}\")]");
    let _ = writeln!(out, "#[endpoint(v2 {method} \"{path}\"{})]", options(op));
    // `#[endpoint]` writes the `Debug` of a request with personal data, redacting it.
    if op.fields.iter().any(personal) {
        out.push_str("#[derive(Clone)]\n");
    } else {
        out.push_str("#[derive(Debug, Clone)]\n");
    }
    let _ = writeln!(out, "pub struct {} {{", op.entry.name);
    for f in &op.fields {
        doc_line(&mut out, &field_doc(f));
        if f.ty == Ty::Json {
            out.push_str("#[wxpay(json)]\n");
        } else if f.ty == Ty::File {
            match &op.file_md5 {
                Some(md5) => {
                    let _ = writeln!(out, "#[wxpay(file(md5 = \"{md5}\"))]");
                }
                None => out.push_str("#[wxpay(file)]\n"),
            }
        } else if op.query.contains(&f.wire) {
            out.push_str("#[wxpay(query)]\n");
        } else if personal(f) {
            out.push_str("#[wxpay(redact)]\n");
        }
        if f.ident != f.wire {
            let _ = writeln!(out, "#[serde(rename = \"{}\")]", f.wire);
        }
        let _ = writeln!(out, "pub {}: {},", f.ident, rust_ty(f));
    }
    out.push_str("}\n\n");
    out
}

/// The value of a field built from the spec's example, as Rust (`api` names the module).
fn value_expr(f: &Field, api: &str, m: &Module) -> String {
    let text = f.example.as_ref().and_then(crate::spec::scalar_text);
    match &f.ty {
        Ty::Str => format!(
            "{:?}",
            text.unwrap_or_else(|| format!("TEST_{}", f.wire.to_ascii_uppercase()))
        ),
        Ty::Int(int) => {
            let n = text.and_then(|t| t.trim().parse::<i64>().ok()).unwrap_or(1);
            if *int == "u64" { n.max(0) } else { n }.to_string()
        }
        Ty::Json => {
            let parsed = text
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .filter(|v| v.is_object() || v.is_array());
            match parsed {
                Some(value) => format!("serde_json::json!({value})"),
                None => "serde_json::json!({})".to_owned(),
            }
        }
        Ty::Enum(name) => {
            let e = m.enums.iter().find(|e| e.name == *name);
            let variant = e.and_then(|e| {
                e.variants
                    .iter()
                    .find(|(_, value, _)| Some(value) == text.as_ref())
                    .or_else(|| e.variants.first())
            });
            match variant {
                Some((variant, _, _)) => format!("{api}::{name}::{variant}"),
                None => format!("{api}::{name}::from(\"TEST\")"),
            }
        }
        // The tests' module is named `api`; an example reads the file's `content`.
        Ty::File if api == "api" => "harness::file()".to_owned(),
        Ty::File => "wxpay::UploadFile::image(\"media.jpg\", content)?".to_owned(),
    }
}

/// The text a field built by [`value_expr`] has on the wire: the element of the `<xml>`.
fn example_text(f: &Field, m: &Module) -> String {
    let text = f.example.as_ref().and_then(crate::spec::scalar_text);
    match &f.ty {
        Ty::Str => text.unwrap_or_else(|| format!("TEST_{}", f.wire.to_ascii_uppercase())),
        Ty::Int(int) => {
            let n = text.and_then(|t| t.trim().parse::<i64>().ok()).unwrap_or(1);
            if *int == "u64" { n.max(0) } else { n }.to_string()
        }
        Ty::Json => text
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .filter(|v| v.is_object() || v.is_array())
            .unwrap_or_else(|| Value::Object(Map::new()))
            .to_string(),
        Ty::Enum(name) => {
            let e = m.enums.iter().find(|e| e.name == *name);
            e.and_then(|e| {
                e.variants
                    .iter()
                    .find(|(_, value, _)| Some(value) == text.as_ref())
                    .or_else(|| e.variants.first())
            })
            .map_or_else(|| "TEST".to_owned(), |(_, value, _)| value.clone())
        }
        // No element: the file is a part of its own (its MD5's element is listed apart).
        Ty::File => String::new(),
    }
}

/// `X::new(XRequired { … })` with the required fields, then `setters` for the optional ones:
/// the request named through `request` (`api::` or nothing), its enums through `api`.
fn construction(op: &Op, request: &str, api: &str, m: &Module, setters: bool) -> String {
    construction_for(op, request, api, m, setters, None)
}

/// The names the calling merchant's own id goes by in APIv2 requests.
const MERCHANT_IDS: [&str; 3] = ["mch_id", "mchid", "sp_mchid"];

/// As [`construction`], with every field of [`MERCHANT_IDS`] naming `merchant` (when given)
/// instead of the spec's example merchant.
fn construction_for(
    op: &Op,
    request: &str,
    api: &str,
    m: &Module,
    setters: bool,
    merchant: Option<&str>,
) -> String {
    let value_expr = |f: &Field, api: &str, m: &Module| match merchant {
        Some(id) if MERCHANT_IDS.contains(&f.wire.as_str()) => match f.ty {
            Ty::Str => format!("{id:?}"),
            Ty::Int(_) => id.to_owned(),
            _ => value_expr(f, api, m),
        },
        _ => value_expr(f, api, m),
    };
    let name = &op.entry.name;
    let mut out = String::new();
    let required: Vec<&Field> = op.fields.iter().filter(|f| f.required).collect();
    if required.is_empty() {
        let _ = write!(out, "{request}{name}::new()");
    } else {
        let _ = writeln!(out, "{request}{name}::new({request}{name}Required {{");
        for f in required {
            let value = value_expr(f, api, m);
            if f.ty == Ty::Str {
                let _ = writeln!(out, "    {}: {value}.into(),", f.ident);
            } else {
                let _ = writeln!(out, "    {}: {value},", f.ident);
            }
        }
        out.push_str("})");
    }
    if setters {
        for f in op.fields.iter().filter(|f| !f.required) {
            let _ = write!(out, "\n.{}({})", f.ident, value_expr(f, api, m));
        }
    }
    out
}

/// The fields a bank-card payout (`pay_bank`) encrypts with the key of `getpublickey`, and
/// the plain value its doc example encrypts for each.
const BANK_PAYOUT_FIELDS: [(&str, &str); 2] = [
    ("enc_bank_no", "6222020200000000000"),
    ("enc_true_name", "张三"),
];

/// Whether `op` takes the fields of [`BANK_PAYOUT_FIELDS`].
fn bank_payout(op: &Op) -> bool {
    BANK_PAYOUT_FIELDS
        .iter()
        .all(|(wire, _)| op.fields.iter().any(|f| f.wire == *wire))
}

fn example(op: &Op, m: &Module) -> String {
    let mut out = String::new();
    let name = &op.entry.name;
    let api = format!("wxpay::apis::v2::{}", m.path);
    doc_line(&mut out, "```no_run");
    let _ = writeln!(
        out,
        "/// # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {{"
    );
    if op.fields.iter().any(|f| f.ty == Ty::File) {
        let _ = writeln!(out, "/// # let content: Vec<u8> = todo!();");
    }
    let required = op.fields.iter().any(|f| f.required);
    if required {
        let _ = writeln!(out, "/// use {api}::{{{name}, {name}Required}};\n///");
    } else {
        let _ = writeln!(out, "/// use {api}::{name};\n///");
    }
    let mut built = format!("{};", construction(op, "", &api, m, false));
    if bank_payout(op) {
        let _ = writeln!(out, "/// let key = client.bank_payout_key().await?;");
        // The spec's example values are not ciphertext under any key: show the encryption.
        built = built
            .lines()
            .map(|line| {
                let field = line.trim_start().split(':').next().unwrap_or_default();
                match BANK_PAYOUT_FIELDS.iter().find(|(wire, _)| *wire == field) {
                    Some((wire, plain)) => format!("    {wire}: key.encrypt({plain:?})?,"),
                    None => line.to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    let mut lines = built.lines();
    if let Some(first) = lines.next() {
        let _ = writeln!(out, "/// let request = {first}");
    }
    for line in lines {
        let _ = writeln!(out, "/// {line}");
    }
    if matches!(op.facts.answer, AnswerKind::Page | AnswerKind::Redirect) {
        let _ = writeln!(
            out,
            "/// // Send the user's browser there (a redirect, a link)."
        );
        let _ = writeln!(out, "/// let url = client.page_url(&request)?;");
        let _ = writeln!(out, "/// # let _ = url;\n/// # Ok(()) }}");
    } else {
        let _ = writeln!(out, "/// let answer = client.send(request).await?;");
        let _ = writeln!(out, "/// # let _ = answer;\n/// # Ok(()) }}");
    }
    doc_line(&mut out, "```");
    out
}

fn answer_struct(op: &Op, answer: &Answer) -> String {
    let mut out = String::new();
    doc_line(
        &mut out,
        &format!(
            "The answer of [`{}`] ({}).",
            op.entry.name,
            escape(&op.title).trim_end_matches('。')
        ),
    );
    if !answer.indexed.is_empty() {
        doc_line(&mut out, "");
        let list: Vec<String> = answer.indexed.iter().map(|w| format!("`{w}`")).collect();
        doc_line(
            &mut out,
            &format!("Indexed elements not decoded yet: {}.", list.join(", ")),
        );
    }
    let sensitive = answer.fields.iter().any(personal);
    if sensitive {
        out.push_str("#[derive(Clone, Deserialize, crate::Sensitive)]\n");
    } else {
        out.push_str("#[derive(Debug, Clone, Deserialize)]\n");
    }
    out.push_str("#[non_exhaustive]\n");
    let _ = writeln!(out, "pub struct {} {{", answer.name);
    for f in &answer.fields {
        doc_line(&mut out, &field_doc(f));
        if personal(f) {
            out.push_str("#[wxpay(redact)]\n");
        }
        if f.ident != f.wire {
            let _ = writeln!(out, "#[serde(rename = \"{}\")]", f.wire);
        }
        let _ = writeln!(out, "pub {}: {},", f.ident, rust_ty(f));
    }
    for list in &answer.lists {
        let label = if list.label.is_empty() {
            String::new()
        } else {
            format!("{} ", escape(&list.label))
        };
        doc_line(
            &mut out,
            &format!(
                "{label}(`{}`, each `<{}>` one [`{}`]; empty when the answer has none).",
                list.wire, list.item_wire, list.item
            ),
        );
        out.push_str("#[serde(default)]\n");
        if list.ident != list.wire {
            let _ = writeln!(out, "#[serde(rename = \"{}\")]", list.wire);
        }
        let _ = writeln!(out, "pub {}: Vec<{}>,", list.ident, list.item);
    }
    out.push_str("}\n\n");
    out
}

/// The type of a list element's items (`<hbinfo>`), its personal data redacted in `Debug`.
fn list_item_struct(op: &Op, list: &List) -> String {
    let mut out = String::new();
    let label = if list.item_label.is_empty() {
        String::new()
    } else {
        format!(" ({})", escape(&list.item_label).trim_end_matches('。'))
    };
    doc_line(
        &mut out,
        &format!(
            "One `<{}>` of the `{}` in the answer of [`{}`]{label}.",
            list.item_wire, list.wire, op.entry.name
        ),
    );
    if list.fields.iter().any(personal) {
        out.push_str("#[derive(Clone, Deserialize, crate::Sensitive)]\n");
    } else {
        out.push_str("#[derive(Debug, Clone, Deserialize)]\n");
    }
    out.push_str("#[non_exhaustive]\n");
    let _ = writeln!(out, "pub struct {} {{", list.item);
    for f in &list.fields {
        doc_line(&mut out, &field_doc(f));
        if personal(f) {
            out.push_str("#[wxpay(redact)]\n");
        }
        if f.ident != f.wire {
            let _ = writeln!(out, "#[serde(rename = \"{}\")]", f.wire);
        }
        let _ = writeln!(out, "pub {}: {},", f.ident, rust_ty(f));
    }
    out.push_str("}\n\n");
    out
}

/// A list element as the platform writes it, each item's fields from the spec's examples.
fn example_list_xml(list: &List, m: &Module) -> String {
    let mut out = format!("<{}><{}>", list.wire, list.item_wire);
    for f in &list.fields {
        let _ = write!(
            out,
            "<{0}><![CDATA[{1}]]></{0}>",
            f.wire,
            example_text(f, m)
        );
    }
    let _ = write!(out, "</{}></{}>", list.item_wire, list.wire);
    out
}

/// A `platform_enum!`, indented as rustfmt would indent the enum.
fn enumeration(e: &Enum) -> String {
    let mut body = String::new();
    doc_line(
        &mut body,
        &if e.label.is_empty() {
            format!("`{}`.", e.name)
        } else {
            format!("{}.", escape(&e.label))
        },
    );
    let _ = writeln!(body, "pub enum {} {{", e.name);
    for (variant, value, label) in &e.variants {
        let mut line = String::new();
        if label.is_empty() {
            doc_line(&mut line, &format!("`{value}`."));
        } else {
            doc_line(&mut line, &format!("{} (`{value}`).", escape(label)));
        }
        let _ = writeln!(line, "{variant} = {value:?},");
        for l in line.lines() {
            let _ = writeln!(body, "    {l}");
        }
    }
    body.push_str("}\n");
    let mut out = String::from("platform_enum! {\n");
    for l in body.lines() {
        let _ = writeln!(out, "    {l}");
    }
    out.push_str("}\n\n");
    out
}

/// `ApiV2::new()…`: the protocol constant a declaration must have.
fn protocol_expr(op: &Op) -> String {
    let mut out = String::from("ApiV2::new()");
    match op.facts.sign_types {
        SignTypes::Md5 => {}
        SignTypes::HmacSha256 => out.push_str(".with_sign_types(SignTypes::HmacSha256)"),
        SignTypes::Either => out.push_str(".with_sign_types(SignTypes::Either)"),
    }
    if op.facts.cert {
        out.push_str(".with_client_certificate(true)");
    }
    if !op.facts.signed_answer {
        out.push_str(".with_signed_answer(false)");
    }
    if !op.facts.nonce {
        out.push_str(".with_nonce(false)");
    }
    if op.unsigned_request {
        out.push_str(".with_signed_request(false)");
    }
    match op.facts.answer {
        AnswerKind::File => out.push_str(".with_answer(ApiV2Answer::Text)"),
        AnswerKind::Json => out.push_str(".with_answer(ApiV2Answer::Json)"),
        // A redirect (`authindex`) is a page too: the user's browser opens it.
        AnswerKind::Page | AnswerKind::Redirect => out.push_str(".with_answer(ApiV2Answer::Page)"),
        AnswerKind::Xml => {}
    }
    out
}

fn host_variant(op: &Op) -> String {
    op.host_key.unwrap_or("api").to_upper_camel_case()
}

fn operations_table(
    modules: &BTreeMap<String, Module>,
    not_declared: &[(String, String, String)],
    version: &str,
) -> String {
    let mut out = crate::emit::header(version);
    out.push_str(
        "//! Every APIv2 operation of the spec that the catalog declares.\n\n\
         use super::Operation;\nuse crate::{ApiV2, ApiV2Answer, Host, SignTypes};\n\n\
         /// The APIv2 catalog as data: every operation of [`crate::apis::v2`], its method and\n\
         /// path, official title and link, host, protocol rules and whether a retry is safe.\n\
         /// In every build (the declarations need the `v2` feature). A test checks every entry\n\
         /// against its declaration.\n",
    );
    let mut ops: Vec<(&Module, &Op)> = modules
        .values()
        .flat_map(|m| m.ops.iter().map(move |op| (m, op)))
        .collect();
    ops.sort_by(|a, b| {
        (&a.1.entry.path, &a.1.entry.method).cmp(&(&b.1.entry.path, &b.1.entry.method))
    });
    let mut table = String::new();
    let mut checks = String::new();
    for (m, op) in &ops {
        let link = op.links.first().map(String::as_str).unwrap_or("");
        let _ = writeln!(
            table,
            "Operation {{ name: {:?}, module: {:?}, method: {:?}, path: {:?}, title: {:?}, \
             link: {link:?}, host: Host::{}, protocol: {}, idempotent: {} }},",
            op.entry.name,
            m.path,
            op.entry.method,
            op.entry.path,
            op.title,
            host_variant(op),
            protocol_expr(op),
            op.idempotent,
        );
        let ty = format!("crate::apis::v2::{}::{}", m.path, op.entry.name);
        let _ = writeln!(checks, "check::<{ty}>({:?}, {:?});", m.path, op.entry.name);
    }
    let _ = write!(
        out,
        "pub static OPERATIONS: &[Operation] = &[\n{table}];\n\n\
         /// Calls `check` with each declaration's module and name.\n\
         #[cfg(all(test, feature = \"v2\"))]\npub(crate) fn check_declarations(check: &mut impl super::Check) {{\n\
         {}}}\n\n\
         /// The operations of the spec the catalog does not declare, and why.\n\
         #[cfg(test)]\npub(crate) static NOT_DECLARED: &[(&str, &str, &str)] = &[\n",
        checks.replace("check::<", "check.check::<")
    );
    for (method, path, reason) in not_declared {
        let _ = writeln!(out, "({method:?}, {path:?}, {reason:?}),");
    }
    out.push_str("];\n");
    out
}

/// `<xml>` of an example answer's elements, as the platform writes them.
fn example_xml(fields: &[(String, String)]) -> String {
    let mut out = String::from("<xml>");
    for (name, value) in fields {
        let _ = write!(out, "<{name}><![CDATA[{value}]]></{name}>");
    }
    out.push_str("</xml>");
    out
}

fn test_file(
    modules: &BTreeMap<String, Module>,
    spec_operations: usize,
    not_declared: &[(String, String, String)],
    version: &str,
) -> Result<String, String> {
    let mut out = crate::emit::header(version);
    out.push_str(
        "//! Every APIv2 operation: built with its constructor and every setter from the spec's \
         examples, its\n//! declaration checked against the spec's facts (method, path, host, \
         client certificate, sign\n//! types, signed answer, nonce, idempotence), its signed \
         request checked element by element\n//! against the examples; its example answer \
         decoded; and every one sent to the sandbox over\n//! the wire.\n\nmod harness;\n\n\
         use wxpay::{ApiV2, ApiV2Answer, Host, SignTypes};\n\n",
    );
    let mut catalog = Vec::new();
    for (path, m) in modules {
        if m.ops.is_empty() {
            continue;
        }
        let name = path.replace("::", "_");
        let _ = write!(
            out,
            "/// The operations of `wxpay::apis::v2::{path}`, as the spec describes them.\n\
             fn {name}() -> Vec<harness::Case> {{\nuse wxpay::apis::v2::{path} as api;\n\nvec![\n"
        );
        for op in &m.ops {
            let mut fields = String::new();
            for f in &op.fields {
                match f.ty {
                    // The file is no element; the one its MD5 fills is.
                    Ty::File => {
                        if let Some(md5) = &op.file_md5 {
                            let _ = write!(fields, "({md5:?}, {CASE_FILE_MD5:?}), ");
                        }
                    }
                    _ => {
                        let _ = write!(fields, "({:?}, {:?}), ", f.wire, example_text(f, m));
                    }
                }
            }
            // Over the wire the merchant is the sandbox's: its id replaces the examples'.
            let names_merchant = op.fields.iter().any(|f| {
                matches!(f.ty, Ty::Str | Ty::Int(_))
                    && MERCHANT_IDS.contains(&f.wire.as_str())
                    && example_text(f, m) != SANDBOX_MCHID
            });
            let wire = if names_merchant {
                format!(
                    "Some(|| Box::new({}))",
                    construction_for(op, "api::", "api", m, true, Some(SANDBOX_MCHID))
                )
            } else {
                "None".to_owned()
            };
            let _ = writeln!(
                out,
                "harness::Case {{ name: {:?}, method: {:?}, path: {:?}, host: Host::{}, \
                 protocol: {}, idempotent: {}, request: || Box::new({}), fields: &[{fields}], \
                 wire: {wire} }},",
                op.entry.name,
                op.entry.method,
                op.entry.path,
                host_variant(op),
                protocol_expr(op),
                op.idempotent,
                construction(op, "api::", "api", m, true),
            );
        }
        out.push_str("]\n}\n\n");
        let _ = write!(
            out,
            "#[test]\nfn {name}_declarations() {{\nharness::declarations(&{name}());\n}}\n\n"
        );
        catalog.push(name.clone());
        let answers: Vec<&Op> = m
            .ops
            .iter()
            .filter(|op| matches!(op.response, Response::Named(_)))
            .collect();
        if answers.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "#[test]\nfn {name}_answers() {{\nuse wxpay::apis::v2::{path} as api;\n\nharness::answers(&[\n"
        );
        for op in answers {
            let body = if op.facts.answer == AnswerKind::Json {
                Value::Object(crate::sandbox_v2::example_json(&op.facts.answer_properties))
                    .to_string()
            } else {
                let fields = crate::sandbox_v2::example_fields(
                    &op.facts.answer_properties,
                    op.facts.answer_schema.as_ref(),
                    &format!("{} {}", op.entry.method, op.entry.path),
                )?;
                let mut body = example_xml(&fields);
                if let Response::Named(answer) = &op.response {
                    let lists: String = answer
                        .lists
                        .iter()
                        .map(|l| example_list_xml(l, m))
                        .collect();
                    body.insert_str(body.len() - "</xml>".len(), &lists);
                }
                body
            };
            let _ = writeln!(
                out,
                "harness::Answer {{ name: {:?}, decode: harness::decodes::<api::{}>, body: {body:?} }},",
                op.entry.name, op.entry.name,
            );
        }
        out.push_str("]);\n}\n\n");
    }
    let undeclared: String = not_declared
        .iter()
        .map(|(method, path, _)| format!("({method:?}, {path:?}), "))
        .collect();
    let _ = write!(
        out,
        "/// The operations of the spec (`openapi/v2/`), declared or not.\n\
         const SPEC_OPERATIONS: usize = {spec_operations};\n\n\
         /// The operations of the spec the catalog does not declare (see `NOT_DECLARED` in \
         `wxpay::apis::v2`).\n\
         const NOT_DECLARED: &[(&str, &str)] = &[{undeclared}];\n\n\
         /// Every operation of the catalog, each with its example request, through one client to \
         the\n/// sandbox's HTTPS listener, the `cert` ones over mTLS; the pages for the user's \
         browser\n/// by their signed URL.\n\
         #[test]\nfn over_the_wire() {{\nlet cases: Vec<harness::Case> = [{}].into_iter().flatten().collect();\n\
         harness::over_the_wire(&cases, SPEC_OPERATIONS, NOT_DECLARED);\n}}\n",
        catalog
            .iter()
            .map(|name| format!("{name}()"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    Ok(out)
}

/// The sandbox's merchant (`wxpay_sandbox::DEFAULT_MCHID`), named by the TEST client certificate.
const SANDBOX_MCHID: &str = "1230000109";

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn op(request: Value, answer: Value) -> Value {
        json!({
            "parameters": [{ "in": "body", "name": "_", "schema": request }],
            "responses": { "200": { "schema": answer } },
        })
    }

    #[test]
    fn sign_types_nonce_and_signed_answers_follow_the_spec() {
        let sign_type = |values: Value| {
            let request = json!({ "properties": { "sign": {}, "sign_type": { "enum": values } } });
            facts("/pay/x", "POST", &op(request, json!({}))).sign_types
        };
        assert_eq!(sign_type(json!(["MD5", "HMAC-SHA256"])), SignTypes::Either);
        assert_eq!(sign_type(json!(["HMAC-SHA256"])), SignTypes::HmacSha256);
        assert_eq!(sign_type(json!(["MD5"])), SignTypes::Md5);
        let request =
            json!({ "properties": { "sign": {}, "nonce_str": {} }, "required": ["sign"] });
        let signed = json!({ "properties": { "return_code": {}, "sign": {} } });
        let facts_of =
            |path: &str, answer: &Value| facts(path, "POST", &op(request.clone(), answer.clone()));
        let query = facts_of("/pay/orderquery", &signed);
        assert_eq!(query.sign_types, SignTypes::Md5);
        assert!(query.nonce && query.signed_request && query.signed_answer);
        assert!(query.required.is_empty(), "`sign` is checked on its own");
        let unsigned = json!({ "properties": { "return_code": {} } });
        assert!(!facts_of("/mmpaymkttransfers/sendredpack", &unsigned).signed_answer);
        // A bill's `sign` in the spec describes its failure: the file itself is unsigned.
        let bill = facts_of("/pay/downloadbill", &signed);
        assert_eq!(bill.answer, AnswerKind::File);
        assert!(!bill.signed_answer);
        let no_nonce = facts(
            "/x",
            "POST",
            &op(json!({ "properties": { "sign": {} } }), signed),
        );
        assert!(!no_nonce.nonce);
    }

    /// The spec's operation at `path`, as `generate` reads it.
    fn spec_op(path: &str) -> Facts {
        let dir = crate::workspace_root().join("../shared/apiv3");
        let operations = crate::spec::load_folder(&dir, "v2").expect("the v2 spec");
        let (path, method, op) = operations
            .iter()
            .find(|(p, _, _)| p == path)
            .expect("in the spec");
        facts(path, method, op)
    }

    #[test]
    fn bank_payouts_answer_unsigned_as_the_plugin_reads_them() {
        // The spec lists `sign` in pay_bank's answer (and none in query_bank's); gopay's
        // PayBankResponse has a `Sign`. The plugin wxpay grew from (0.9.6, `SIGNLESS` in
        // lib/transformer.js, the interop check's own copy) reads both unsigned, and the issue
        // counts bank payouts among the unsigned: a sign that never comes would fail every
        // payout, where an unchecked one loses no more than TLS already guards.
        assert!(!spec_op("/mmpaysptrans/pay_bank").signed_answer);
        assert!(!spec_op("/mmpaysptrans/query_bank").signed_answer);
        // Everything else the spec signs stays signed.
        assert!(spec_op("/pay/micropay").signed_answer);
    }

    #[test]
    fn the_red_packet_query_has_the_one_list_and_answers_unsigned() {
        let facts = spec_op("/mmpaymkttransfers/gethbinfo");
        assert!(!facts.signed_answer, "no sign meets the nested list");
        let lists: Vec<(&String, &String)> = facts
            .answer_properties
            .iter()
            .filter_map(|(wire, schema)| list_shape(schema).map(|(item, _)| (wire, item)))
            .collect();
        assert_eq!(lists, [(&"hblist".to_owned(), &"hbinfo".to_owned())]);
        // An object of scalars, or an array alone, is no list.
        assert!(
            list_shape(&json!({ "type": "object", "properties": { "a": { "type": "string" } } }))
                .is_none()
        );
        assert!(list_shape(&json!({ "type": "array", "items": { "type": "object" } })).is_none());
    }

    #[test]
    fn either_sign_type_with_a_required_element_is_signed_hmac_sha256() {
        let either = json!({ "enum": ["MD5", "HMAC-SHA256"] });
        let optional = json!({ "properties": { "sign_type": either, "sign": {} } });
        let answer = json!({ "properties": { "return_code": {} } });
        let named = facts(
            "/pay/micropay",
            "POST",
            &op(optional.clone(), answer.clone()),
        );
        assert_eq!(named.sign_types, SignTypes::Either);
        let mut required = optional;
        required["required"] = json!(["sign_type"]);
        let upload = facts("/secapi/mch/uploadmedia", "POST", &op(required, answer));
        assert_eq!(upload.sign_types, SignTypes::HmacSha256);
    }

    #[test]
    fn required_names_only_elements_of_the_request_and_a_page_is_a_get() {
        // The spec's `required` lists an answer field and a member of `scene_info`'s JSON
        // (`profitsharingreturnquery`, the vehicle notifications), and one name twice.
        let request = json!({
            "properties": { "mch_id": {}, "scene_info": {}, "sign": {} },
            "required": ["mch_id", "return_account_type", "start_time", "sign", "mch_id"],
        });
        let answer = json!({ "properties": { "return_code": {} } });
        let notification = facts("/vehicle/pay/notification", "POST", &op(request, answer));
        assert_eq!(notification.required, ["mch_id"]);
        // No element described: a page when the browser GETs it, else an `<xml>` envelope.
        let empty = json!({ "type": "object" });
        let page = facts("/papay/entrustweb", "GET", &op(json!({}), empty.clone()));
        assert_eq!(page.answer, AnswerKind::Page);
        let contract = facts(
            "/applyment/micro/signcontract",
            "POST",
            &op(json!({}), empty),
        );
        assert_eq!(contract.answer, AnswerKind::Xml);
        assert!(!contract.signed_answer);
    }

    #[test]
    fn other_hosts_come_from_x_base_uri() {
        let mut spec = op(json!({}), json!({}));
        assert_eq!(facts("/x", "POST", &spec).host, API_HOST);
        spec["x-base-uri"] = json!("https://fraud.mch.weixin.qq.com/");
        assert_eq!(facts("/x", "POST", &spec).host, "fraud.mch.weixin.qq.com");
    }

    /// The three shapes beyond a flat `<xml>`, declared as the spec describes them: an
    /// upload's file with its MD5 element filled from it, a POST's query parameter, a page
    /// that lists its fields and no `sign` (unsigned), on the hosts the runtime has keys for.
    #[test]
    fn uploads_post_queries_and_unsigned_pages_are_declared() {
        let entry = |method: &str, path: &str| Entry {
            method: method.into(),
            path: path.into(),
            module: "m".into(),
            name: "Op".into(),
            manual: false,
            default: false,
        };
        let form = |name: &str, ty: &str, description: &str| {
            json!({ "in": "formData", "name": name, "type": ty, "required": true,
                    "description": description })
        };
        let upload = json!({
            "x-api-cert-required": true,
            "parameters": [
                form("mch_id", "string", "商户号"),
                form("media", "file", "媒体文件"),
                form("media_hash", "string", "根据媒体文件内容进行MD5计算后的值"),
                form("sign", "string", "签名"),
            ],
            "responses": { "200": { "schema": { "properties": { "media_id": {} } } } },
        });
        let mut module = Module::default();
        let op = build_op(&mut module, &entry("POST", "/u"), &upload).expect("declared");
        assert_eq!(op.file_md5.as_deref(), Some("media_hash"));
        let wires: Vec<&str> = op.fields.iter().map(|f| f.wire.as_str()).collect();
        assert_eq!(wires, ["mch_id", "media"]);
        assert_eq!(op.fields[1].ty, Ty::File);
        assert!(!op.unsigned_request);
        let declared = operation(&op, &module);
        assert!(
            declared
                .contains("#[wxpay(file(md5 = \"media_hash\"))]\npub media: crate::UploadFile,"),
            "{declared}"
        );

        let manage = json!({
            "parameters": [
                { "in": "query", "name": "action", "type": "string", "required": true },
                { "in": "body", "name": "_", "schema": { "properties": { "mch_id": {}, "sign": {} } } },
            ],
            "responses": { "200": { "schema": { "properties": { "total": {} } } } },
        });
        let op = build_op(&mut module, &entry("POST", "/q"), &manage).expect("declared");
        assert_eq!(op.query, ["action"]);
        assert!(operation(&op, &module).contains("#[wxpay(query)]\npub action: String,"));

        let mut page = json!({
            "x-base-uri": "https://payapp.mch.weixin.qq.com/",
            "parameters": [{ "in": "query", "name": "mch_id", "type": "string", "required": true }],
            "responses": { "302": { "schema": {} } },
        });
        let op = build_op(&mut module, &entry("GET", "/p"), &page).expect("declared");
        assert!(op.unsigned_request && op.query.is_empty());
        assert_eq!(host_variant(&op), "PayappMch");
        assert!(
            options(&op).contains(", unsigned_request, host = payapp_mch"),
            "{}",
            options(&op)
        );
        // A host without a key is still refused, with the reason.
        page["x-base-uri"] = json!("https://elsewhere.weixin.qq.com/");
        assert!(build_op(&mut module, &entry("GET", "/p"), &page).is_err());
    }

    #[test]
    fn official_links_are_read_from_the_description() {
        let text = "现金红包…[官方文档](https://pay.weixin.qq.com/a?b=1) [官方文档](https://pay.weixin.qq.com/c) [官方文档](https://pay.weixin.qq.com/a?b=1) [附件](https://share.example.com/x)";
        assert_eq!(
            links(text),
            [
                "https://pay.weixin.qq.com/a?b=1",
                "https://pay.weixin.qq.com/c"
            ]
        );
    }
}
