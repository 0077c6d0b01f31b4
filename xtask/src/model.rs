//! From the spec to the catalog's model: modules, operations, request and answer structs,
//! nested types (shared within a module when their shape is identical) and enums.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_json::Value;

use crate::names::Entry;
use crate::spec::{Operation, Row, scalar_text};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    Str,
    Int,
    Float,
    Bool,
    Time,
    Json,
    /// A decrypted answer field (`wxpay::SensitiveString`).
    Secret,
    Vec(Box<Ty>),
    /// A struct or enum of the module, by name.
    Named(String),
    /// The file of an upload (`wxpay::UploadFile`).
    File,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Path,
    Query,
    /// The JSON body, or the `meta` JSON of an upload.
    Body,
    Header(String),
    /// The file of an upload: the `meta` keys the runtime fills from it, and its size limit.
    File(FileKeys),
    /// A text part of an upload.
    Part,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKeys {
    pub name: Option<String>,
    pub sha256: Option<String>,
    pub max_bytes: Option<usize>,
}

/// `meta` keys that name the file and hold its SHA-256: the runtime fills them from the file.
/// (`digest` with a `digest_algorithm` is an SM3 digest the caller supplies.)
const FILE_NAME_KEYS: [&str; 2] = ["filename", "file_name"];
const SHA256_KEYS: [&str; 2] = ["sha256", "file_digest"];

/// Size limits of uploads that the spec states in prose or not at all, each with its source.
const UPLOAD_LIMITS: &[(&str, usize, &str)] = &[
    // "媒体图片只支持JPG、BMP、PNG格式，文件大小不能超过5M" (images; PDFs may be 7.5M).
    ("/v3/merchant/media/upload", 5 << 20, "images up to 5M"),
    // The official page of this API: images up to 2M.
    (
        "/v3/marketing/favor/media/image-upload",
        2 << 20,
        "images up to 2M",
    ),
    // "文件大小不能超过2M" in the operation's description.
    (
        "/v3/merchant-service/images/upload",
        2 << 20,
        "images up to 2M",
    ),
    (
        "/v3/global/merchant-service/images/upload",
        2 << 20,
        "images up to 2M",
    ),
    // "文件大小不能超过200KB" in the file part's description.
    (
        "/v3/marketing/shopping-receipt/shoppingreceipts",
        200 << 10,
        "receipts up to 200KB",
    ),
    // "文件大小不能超过2M" in the file part's description.
    (
        "/v3/new-tax-control-fapiao/fapiao-applications/upload-fapiao-file",
        2 << 20,
        "PDF/OFD up to 2M",
    ),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub ident: String,
    pub wire: String,
    pub ty: Ty,
    pub required: bool,
    /// Short label from the spec (the field's Chinese name).
    pub label: String,
    pub role: Role,
    /// `#[wxpay(encrypt)]`: the field is, or holds, ciphertext.
    pub encrypt: bool,
    /// An example value for tests and docs.
    pub example: Option<Value>,
    /// The unit of an amount of money, from the spec (`fen (分)`, `yuan (元)`).
    pub unit: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Struct {
    pub name: String,
    pub label: String,
    pub fields: Vec<Field>,
    pub serialize: bool,
    pub deserialize: bool,
    pub sensitive: bool,
}

#[derive(Debug, Clone)]
pub struct Enum {
    pub name: String,
    pub label: String,
    /// (variant, wire value, label)
    pub variants: Vec<(String, String, String)>,
}

#[derive(Debug, Clone)]
pub enum Answer {
    Empty,
    Named(String),
    Json,
    /// A file, streamed with `Client::download_file` (`download` endpoints).
    File,
}

#[derive(Debug, Clone)]
pub struct Op {
    pub entry: Entry,
    pub row: Row,
    pub fields: Vec<Field>,
    pub answer: Answer,
    pub deprecated: bool,
    pub idempotent: bool,
    /// The key of the platform host that serves it (`host = apihk`); `None`: the main host.
    pub host: Option<&'static str>,
}

/// Caller-chosen numbers the platform deduplicates a request by: a POST that requires one
/// acts once however often it is sent, so it is declared `idempotent` (APIv3 and APIv2 alike;
/// `mch_billno` and `partner_trade_no` are APIv2's red packets and transfers).
pub const REQUEST_NUMBERS: &[&str] = &[
    "out_request_no",
    "out_trade_no",
    "out_refund_no",
    "out_order_no",
    "out_batch_no",
    "out_bill_no",
    "out_apply_no",
    "mch_billno",
    "partner_trade_no",
];

/// The host key of an operation from the spec's `scope` column; `Err` for a scope the
/// generator does not know (such an operation is not declared: sent to the wrong host it
/// would be a 404 from another platform).
pub fn host_of(scope: &str) -> Result<Option<&'static str>, String> {
    match scope {
        "v3" => Ok(None),
        "v3-global(apihk)" => Ok(Some("apihk")),
        // The Hong Kong wallet operations (`/hk/v3/…`, `/global/v3/…`) predate `/v3/global`
        // and are served on the same host.
        "hk-legacy" => Ok(Some("apihk")),
        other => Err(format!("scope `{other}`: no host known for it")),
    }
}

#[derive(Debug, Default)]
pub struct Module {
    pub path: String,
    pub ops: Vec<Op>,
    pub structs: Vec<Struct>,
    pub enums: Vec<Enum>,
    /// Type names the module's hand-written `manual.rs` defines: generated types avoid them.
    pub reserved: BTreeSet<String>,
    /// Answers named in [`ANSWER_NAMES`] whose shapes differ (fatal).
    pub conflicts: Vec<String>,
    /// Types identical to the parent module's of the same name (a partner module's twins of
    /// the direct module's `Amount`, `TradeState`, …): kept in the model, so lookups by name
    /// work, but declared once, in the parent, and re-exported here.
    pub shared: BTreeSet<String>,
    /// Names the module's `manual.rs` writes: kept by the naming pass.
    pub pinned: BTreeSet<String>,
    /// The `time_fields.tsv` lines the module's fields used.
    pub time_rows: BTreeSet<String>,
    shapes: BTreeMap<String, String>,
    enum_shapes: BTreeMap<Vec<String>, String>,
}

impl Module {
    pub fn new(path: String, reserved: BTreeSet<String>) -> Self {
        Module {
            path,
            reserved,
            ..Module::default()
        }
    }

    /// Whether the module declares the type `name` itself (it is not [`Module::shared`]).
    pub fn declares(&self, name: &str) -> bool {
        !self.shared.contains(name)
    }

    /// The structs this module declares.
    pub fn declared_structs(&self) -> impl Iterator<Item = &Struct> {
        self.structs.iter().filter(|s| self.declares(&s.name))
    }

    /// Drops the shape-to-name index of the build once the naming pass has renamed the types
    /// (it would name them as first met).
    pub fn forget_shapes(&mut self) {
        self.shapes.clear();
        self.enum_shapes.clear();
    }

    /// The enums this module declares.
    pub fn declared_enums(&self) -> impl Iterator<Item = &Enum> {
        self.enums.iter().filter(|e| self.declares(&e.name))
    }
}

/// What the model leaves out, and why (reported by the generator, listed in the README).
#[derive(Debug, Default)]
pub struct Skipped {
    pub reasons: Vec<(String, String)>,
    /// Where the spec contradicts itself (reported, not fatal).
    pub defects: Vec<(String, String)>,
}

/// Whether `steps` (`a`, `b[]`, …) lead through the model to a field marked encrypted.
fn encrypted_at(module: &Module, fields: &[Field], steps: &[&str]) -> bool {
    let Some((first, rest)) = steps.split_first() else {
        return false;
    };
    let name = first.strip_suffix("[]").unwrap_or(first);
    let Some(field) = fields.iter().find(|f| f.wire == name) else {
        return false;
    };
    if rest.is_empty() {
        return field.encrypt;
    }
    let mut ty = &field.ty;
    while let Ty::Vec(inner) = ty {
        ty = inner;
    }
    match ty {
        Ty::Named(n) => module
            .structs
            .iter()
            .find(|s| s.name == *n)
            .is_some_and(|s| encrypted_at(module, &s.fields, rest)),
        _ => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Answer,
}

pub fn build_op(
    module: &mut Module,
    op: &Operation,
    entry: &Entry,
    skipped: &mut Skipped,
) -> Option<Op> {
    let row = &op.row;
    let key = format!("{} {}", row.method, row.path);
    let host = match host_of(&row.scope) {
        Ok(host) => host,
        Err(reason) => {
            skipped.reasons.push((key, reason));
            return None;
        }
    };
    let download = row.content == "binary-download";
    if !matches!(row.content.as_str(), "json" | "multipart") && !download {
        skipped.reasons.push((
            key,
            format!("{} content: not a shape the DSL has", row.content),
        ));
        return None;
    }
    if download && op.spec.is_none() {
        skipped.reasons.push((
            key,
            "a download the OpenAPI files do not describe: not a request of its own but the \
             download_url another answer hands out (ListFapiaoFiles: \
             FapiaoDownloadInfoList::download), fetched with Client::download"
                .into(),
        ));
        return None;
    }
    let empty = Value::Null;
    let spec = op.spec.as_ref().unwrap_or(&empty);
    let name = &entry.name;
    let mut fields: Vec<Field> = Vec::new();
    let mut taken = BTreeSet::new();
    let enc_req: Vec<&str> = row.encrypted_request.iter().map(String::as_str).collect();
    let mut file_keys = FileKeys::default();

    // Path parameters, in template order.
    for segment in crate::names::segments(&row.path) {
        if let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let schema = find_param(spec, param, "path");
            let ident = unique_ident(param, &mut taken);
            fields.push(Field {
                ident,
                wire: param.to_owned(),
                ty: Ty::Str,
                required: true,
                label: label_of(schema.unwrap_or(&empty)),
                role: Role::Path,
                encrypt: false,
                example: schema
                    .and_then(|s| s.get("example").cloned())
                    .or_else(|| Some(Value::String(synthetic(param)))),
                unit: None,
            });
        }
    }
    let params = spec
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for param in &params {
        let place = param.get("in").and_then(Value::as_str).unwrap_or("");
        let Some(wire) = param.get("name").and_then(Value::as_str) else {
            continue;
        };
        match place {
            "query" => {
                let encrypt = enc_req.contains(&format!("query:{wire}").as_str());
                let required = param.get("required").and_then(Value::as_bool) == Some(true);
                // The query is text: numbers and flags stay typed, everything else a string.
                let listed = param.get("enum").and_then(Value::as_array);
                let ty = match param.get("type").and_then(Value::as_str) {
                    _ if encrypt => Ty::Str,
                    Some("integer") | Some("number") => Ty::Int,
                    Some("boolean") => Ty::Bool,
                    Some("string") | None => listed
                        .and_then(|values| enum_of(module, name, name, wire, param, values))
                        .map_or(Ty::Str, Ty::Named),
                    _ => Ty::Str,
                };
                let ident = unique_ident(wire, &mut taken);
                fields.push(Field {
                    ident,
                    wire: wire.to_owned(),
                    ty: ty.clone(),
                    required,
                    label: label_of(param),
                    role: Role::Query,
                    encrypt,
                    example: param.get("example").cloned(),
                    unit: unit_of(&ty, param),
                });
            }
            "header" => {
                if wire.eq_ignore_ascii_case("Wechatpay-Serial")
                    || wire.eq_ignore_ascii_case("Authorization")
                    || wire.eq_ignore_ascii_case("Content-Type")
                    || wire.eq_ignore_ascii_case("Accept")
                {
                    continue; // the runtime writes these
                }
                let ident = unique_ident(wire, &mut taken);
                fields.push(Field {
                    ident,
                    wire: wire.to_owned(),
                    ty: Ty::Str,
                    required: param.get("required").and_then(Value::as_bool) == Some(true),
                    label: label_of(param),
                    role: Role::Header(wire.to_owned()),
                    encrypt: false,
                    example: param.get("example").cloned(),
                    unit: None,
                });
            }
            "formData" if param.get("type").and_then(Value::as_str) == Some("file") => {
                let ident = unique_ident(wire, &mut taken);
                let max_bytes = UPLOAD_LIMITS
                    .iter()
                    .find(|(path, _, _)| *path == row.path)
                    .map(|(_, max, _)| *max);
                fields.push(Field {
                    ident,
                    wire: wire.to_owned(),
                    ty: Ty::File,
                    required: true,
                    label: label_of(param),
                    role: Role::File(FileKeys {
                        max_bytes,
                        ..FileKeys::default()
                    }),
                    encrypt: false,
                    example: None,
                    unit: None,
                });
            }
            "formData" if wire == "meta" => {
                let schema = param.get("schema").unwrap_or(&empty);
                let required = required_of(schema);
                let props = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for (wire, prop) in &props {
                    if FILE_NAME_KEYS.contains(&wire.as_str()) {
                        file_keys.name = Some(wire.clone());
                        continue;
                    }
                    if SHA256_KEYS.contains(&wire.as_str()) {
                        file_keys.sha256 = Some(wire.clone());
                        continue;
                    }
                    let required = required.contains(wire.as_str());
                    let field =
                        body_field(module, name, wire, prop, required, &enc_req, &mut taken);
                    fields.push(field);
                }
            }
            "formData" => {
                let ty = match param.get("type").and_then(Value::as_str) {
                    Some("integer" | "number") => Ty::Int,
                    _ => Ty::Str,
                };
                let ident = unique_ident(wire, &mut taken);
                fields.push(Field {
                    ident,
                    wire: wire.to_owned(),
                    unit: unit_of(&ty, param),
                    ty,
                    required: param.get("required").and_then(Value::as_bool) == Some(true),
                    label: label_of(param),
                    role: Role::Part,
                    encrypt: false,
                    example: param.get("example").cloned(),
                });
            }
            "body" => {
                let schema = param.get("schema").unwrap_or(&empty);
                let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                    if schema.get("type").and_then(Value::as_str) == Some("array") {
                        skipped
                            .reasons
                            .push((key, "the body is a JSON array, not an object".into()));
                        return None;
                    }
                    continue;
                };
                let required = required_of(schema);
                for (wire, prop) in props {
                    let required = required.contains(wire.as_str());
                    let field =
                        body_field(module, name, wire, prop, required, &enc_req, &mut taken);
                    fields.push(field);
                }
            }
            _ => {}
        }
    }
    for f in &mut fields {
        if let Role::File(keys) = &mut f.role {
            keys.name = file_keys.name.take();
            keys.sha256 = file_keys.sha256.take();
        }
    }
    if row.content == "multipart" && !fields.iter().any(|f| matches!(f.role, Role::File(_))) {
        skipped
            .reasons
            .push((key, "a multipart operation without a file part".into()));
        return None;
    }
    // The table names fields the schemas sometimes lack: report them rather than guess.
    for path in &enc_req {
        let (fields_at, steps): (&[Field], Vec<&str>) = match path.strip_prefix("query:") {
            Some(name) => (&fields, vec![name]),
            None => (&fields, path.split('.').collect()),
        };
        if !encrypted_at(module, fields_at, &steps) {
            skipped.defects.push((
                key.clone(),
                format!("encrypted field `{path}` is not an encrypted field of the schema"),
            ));
        }
    }
    let enc_resp: Vec<&str> = row.encrypted_response.iter().map(String::as_str).collect();
    let answer = if download {
        Answer::File
    } else {
        answer_of(module, name, spec, &enc_resp)
    };
    if !enc_resp.is_empty() {
        let fields = match &answer {
            Answer::Named(n) => module
                .structs
                .iter()
                .find(|s| s.name == *n)
                .map(|s| s.fields.clone()),
            _ => None,
        }
        .unwrap_or_default();
        for path in &enc_resp {
            let steps: Vec<&str> = path.split('.').collect();
            if !encrypted_at(module, &fields, &steps) {
                skipped.defects.push((
                    key.clone(),
                    format!(
                        "encrypted answer field `{path}` is not a field of the answer's schema"
                    ),
                ));
            }
        }
    }
    let idempotent = row.method == "POST"
        && fields
            .iter()
            .any(|f| f.required && REQUEST_NUMBERS.contains(&f.wire.as_str()));
    Some(Op {
        entry: entry.clone(),
        row: row.clone(),
        fields,
        answer,
        deprecated: row.deprecated || spec.get("deprecated").and_then(Value::as_bool) == Some(true),
        idempotent,
        host,
    })
}

/// Answers named for the domain object they are rather than `<Request>Response`: operations
/// of one module that return the same object share one type (the build fails when their
/// shapes differ). (module, request, answer type)
pub const ANSWER_NAMES: &[(&str, &str, &str)] = &[
    ("bill", "GetFundFlowBill", "BillResponse"),
    ("bill", "GetTradeBill", "BillResponse"),
    ("marketing::favor", "QueryStock", "Stock"),
    // The notified coupon (`COUPON.USE`) too.
    ("marketing::favor", "QueryUserCouponByCouponId", "Coupon"),
    ("merchant_service", "ListComplaints", "ComplaintList"),
    ("pay::transactions", "QueryOrderById", "Transaction"),
    ("pay::transactions", "QueryOrderByOutTradeNo", "Transaction"),
    // The notified transactions (`TRANSACTION.SUCCESS`) too.
    (
        "pay::transactions::partner",
        "QueryOrderById",
        "Transaction",
    ),
    (
        "pay::transactions::partner",
        "QueryOrderByOutTradeNo",
        "Transaction",
    ),
    ("refund::domestic", "ApplyAbnormalRefund", "Refund"),
    ("refund::domestic", "CreateRefund", "Refund"),
    ("refund::domestic", "QueryRefund", "Refund"),
];

/// A field of a request's JSON body (or an upload's `meta`).
fn body_field(
    module: &mut Module,
    op: &str,
    wire: &str,
    prop: &Value,
    required: bool,
    encrypted: &[&str],
    taken: &mut BTreeSet<String>,
) -> Field {
    let paths = sub_paths(encrypted, wire);
    let (ty, encrypt) = ty_of(module, op, op, wire, prop, Direction::Request, &paths);
    Field {
        ident: unique_ident(wire, taken),
        wire: wire.to_owned(),
        ty: ty.clone(),
        required,
        label: label_of(prop),
        role: Role::Body,
        encrypt,
        example: prop.get("example").cloned(),
        unit: unit_of(&ty, prop),
    }
}

fn answer_of(module: &mut Module, name: &str, spec: &Value, enc: &[&str]) -> Answer {
    let Some(responses) = spec.get("responses").and_then(Value::as_object) else {
        return Answer::Json;
    };
    let ok = responses
        .iter()
        .filter(|(code, _)| code.starts_with('2'))
        .min_by_key(|(code, _)| code.as_str());
    let Some((code, response)) = ok else {
        return Answer::Json;
    };
    let Some(schema) = response.get("schema") else {
        return if code == "204" {
            Answer::Empty
        } else {
            Answer::Json
        };
    };
    match schema.get("properties").and_then(Value::as_object) {
        Some(props) if !props.is_empty() => {
            let domain = ANSWER_NAMES
                .iter()
                .find(|(m, op, _)| *m == module.path && *op == name)
                .map(|(_, _, answer)| *answer);
            let preferred = domain.map_or_else(|| format!("{name}Response"), str::to_owned);
            let s = struct_of(
                module,
                &preferred,
                name,
                schema,
                Direction::Answer,
                enc,
                if domain.is_some() {
                    Level::Shared
                } else {
                    Level::Top
                },
            );
            if domain.is_some_and(|d| d != s) {
                module.conflicts.push(format!(
                    "{}::{name}: its answer differs from the other `{preferred}`s and became `{s}`",
                    module.path
                ));
            }
            Answer::Named(s)
        }
        _ => Answer::Json,
    }
}

/// The dotted paths under `field`: `a.b` for field `a` gives `b`; `a` itself gives "".
fn sub_paths<'a>(paths: &[&'a str], field: &str) -> Vec<&'a str> {
    paths
        .iter()
        .filter_map(|p| {
            let rest = p.strip_prefix(field)?;
            let rest = rest.strip_prefix("[]").unwrap_or(rest);
            if rest.is_empty() {
                Some("")
            } else {
                rest.strip_prefix('.')
            }
        })
        .collect()
}

/// The Rust type of a schema, and whether the field is (or holds) an encrypted value.
fn ty_of(
    module: &mut Module,
    op: &str,
    parent: &str,
    wire: &str,
    schema: &Value,
    direction: Direction,
    encrypted: &[&str],
) -> (Ty, bool) {
    let here = encrypted.contains(&"");
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or(
        if schema.get("properties").is_some() {
            "object"
        } else {
            "string"
        },
    );
    match kind {
        "array" => {
            let items = schema.get("items").cloned().unwrap_or(Value::Null);
            let (inner, enc) = ty_of(module, op, parent, wire, &items, direction, encrypted);
            // serde's time helpers take one value, not a list: lists of times stay text.
            let inner = if inner == Ty::Time { Ty::Str } else { inner };
            (Ty::Vec(Box::new(inner)), enc)
        }
        "object" => match schema.get("properties").and_then(Value::as_object) {
            Some(props) if !props.is_empty() => {
                let name = struct_of(
                    module,
                    &wire.to_upper_camel_case(),
                    op,
                    schema,
                    direction,
                    encrypted,
                    Level::Nested,
                );
                let sensitive = module.structs.iter().any(|s| s.name == name && s.sensitive);
                (Ty::Named(name), sensitive)
            }
            _ => (Ty::Json, false),
        },
        "integer" => (Ty::Int, false),
        "number" => {
            let float = matches!(
                schema.get("format").and_then(Value::as_str),
                Some("float" | "double")
            ) || schema
                .get("example")
                .and_then(Value::as_f64)
                .is_some_and(|x| x.fract() != 0.0);
            (if float { Ty::Float } else { Ty::Int }, false)
        }
        "boolean" => (Ty::Bool, false),
        _ => {
            if here {
                return match direction {
                    Direction::Request => (Ty::Str, true),
                    Direction::Answer => (Ty::Secret, true),
                };
            }
            if let Some(values) = schema.get("enum").and_then(Value::as_array)
                && let Some(name) = enum_of(module, op, parent, wire, schema, values)
            {
                return (Ty::Named(name), false);
            }
            if is_time(module, wire, schema) {
                (Ty::Time, false)
            } else {
                (Ty::Str, false)
            }
        }
    }
}

/// Where the spec says an amount's unit: in fen (分, what every APIv3 amount is unless it
/// says otherwise) or in yuan (元).
const FEN: &[&str] = &[
    "单位为分",
    "单位：分",
    "单位:分",
    "单位分",
    "以分为单位",
    "（分）",
    "(分)",
];
const YUAN: &[&str] = &[
    "以元为单位",
    "以元 为单位",
    "以元为单 位",
    "单位为元",
    "单位：元",
    "单位:元",
    "单位元",
    "（元）",
    "(元)",
];

/// The unit of a money field: an integer whose description speaks of an amount (金额) or of
/// fen is in fen unless the description says yuan; any field saying yuan is in yuan.
fn unit_of(ty: &Ty, schema: &Value) -> Option<&'static str> {
    let text = schema
        .get("description")
        .or_else(|| schema.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let yuan = YUAN.iter().any(|y| text.contains(y));
    let fen = FEN.iter().any(|f| text.contains(f));
    match ty {
        Ty::Int if !yuan && (fen || text.contains("金额")) => Some("fen (分)"),
        Ty::Int | Ty::Float | Ty::Str if yuan => Some("yuan (元)"),
        _ => None,
    }
}

/// How `time_fields.tsv` types the `*_time` fields the spec says nothing about: (wire name,
/// whether the value is RFC 3339).
fn time_table() -> BTreeMap<&'static str, bool> {
    include_str!("../time_fields.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cells = l.split('\t');
            Some((cells.next()?, cells.next()? == "rfc3339"))
        })
        .collect()
}

/// A field named as a time: `*_time`, `time_*`.
fn time_named(wire: &str) -> bool {
    wire.ends_with("_time") || wire.starts_with("time_")
}

/// One rule for every time field of the catalog: `format: rfc3339`/`date-time` is a
/// date-time, another format text; a field named as a time (`*_time`, `time_expire`) is a
/// date-time when its example is an RFC 3339 time or its description names that format,
/// text when its example is anything else, and where the spec gives neither it is what
/// `time_fields.tsv` says (the generator fails on one it does not list).
fn is_time(module: &mut Module, wire: &str, schema: &Value) -> bool {
    match schema.get("format").and_then(Value::as_str) {
        Some("rfc3339" | "date-time") => return true,
        Some(_) => return false,
        None if !time_named(wire) => return false,
        None => {}
    }
    if let Some(example) = schema.get("example") {
        return example.as_str().is_some_and(looks_rfc3339);
    }
    let description = schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let lower = description.to_ascii_lowercase();
    if lower.contains("rfc3339") || lower.contains("rfc 3339") || lower.contains("yyyy-mm-ddthh") {
        return true;
    }
    module.time_rows.insert(wire.to_owned());
    match time_table().get(wire) {
        Some(rfc3339) => *rfc3339,
        None => {
            let problem = format!(
                "time_fields.tsv: `{wire}` (\"{description}\") has no example, format or \
                 described format in the spec: say whether it is `rfc3339` or `text`"
            );
            if !module.conflicts.contains(&problem) {
                module.conflicts.push(problem);
            }
            false
        }
    }
}

/// The lines of `time_fields.tsv` no field of `modules` used.
pub fn stale_time_rows<'a>(modules: impl Iterator<Item = &'a Module>) -> Vec<String> {
    let used: BTreeSet<&str> = modules
        .flat_map(|m| m.time_rows.iter().map(String::as_str))
        .collect();
    time_table()
        .keys()
        .filter(|wire| !used.contains(**wire))
        .map(|wire| format!("time_fields.tsv: `{wire}`"))
        .collect()
}

fn looks_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && (text.ends_with('Z') || text[19..].contains(['+', '-']))
}

/// Where a struct sits: an operation's own answer, an answer shared by name
/// ([`ANSWER_NAMES`]), or a nested type (shared by shape).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    Shared,
    Nested,
}

fn struct_of(
    module: &mut Module,
    preferred: &str,
    op: &str,
    schema: &Value,
    direction: Direction,
    encrypted: &[&str],
    level: Level,
) -> String {
    let required = required_of(schema);
    let mut fields = Vec::new();
    let mut taken = BTreeSet::new();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (wire, prop) in props {
            let paths = sub_paths(encrypted, wire);
            // A shared answer names its enums after itself (`RefundStatus`), not after the
            // first operation that answers it.
            let parent = if level == Level::Top { op } else { preferred };
            let (ty, encrypt) = ty_of(module, op, parent, wire, prop, direction, &paths);
            let ident = unique_ident(wire, &mut taken);
            fields.push(Field {
                ident,
                wire: wire.clone(),
                unit: unit_of(&ty, prop),
                ty,
                required: required.contains(wire.as_str()),
                label: label_of(prop),
                role: Role::Body,
                encrypt,
                example: prop.get("example").cloned(),
            });
        }
    }
    let sensitive = fields.iter().any(|f| f.encrypt);
    // The shape is what goes on the wire; labels and examples may differ.
    let shape = fields
        .iter()
        .map(|f| format!("{}:{:?}:{}:{}", f.wire, f.ty, f.required, f.encrypt))
        .collect::<Vec<_>>()
        .join(",");
    let shared = match level {
        Level::Nested => module.shapes.get(&shape).cloned(),
        // An answer shared by name is shared with that name only.
        Level::Shared => module
            .shapes
            .get(&shape)
            .filter(|n| *n == preferred)
            .cloned(),
        Level::Top => None,
    };
    if let Some(name) = shared {
        if let Some(s) = module.structs.iter_mut().find(|s| s.name == name) {
            s.serialize |= direction == Direction::Request;
            s.deserialize |= direction == Direction::Answer;
        }
        return name;
    }
    let taken_names = |module: &Module, n: &str| {
        module.reserved.contains(n)
            || module.structs.iter().any(|s| s.name == n)
            || module.enums.iter().any(|e| e.name == n)
            || module.ops.iter().any(|o| o.entry.name == n)
    };
    let mut name = preferred.to_owned();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("{op}Item");
    }
    if taken_names(module, &name) {
        name = format!("{op}{preferred}");
    }
    // An answer's field shaped unlike the request's field of the same name.
    if taken_names(module, &name) && direction == Direction::Answer && level == Level::Nested {
        name = format!("{op}Response{preferred}");
    }
    let mut n = 2;
    let base = name.clone();
    while taken_names(module, &name) {
        name = format!("{base}{n}");
        n += 1;
    }
    module.shapes.insert(shape, name.clone());
    module.structs.push(Struct {
        name: name.clone(),
        label: label_of(schema),
        fields,
        serialize: direction == Direction::Request,
        deserialize: direction == Direction::Answer,
        sensitive,
    });
    name
}

/// Wire names of personal data the platform sends in plain text: printed `<redacted>` by the
/// types' `Debug` (`#[wxpay(redact)]`), with every `*_openid`. Chosen by name, so a store's
/// address or a merchant's service phone is redacted too: over-redacting costs a log line,
/// under-redacting leaks a person's data into it.
const PERSONAL: &[&str] = &[
    // who the user is
    "openid",
    "unionid",
    // names of people and account holders
    "user_name",
    "username",
    "real_name",
    "user_real_name",
    "id_card_name",
    "driver_name",
    "contact_name",
    "legal_person",
    "account_name",
    "bank_account_name",
    "destination_account_name",
    "insured_display_name",
    // their documents
    "id_card_number",
    "id_number",
    "cert_no",
    "identification_number",
    "user_id_card",
    "contact_id_card_number",
    // how to reach them
    "phone",
    "phone_number",
    "mobile",
    "mobile_phone",
    "telephone",
    "tel",
    "contact_phone",
    "email",
    "contact_email",
    "address",
    // their accounts
    "bank_account",
    "bank_account_no",
    "bank_account_number",
    "account_number",
    "account_no",
    "card_no",
    "bank_card_no",
    "card_number",
    "destination_account_number",
    "user_received_account",
];

/// Whether a plain-text field is personal data to keep out of `Debug` ([`PERSONAL`]).
pub fn redacted(f: &Field) -> bool {
    let text = matches!(&f.ty, Ty::Str) || matches!(&f.ty, Ty::Vec(inner) if **inner == Ty::Str);
    text && !f.encrypt && personal(&f.wire)
}

/// Whether a wire name is personal data sent in plain text ([`PERSONAL`], every `*_openid`).
pub fn personal(wire: &str) -> bool {
    PERSONAL.contains(&wire) || wire.ends_with("_openid")
}

/// Field names too vague to name a type alone: `Type` becomes `IdentityType`.
pub const VAGUE: &[&str] = &[
    "Type", "State", "Status", "Result", "Mode", "Scene", "Kind", "Code", "Level", "Reason",
    "Source", "Channel", "Category", "Method", "Action", "Stage", "Flag", "Way", "Role",
];

fn enum_of(
    module: &mut Module,
    op: &str,
    parent: &str,
    wire: &str,
    schema: &Value,
    values: &[Value],
) -> Option<String> {
    let mut values: Vec<String> = values.iter().filter_map(scalar_text).collect();
    // The spec lists some values twice.
    let mut seen = BTreeSet::new();
    values.retain(|v| seen.insert(v.clone()));
    if values.is_empty() || values.iter().any(String::is_empty) {
        return None;
    }
    if let Some(name) = module.enum_shapes.get(&values) {
        return Some(name.clone());
    }
    let labels = schema.get("x-enum-labels");
    let mut variants: Vec<(String, String, String)> = Vec::new();
    for value in &values {
        let label = labels
            .and_then(|l| l.get(value))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        // Words from the wire value, bare codes named by label (variants.rs).
        let mut ident = match crate::variants::variant(wire, value, &label) {
            Ok(Some(ident)) => ident,
            Ok(None) => return None, // values that are not names: keep the field a string
            Err(problem) => {
                module.conflicts.push(problem);
                return None;
            }
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
    let taken = |module: &Module, name: &str| {
        module.reserved.contains(name)
            || module.structs.iter().any(|s| s.name == name)
            || module.enums.iter().any(|e| e.name == name)
    };
    let qualified = if parent.ends_with(&field) {
        parent.to_owned()
    } else {
        format!("{parent}{field}")
    };
    let preferred = if VAGUE.contains(&field.as_str()) || taken(module, &field) {
        &qualified
    } else {
        &field
    };
    // Values unlike an enum of the same name: the operation's name tells them apart, and
    // `Value` a field named like its operation (`CreateOrderSyncStatus.status`).
    let by_op = if qualified.starts_with(op) {
        format!("{qualified}Value")
    } else {
        format!("{op}{qualified}")
    };
    let mut name = [preferred, &qualified, &by_op]
        .into_iter()
        .find(|name| !taken(module, name))
        .unwrap_or(&by_op)
        .to_owned();
    let mut n = 2;
    while taken(module, &name) {
        name = format!("{by_op}{n}");
        n += 1;
    }
    module.enum_shapes.insert(values, name.clone());
    module.enums.push(Enum {
        name: name.clone(),
        label: label_of(schema),
        variants,
    });
    Some(name)
}

fn find_param<'a>(spec: &'a Value, name: &str, place: &str) -> Option<&'a Value> {
    spec.get("parameters")?.as_array()?.iter().find(|p| {
        p.get("name").and_then(Value::as_str) == Some(name)
            && p.get("in").and_then(Value::as_str) == Some(place)
    })
}

fn required_of(schema: &Value) -> BTreeSet<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The spec's short label for a field: its description up to the first clause break.
pub fn label_of(schema: &Value) -> String {
    let text = schema
        .get("description")
        .or_else(|| schema.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let cut = text
        .find(|c: char| {
            matches!(
                c,
                '\n' | '，' | '。' | '；' | '：' | '(' | '（' | ',' | ';' | '['
            )
        })
        .unwrap_or(text.len());
    let label: String = text[..cut].trim().chars().take(24).collect();
    label.replace(['`', '*', '<', '>', '|'], "")
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// A Rust field name for a wire name, unique in its struct.
pub fn unique_ident(wire: &str, taken: &mut BTreeSet<String>) -> String {
    let mut ident: String = wire
        .to_snake_case()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if ident.is_empty() {
        ident = "field".into();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("n{ident}");
    }
    if KEYWORDS.contains(&ident.as_str()) {
        ident.push('_');
    }
    let base = ident.clone();
    let mut n = 2;
    while !taken.insert(ident.clone()) {
        ident = format!("{base}_{n}");
        n += 1;
    }
    ident
}

/// A stand-in value for a path parameter the spec gives no example for.
fn synthetic(name: &str) -> String {
    format!("TEST_{}", name.to_ascii_uppercase())
}

/// Marks the types of `child` that are the same as `parent`'s of the same name: the same
/// fields on the wire, naming only types that are shared too. The parent's type then derives
/// what either needed.
pub fn share_with_parent(parent: &mut Module, child: &mut Module) {
    fn same_struct(a: &Struct, b: &Struct) -> bool {
        let same = |x: &Field, y: &Field| {
            (&x.ident, &x.wire, &x.ty, x.required, &x.role, x.encrypt)
                == (&y.ident, &y.wire, &y.ty, y.required, &y.role, y.encrypt)
        };
        a.sensitive == b.sensitive
            && a.fields.len() == b.fields.len()
            && a.fields.iter().zip(&b.fields).all(|(x, y)| same(x, y))
    }
    fn same_enum(a: &Enum, b: &Enum) -> bool {
        a.variants.len() == b.variants.len()
            && a.variants
                .iter()
                .zip(&b.variants)
                .all(|((v, w, _), (x, y, _))| (v, w) == (x, y))
    }
    fn names(ty: &Ty) -> Option<&str> {
        match ty {
            Ty::Vec(inner) => names(inner),
            Ty::Named(name) => Some(name),
            _ => None,
        }
    }
    let mut shared: BTreeSet<String> = child
        .structs
        .iter()
        .filter(|s| {
            parent
                .structs
                .iter()
                .any(|p| p.name == s.name && same_struct(p, s))
        })
        .map(|s| s.name.clone())
        .chain(
            child
                .enums
                .iter()
                .filter(|e| {
                    parent
                        .enums
                        .iter()
                        .any(|p| p.name == e.name && same_enum(p, e))
                })
                .map(|e| e.name.clone()),
        )
        .collect();
    // `Detail` is shared only if the `GoodsDetail` it names is too.
    loop {
        let before = shared.len();
        let unshared = |name: &str| !shared.contains(name);
        let dropped: Vec<String> = child
            .structs
            .iter()
            .filter(|s| shared.contains(&s.name))
            .filter(|s| s.fields.iter().filter_map(|f| names(&f.ty)).any(unshared))
            .map(|s| s.name.clone())
            .collect();
        for name in dropped {
            shared.remove(&name);
        }
        if shared.len() == before {
            break;
        }
    }
    for s in child.structs.iter().filter(|s| shared.contains(&s.name)) {
        if let Some(p) = parent.structs.iter_mut().find(|p| p.name == s.name) {
            p.serialize |= s.serialize;
            p.deserialize |= s.deserialize;
        }
    }
    child.shared = shared;
}

/// The items of a module the default build compiles: its `default` operations and every type
/// they use, to any depth (names of operations, structs and enums), and `roots` with what they
/// use (the types a partner module's default operations use through [`Module::shared`]).
pub fn default_items(module: &Module, roots: &BTreeSet<String>) -> BTreeSet<String> {
    let mut items = BTreeSet::new();
    let mut todo: Vec<String> = roots.iter().cloned().collect();
    fn named(ty: &Ty, todo: &mut Vec<String>) {
        match ty {
            Ty::Vec(inner) => named(inner, todo),
            Ty::Named(name) => todo.push(name.clone()),
            _ => {}
        }
    }
    for op in module.ops.iter().filter(|op| op.entry.default) {
        items.insert(op.entry.name.clone());
        for f in &op.fields {
            named(&f.ty, &mut todo);
        }
        if let Answer::Named(name) = &op.answer {
            todo.push(name.clone());
        }
    }
    while let Some(name) = todo.pop() {
        if !items.insert(name.clone()) {
            continue;
        }
        if let Some(s) = module.structs.iter().find(|s| s.name == name) {
            for f in &s.fields {
                named(&f.ty, &mut todo);
            }
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(wire: &str, ty: Ty) -> Field {
        Field {
            ident: wire.into(),
            wire: wire.into(),
            ty,
            required: true,
            label: String::new(),
            role: Role::Body,
            encrypt: false,
            example: None,
            unit: None,
        }
    }

    fn structure(name: &str, fields: Vec<Field>, serialize: bool) -> Struct {
        Struct {
            name: name.into(),
            label: String::new(),
            fields,
            serialize,
            deserialize: !serialize,
            sensitive: false,
        }
    }

    fn state(values: &[&str]) -> Enum {
        Enum {
            name: "State".into(),
            label: String::new(),
            variants: values
                .iter()
                .map(|v| (v.to_upper_camel_case(), (*v).into(), String::new()))
                .collect(),
        }
    }

    #[test]
    fn a_partner_type_is_shared_only_with_everything_it_names() {
        let named = |n: &str| Ty::Named(n.into());
        let mut parent = Module::new("pay".into(), BTreeSet::new());
        parent.structs = vec![
            structure("Amount", vec![field("total", Ty::Int)], false),
            structure("Goods", vec![field("id", Ty::Str)], true),
            structure(
                "Detail",
                vec![field("goods", Ty::Vec(Box::new(named("Goods"))))],
                true,
            ),
            structure("Order", vec![field("state", named("State"))], false),
        ];
        parent.enums = vec![state(&["SUCCESS", "CLOSED"])];
        let mut child = Module::new("pay::partner".into(), BTreeSet::new());
        child.structs = vec![
            // The same on the wire, used in a request here: shared, and the parent's type
            // serializes too.
            structure("Amount", vec![field("total", Ty::Int)], true),
            // Another shape under the same name: its own, and so is the `Detail` naming it.
            structure(
                "Goods",
                vec![field("id", Ty::Str), field("sub", Ty::Str)],
                true,
            ),
            structure(
                "Detail",
                vec![field("goods", Ty::Vec(Box::new(named("Goods"))))],
                true,
            ),
            // Same fields, but its enum has another value.
            structure("Order", vec![field("state", named("State"))], false),
        ];
        child.enums = vec![state(&["SUCCESS", "CLOSED", "REFUND"])];

        share_with_parent(&mut parent, &mut child);

        assert_eq!(child.shared, BTreeSet::from(["Amount".to_owned()]));
        assert!(parent.structs[0].serialize && parent.structs[0].deserialize);
        assert!(!parent.structs[3].serialize);
        let declared: Vec<&str> = child.declared_structs().map(|s| s.name.as_str()).collect();
        assert_eq!(declared, ["Goods", "Detail", "Order"]);
    }
}
