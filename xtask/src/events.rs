//! The notification event table (`xtask/events.tsv`): every event type of the spec's
//! `openapi/v3/webhooks.yaml`, each once, with the catalog type its decrypted resource decodes
//! into (or why it stays JSON). From it come:
//!
//! - `wxpay-core/src/notification/event_type.rs`: `EventType`, one variant per event type,
//!   documented with the spec's own label and links;
//! - `src/notification/event.rs`: the facade's `Event`, its decoding and its `Serialize`;
//! - `wxpay-sandbox/src/spec/events.rs`: each event type's summary and an example resource
//!   (the catalog example of its type), for `POST /sandbox/notifications`.
//!
//! The typed resources' types (and every type inside them) are marked serializable, so a typed
//! event prints as JSON without the decrypted bytes being kept or decrypted twice.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use heck::ToUpperCamelCase;
use serde_json::{Value, json};

use crate::model::{Module, Ty};

/// The key that marks a service provider's resource unless the table names another.
const PARTNER_KEY: &str = "sp_mchid";

/// A type of the catalog: `module::Type` under `wxpay::apis`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    pub module: String,
    pub name: String,
}

impl TypeRef {
    fn parse(text: &str) -> Result<TypeRef, String> {
        let (module, name) = text
            .rsplit_once("::")
            .ok_or_else(|| format!("{text:?} is not module::Type"))?;
        if module.is_empty() || !name.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Err(format!("{text:?} is not module::Type"));
        }
        Ok(TypeRef {
            module: module.to_owned(),
            name: name.to_owned(),
        })
    }

    fn path(&self) -> String {
        format!("crate::apis::{}::{}", self.module, self.name)
    }
}

/// How a service provider's resource of an event type decodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partner {
    /// No catalog type: it stays JSON.
    None,
    /// The direct type reads both shapes.
    Same,
    /// Its own type, chosen when the resource names `key`.
    Type { ty: TypeRef, key: String },
}

/// One line of `events.tsv` with the spec's facts about its event type.
#[derive(Debug, Clone)]
pub struct Row {
    pub event_type: String,
    pub direct: Option<TypeRef>,
    pub partner: Partner,
    pub other_if: Vec<String>,
    pub note: String,
    /// The spec's label (Chinese) and its `@see` links.
    pub label: String,
    pub links: Vec<(String, String)>,
}

impl Row {
    /// The `EventType` variant.
    pub fn variant(&self) -> String {
        self.event_type.replace('.', "_").to_upper_camel_case()
    }

    fn direct_variant(&self) -> String {
        self.variant()
    }

    fn partner_variant(&self) -> String {
        if self.direct.is_some() {
            format!("Partner{}", self.variant())
        } else {
            self.variant()
        }
    }

    fn typed(&self) -> bool {
        self.direct.is_some() || matches!(self.partner, Partner::Type { .. })
    }

    /// The sandbox's `original_type` (and associated data): the event type's first segment,
    /// as the spec's `WechatpayNotificationOriginalType` names them (`refund`, `coupon`, …).
    fn original_type(&self) -> String {
        self.event_type
            .split(['.', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }
}

pub struct Table {
    pub rows: Vec<Row>,
}

/// An event type as the spec lists it: its value, label and `@see` links.
struct SpecEvent {
    value: String,
    label: String,
    links: Vec<(String, String)>,
}

/// The feature a catalog type (module path, name) needs: `None` in every build.
pub type Gate<'a> = dyn Fn(&str, &str) -> Result<Option<String>, String> + 'a;

/// A variant of `Event`: its name, type, feature, row and, for a partner shape, its key.
struct Variant<'a> {
    name: String,
    ty: &'a TypeRef,
    feature: Option<String>,
    row: &'a Row,
    partner_key: Option<&'a str>,
}

/// Reads `xtask/events.tsv` and checks it against the spec's event types: each once, no
/// other.
pub fn load(root: &Path, spec_dir: &Path) -> Result<Table, String> {
    let path = root.join("xtask/events.tsv");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let webhooks = spec_dir.join("openapi/v3/webhooks.yaml");
    let yaml = fs::read_to_string(&webhooks).map_err(|e| format!("{}: {e}", webhooks.display()))?;
    let spec = spec_event_types(&yaml)?;
    let rows = parse(&text, &spec)?;
    Ok(Table { rows })
}

/// The spec's event types in order, with their labels and links, read from the enum of
/// `WechatpayNotificationEventType` (its comments carry the labels, which a YAML parser drops).
fn spec_event_types(yaml: &str) -> Result<Vec<SpecEvent>, String> {
    let mut lines = yaml
        .lines()
        .skip_while(|line| !line.starts_with("WechatpayNotificationEventType:"))
        .skip(1);
    let mut types = Vec::new();
    let mut in_enum = false;
    let mut block: Vec<(String, String)> = Vec::new();
    let mut own_block = false;
    for line in lines.by_ref() {
        if !line.starts_with(' ') && !line.is_empty() {
            break;
        }
        let trimmed = line.trim();
        if trimmed == "enum:" {
            in_enum = true;
            continue;
        }
        if !in_enum {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            if !own_block {
                block.clear();
                own_block = true;
            }
            if let Some(link) = markdown_link(comment) {
                block.push(link);
            } else if let Some(url) = comment
                .split_whitespace()
                .find(|w| w.starts_with("https://"))
            {
                block.push((String::new(), url.to_owned()));
            }
            continue;
        }
        let Some(entry) = trimmed.strip_prefix("- ") else {
            continue;
        };
        let (value, trailing) = match entry.split_once('#') {
            Some((value, comment)) => (value.trim(), comment.trim()),
            None => (entry.trim(), ""),
        };
        let labels: Vec<&str> = block
            .iter()
            .map(|(label, _)| label.as_str())
            .filter(|label| !label.is_empty())
            .collect();
        let label = if own_block && labels.len() > 1 {
            labels.join("、")
        } else if !trailing.is_empty() {
            trailing.to_owned()
        } else {
            labels.first().map(|l| (*l).to_owned()).unwrap_or_default()
        };
        let links = if own_block { block.clone() } else { Vec::new() };
        types.push(SpecEvent {
            value: value.to_owned(),
            label,
            links,
        });
        own_block = false;
    }
    if types.is_empty() {
        return Err("webhooks.yaml: no WechatpayNotificationEventType enum".into());
    }
    Ok(types)
}

/// `[label](url)` anywhere in a comment.
fn markdown_link(comment: &str) -> Option<(String, String)> {
    let open = comment.find('[')?;
    let close = open + comment[open..].find("](")?;
    let end = close + comment[close..].find(')')?;
    Some((
        comment[open + 1..close].trim().to_owned(),
        comment[close + 2..end].trim().to_owned(),
    ))
}

fn parse(text: &str, spec: &[SpecEvent]) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let at = |e: String| format!("xtask/events.tsv:{}: {e}", n + 1);
        let cells: Vec<&str> = line.split('\t').collect();
        let [event_type, direct, partner, other_if, note] = cells[..] else {
            return Err(at(format!("{} cells, not 5", cells.len())));
        };
        if !seen.insert(event_type.to_owned()) {
            return Err(at(format!("{event_type} is listed twice")));
        }
        let SpecEvent { label, links, .. } =
            spec.iter().find(|e| e.value == event_type).ok_or_else(|| {
                at(format!(
                    "{event_type} is not an event type of webhooks.yaml"
                ))
            })?;
        let direct = match direct {
            "-" => None,
            text => Some(TypeRef::parse(text).map_err(at)?),
        };
        let partner = match partner {
            "-" => Partner::None,
            "same" if direct.is_some() => Partner::Same,
            "same" => return Err(at("`same` needs a direct type".into())),
            text => {
                let (ty, key) = text.split_once('@').unwrap_or((text, PARTNER_KEY));
                Partner::Type {
                    ty: TypeRef::parse(ty).map_err(at)?,
                    key: key.to_owned(),
                }
            }
        };
        let other_if = match other_if {
            "-" => Vec::new(),
            keys => keys.split(',').map(|k| k.trim().to_owned()).collect(),
        };
        if note.trim().is_empty() {
            return Err(at("every row says why (the note)".into()));
        }
        rows.push(Row {
            event_type: event_type.to_owned(),
            direct,
            partner,
            other_if,
            note: note.to_owned(),
            label: label.clone(),
            links: links.clone(),
        });
    }
    let missing: Vec<&str> = spec
        .iter()
        .map(|e| e.value.as_str())
        .filter(|value| !seen.contains(*value))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "xtask/events.tsv lacks event types of webhooks.yaml: {}",
            missing.join(", ")
        ));
    }
    // The spec's order, so the generated enums read like the spec.
    rows.sort_by_key(|row| spec.iter().position(|e| e.value == row.event_type));
    Ok(rows)
}

/// The module that declares `name` as seen from `path` (a partner module re-exports the types
/// it shares with its direct twin).
fn declaring<'a>(
    modules: &'a BTreeMap<String, Module>,
    path: &str,
    name: &str,
) -> Option<(&'a str, &'a Module)> {
    let (key, module) = modules.get_key_value(path)?;
    if module.shared.contains(name) {
        return declaring(modules, path.strip_suffix("::partner")?, name);
    }
    Some((key.as_str(), module))
}

/// Checks every type the table names and marks it, and every type inside it, serializable.
/// Hand-written types (in a `manual.rs`) implement `Serialize` by hand.
pub fn mark_serialized(
    table: &Table,
    modules: &mut BTreeMap<String, Module>,
) -> Result<(), String> {
    let mut todo: Vec<(String, String)> = Vec::new();
    for row in &table.rows {
        for ty in typed(row) {
            let module = modules.get(&ty.module).ok_or_else(|| {
                format!("events.tsv: {}: no module {}", row.event_type, ty.module)
            })?;
            let generated = module.structs.iter().any(|s| s.name == ty.name);
            if !generated && !module.reserved.contains(&ty.name) {
                return Err(format!(
                    "events.tsv: {}: {}::{} is not a type of the catalog",
                    row.event_type, ty.module, ty.name
                ));
            }
            todo.push((ty.module.clone(), ty.name.clone()));
        }
    }
    let mut done = BTreeSet::new();
    while let Some((path, name)) = todo.pop() {
        let Some((path, _)) = declaring(modules, &path, &name) else {
            continue;
        };
        let path = path.to_owned();
        if !done.insert((path.clone(), name.clone())) {
            continue;
        }
        let Some(module) = modules.get_mut(&path) else {
            continue;
        };
        let Some(s) = module.structs.iter_mut().find(|s| s.name == name) else {
            continue; // an enum (platform enums serialize) or a hand-written type
        };
        s.serialize = true;
        for f in &s.fields {
            let mut ty = &f.ty;
            while let Ty::Vec(inner) = ty {
                ty = inner;
            }
            if let Ty::Named(inner) = ty {
                todo.push((path.clone(), inner.clone()));
            }
        }
    }
    // A partner module lists the structs it shares: their flags follow the declaration, so
    // the module re-exports what comes with them.
    for (path, module) in modules.iter_mut() {
        let Some(parent) = path.strip_suffix("::partner") else {
            continue;
        };
        let shared = module.shared.clone();
        for s in module
            .structs
            .iter_mut()
            .filter(|s| shared.contains(&s.name))
        {
            if done.contains(&(parent.to_owned(), s.name.clone())) {
                s.serialize = true;
            }
        }
    }
    Ok(())
}

/// The feature a catalog type needs (`None`: compiled in every build): the default build
/// compiles an always-compiled module's hand-written part and its `default` operations' types.
pub fn gate(
    modules: &BTreeMap<String, Module>,
    always: &dyn Fn(&str) -> bool,
    path: &str,
    name: &str,
) -> Result<Option<String>, String> {
    let module = modules
        .get(path)
        .ok_or_else(|| format!("no module {path}"))?;
    if module.shared.contains(name) {
        let parent = path
            .strip_suffix("::partner")
            .ok_or_else(|| format!("{path} shares {name} with no parent"))?;
        return gate(modules, always, parent, name);
    }
    let generated = module.structs.iter().any(|s| s.name == name);
    let ungated = always(path)
        && (!generated
            || crate::model::default_items(module, &crate::shared_roots(modules, path))
                .contains(name));
    (!ungated)
        .then(|| crate::feature_of(path).map(str::to_owned))
        .transpose()
}

fn typed(row: &Row) -> Vec<&TypeRef> {
    let mut types: Vec<&TypeRef> = row.direct.iter().collect();
    if let Partner::Type { ty, .. } = &row.partner {
        types.push(ty);
    }
    types
}

/// Hand-written types have no schema in the model: their examples are written here, in the
/// platform's documented shape.
fn manual_example(ty: &TypeRef) -> Option<Value> {
    match (ty.module.as_str(), ty.name.as_str()) {
        ("refund::domestic", "RefundNotice") => Some(json!({
            "mchid": "1900000100",
            "out_trade_no": "1217752501201407033233368018",
            "transaction_id": "1217752501201407033233368018",
            "out_refund_no": "1217752501201407033233368018",
            "refund_id": "50000000382019052709732678859",
            "refund_status": "SUCCESS",
            "success_time": "2018-06-08T10:34:56+08:00",
            "user_received_account": "招商银行信用卡0403",
            "amount": { "total": 999, "refund": 999, "payer_total": 999, "payer_refund": 999 },
        })),
        _ => None,
    }
}

fn example(modules: &BTreeMap<String, Module>, ty: &TypeRef) -> Result<Value, String> {
    if let Some(example) = manual_example(ty) {
        return Ok(example);
    }
    let (_, module) = declaring(modules, &ty.module, &ty.name)
        .ok_or_else(|| format!("events.tsv: no module {}", ty.module))?;
    match crate::cases::answer_json(&ty.name, module, 0) {
        Value::Object(object) => Ok(Value::Object(object)),
        _ => Err(format!(
            "events.tsv: {}::{} has no example (a hand-written type needs one in events.rs)",
            ty.module, ty.name
        )),
    }
}

/// Where each generated file goes and what it holds.
pub fn emit(
    table: &Table,
    version: &str,
    root: &Path,
    modules: &BTreeMap<String, Module>,
    gate: &Gate,
    files: &mut BTreeMap<PathBuf, String>,
) -> Result<(), String> {
    files.insert(
        root.join("wxpay-core/src/notification/event_type.rs"),
        event_types(table, version),
    );
    files.insert(
        root.join("src/notification/event.rs"),
        crate::rustfmt(&facade(table, version, gate)?)?,
    );
    files.insert(
        root.join("tests/it/notifications/every_event.rs"),
        crate::rustfmt(&delivery_test(table, version, gate)?)?,
    );
    files.insert(
        root.join("wxpay-sandbox/src/spec/events.rs"),
        crate::rustfmt(&sandbox(table, version, modules)?)?,
    );
    Ok(())
}

/// The doc lines of an event type: its label and the spec's links.
fn spec_doc(row: &Row) -> Vec<String> {
    let mut lines = Vec::new();
    if row.label.is_empty() {
        lines.push(format!("`{}`.", row.event_type));
    } else {
        lines.push(format!("{} (`{}`).", row.label, row.event_type));
    }
    let links: Vec<String> = row
        .links
        .iter()
        .map(|(label, url)| {
            if label.is_empty() {
                format!("<{url}>")
            } else {
                format!("[{label}]({url})")
            }
        })
        .collect();
    if !links.is_empty() {
        lines.push(String::new());
        lines.push(links.join(", "));
    }
    lines
}

/// `EventType`, a `platform_enum!` (indented by hand: rustfmt leaves macro bodies alone).
fn event_types(table: &Table, version: &str) -> String {
    let mut out = crate::emit::header(version);
    out.push_str(
        "//! Every notification event type of the spec (`openapi/v3/webhooks.yaml`), from the \
         table\n//! `xtask/events.tsv`.\n\nuse crate::__platform_enum as platform_enum;\n\n\
         platform_enum! {\n",
    );
    let doc = [
        "`event_type` of a notification: each of the spec's event types, documented with its",
        "label and links there; any other value is kept in `Unknown`.",
        "",
        "```",
        "use wxpay_core::notification::EventType;",
        "assert_eq!(EventType::from(\"REFUND.SUCCESS\"), EventType::RefundSuccess);",
        "assert_eq!(EventType::from(\"PAYSCORE.USER_PAID\").as_str(), \"PAYSCORE.USER_PAID\");",
        "assert_eq!(EventType::from(\"SOMETHING.NEW\"), EventType::Unknown(\"SOMETHING.NEW\".into()));",
        "```",
    ];
    for line in doc {
        let _ = writeln!(
            out,
            "    ///{}{line}",
            if line.is_empty() { "" } else { " " }
        );
    }
    out.push_str("    pub enum EventType {\n");
    for row in &table.rows {
        for line in spec_doc(row) {
            let _ = writeln!(
                out,
                "        ///{}{line}",
                if line.is_empty() { "" } else { " " }
            );
        }
        let _ = writeln!(out, "        {} = {:?},", row.variant(), row.event_type);
    }
    out.push_str("    }\n}\n");
    out
}

fn doc(out: &mut String, lines: &[String]) {
    for line in lines {
        if line.is_empty() {
            out.push_str("///\n");
        }
        for line in line.lines() {
            let _ = writeln!(out, "///{}{line}", if line.is_empty() { "" } else { " " });
        }
    }
}

fn cfg(feature: &Option<String>, docs: bool) -> String {
    match feature {
        None => String::new(),
        Some(f) if docs => {
            format!("#[cfg(feature = \"{f}\")]\n#[cfg_attr(docsrs, doc(cfg(feature = \"{f}\")))]\n")
        }
        Some(f) => format!("#[cfg(feature = \"{f}\")]\n"),
    }
}

/// The facade's `Event`.
fn facade(table: &Table, version: &str, gate: &Gate) -> Result<String, String> {
    let mut out = crate::emit::header(version);
    out.push_str(
        "//! `Event`: each notification's resource typed by its event type, as the table\n\
         //! `xtask/events.tsv` says (see [`Event`]).\n\n\
         use serde::ser::{Serialize, SerializeStruct, Serializer};\n\
         use wxpay_core::NotificationError;\n\n\
         use super::{EventType, Resource};\n\n",
    );
    let typed = table.rows.iter().filter(|r| r.typed()).count();
    doc(
        &mut out,
        &[
            "What a notification reports: its resource typed with the catalog's own type of the \
             same object (the answer of the query for it), by the table `xtask/events.tsv`."
                .into(),
            String::new(),
            format!(
                "{typed} of the spec's {} event types are typed; the table says why each other \
                 one stays JSON (the spec has no schema for any resource: each typed one was \
                 checked against the platform's documented resource). A service provider's \
                 resource (it names `sp_mchid`, or the key the table gives) decodes into the \
                 catalog's partner type, in a `Partner…` variant.",
                table.rows.len()
            ),
            String::new(),
            "A variant whose type belongs to a product group that is not in the default build \
             exists only with that group's cargo feature (as its type does); without it the \
             event arrives as [`Event::Other`]. Any other event type, an unknown one included, \
             is [`Event::Other`] with the decrypted JSON: never an error."
                .into(),
            String::new(),
            "`Serialize` writes `{\"event_type\": …, \"resource\": …}`, the resource as decoded \
             (typed fields, personal data included: it is for deliberate output); `Debug` keeps \
             personal data out as the types do."
                .into(),
        ],
    );
    out.push_str("#[derive(Debug, Clone)]\n#[non_exhaustive]\npub enum Event {\n");
    let mut variants: Vec<Variant> = Vec::new();
    for row in &table.rows {
        if let Some(ty) = &row.direct {
            variants.push(Variant {
                name: row.direct_variant(),
                ty,
                feature: gate(&ty.module, &ty.name)?,
                row,
                partner_key: None,
            });
        }
        if let Partner::Type { ty, key } = &row.partner {
            variants.push(Variant {
                name: row.partner_variant(),
                ty,
                feature: gate(&ty.module, &ty.name)?,
                row,
                partner_key: Some(key.as_str()),
            });
        }
    }
    for row in &table.rows {
        let features: BTreeSet<&Option<String>> = variants
            .iter()
            .filter(|v| std::ptr::eq(v.row, row))
            .map(|v| &v.feature)
            .collect();
        // The arms that send a resource naming a key in `other_if` to JSON take the features of
        // the first arm; with different features per shape they would need one each.
        if features.len() > 1 && !row.other_if.is_empty() {
            return Err(format!(
                "events.tsv: {}: the direct and partner types need different features",
                row.event_type
            ));
        }
    }
    let mut body = String::new();
    for Variant {
        name: variant,
        ty,
        feature,
        row,
        partner_key: partner,
    } in &variants
    {
        let whose = match (partner, &row.partner) {
            (Some(key), _) => format!(
                "a service provider's resource (it names `{key}`), as [`{0}`]({1}) decodes it",
                ty.name,
                ty.path()
            ),
            (None, Partner::Same) => format!(
                "the resource, a direct merchant's or a service provider's, as [`{}`]({}) \
                 decodes it",
                ty.name,
                ty.path()
            ),
            (None, _) => format!(
                "a direct merchant's resource, as [`{}`]({}) decodes it",
                ty.name,
                ty.path()
            ),
        };
        let mut lines = vec![format!("`{}` {}: {whose}.", row.event_type, row.label)];
        if !row.other_if.is_empty() {
            lines.push(String::new());
            lines.push(format!(
                "A resource naming {} is [`Event::Other`].",
                row.other_if
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        doc(&mut body, &lines);
        body.push_str(&cfg(feature, true));
        let _ = writeln!(body, "{variant}(Box<{}>),", ty.path());
    }
    body.push_str(
        "/// Any other event type, or one whose type's feature is off: the decrypted resource \
         as JSON.\nOther(Resource),\n",
    );
    // Indented here: a variant whose type path is longer than a line makes rustfmt leave the
    // whole enum as written.
    for line in body.lines() {
        let _ = writeln!(out, "    {line}");
    }
    out.push_str("}\n\n");

    // Decoding.
    out.push_str(
        "impl Event {\n\
         /// Types `resource` by `event_type` as the table says.\n\
         pub(super) fn decode(event_type: &EventType, resource: &Resource) -> Result<Event, NotificationError> {\n\
         let names = |key: &str| resource.json().get(key).is_some();\n\
         Ok(match event_type {\n",
    );
    for row in table.rows.iter().filter(|r| r.typed()) {
        let features: Vec<Option<String>> = variants
            .iter()
            .filter(|v| std::ptr::eq(v.row, row))
            .map(|v| v.feature.clone())
            .collect();
        for key in &row.other_if {
            // Only where a typed arm follows: the same features as the first.
            out.push_str(&cfg(&features[0], false));
            let _ = writeln!(
                out,
                "EventType::{} if names({key:?}) => Event::Other(resource.clone()),",
                row.variant()
            );
        }
        // A partner arm has a guard: before the direct arm, which has none.
        let mut arms: Vec<&Variant> = variants
            .iter()
            .filter(|v| std::ptr::eq(v.row, row))
            .collect();
        arms.sort_by_key(|v| v.partner_key.is_none());
        let direct_feature = arms
            .iter()
            .find(|v| v.partner_key.is_none())
            .map(|v| &v.feature);
        for Variant {
            name: variant,
            feature,
            partner_key: partner,
            ..
        } in arms
        {
            out.push_str(&cfg(feature, false));
            match partner {
                Some(key) => {
                    let _ = writeln!(
                        out,
                        "EventType::{} if names({key:?}) => Event::{variant}(resource.deserialize()?),",
                        row.variant()
                    );
                    // A direct type in another feature must not be handed a service provider's
                    // resource when the partner type's feature is off: it stays JSON.
                    if let (Some(f), Some(direct)) = (feature, direct_feature)
                        && direct != feature
                    {
                        let _ = writeln!(
                            out,
                            "#[cfg(not(feature = {f:?}))]\n\
                             EventType::{} if names({key:?}) => Event::Other(resource.clone()),",
                            row.variant()
                        );
                    }
                }
                None => {
                    let _ = writeln!(
                        out,
                        "EventType::{} => Event::{variant}(resource.deserialize()?),",
                        row.variant()
                    );
                }
            }
        }
    }
    out.push_str("_ => Event::Other(resource.clone()),\n})\n}\n\n");

    // The event type of each variant.
    out.push_str(
        "/// The notification's event type.\n\
         pub fn event_type(&self) -> EventType {\n\
         match self {\n",
    );
    for v in &variants {
        out.push_str(&cfg(&v.feature, false));
        let _ = writeln!(
            out,
            "Event::{}(_) => EventType::{},",
            v.name,
            v.row.variant()
        );
    }
    out.push_str("Event::Other(resource) => resource.event_type().clone(),\n}\n}\n}\n\n");

    // Serialize.
    out.push_str(
        "/// `{\"event_type\": …, \"resource\": …}`.\n\
         impl Serialize for Event {\n\
         fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {\n\
         let mut event = serializer.serialize_struct(\"Event\", 2)?;\n\
         event.serialize_field(\"event_type\", &self.event_type())?;\n\
         match self {\n",
    );
    for v in &variants {
        out.push_str(&cfg(&v.feature, false));
        let _ = writeln!(
            out,
            "Event::{}(resource) => event.serialize_field(\"resource\", resource)?,",
            v.name
        );
    }
    out.push_str(
        "Event::Other(resource) => event.serialize_field(\"resource\", resource.json())?,\n}\n\
         event.end()\n}\n}\n\n",
    );

    Ok(out)
}

/// The integration test: each event type delivered by the sandbox to an axum receiver,
/// checked to arrive as its variant (each shape the table types) or as JSON.
fn delivery_test(table: &Table, version: &str, gate: &Gate) -> Result<String, String> {
    let mut out = crate::emit::header(version);
    let _ = write!(
        out,
        "//! Each of the spec's {} notification event types, delivered by the sandbox (signed and\n\
         //! encrypted like the platform) to the axum receiver of `super`, arrives as the variant\n\
         //! `xtask/events.tsv` gives it (both shapes where it types both), or as its listed JSON.\n\n\
         use serde_json::json;\n\
         use wxpay::notification::Event;\n\
         use wxpay_sandbox::EventResource;\n\n\
         use super::EventReceiver;\n\n\
         #[tokio::test]\n\
         async fn every_event_type_arrives_typed_or_as_its_listed_json() {{\n\
         let mut receiver = EventReceiver::start().await;\n",
        table.rows.len()
    );
    let mut deliveries = 0;
    for row in &table.rows {
        let _ = writeln!(out, "\n// {}: {}", row.event_type, row.note);
        let mut shapes: Vec<(&str, String, Option<String>)> = Vec::new();
        if let Some(ty) = &row.direct {
            shapes.push((
                "EventResource::Example",
                row.direct_variant(),
                gate(&ty.module, &ty.name)?,
            ));
        }
        if let Partner::Type { ty, .. } = &row.partner {
            shapes.push((
                "EventResource::PartnerExample",
                row.partner_variant(),
                gate(&ty.module, &ty.name)?,
            ));
        }
        if shapes.is_empty() {
            deliveries += 1;
            let _ = writeln!(
                out,
                "let event = receiver.deliver({:?}, EventResource::Json(json!({{\"mchid\": \"1900000109\", \"test\": {:?}}}))).await;\n\
                 assert!(matches!(event, Event::Other(_)), \"{}: {{event:?}}\");",
                row.event_type, row.event_type, row.event_type
            );
        }
        for (resource, variant, feature) in shapes {
            deliveries += 1;
            let _ = writeln!(
                out,
                "let event = receiver.deliver({:?}, {resource}).await;",
                row.event_type
            );
            match feature {
                None => {
                    let _ = writeln!(
                        out,
                        "assert!(matches!(event, Event::{variant}(_)), \"{}: {{event:?}}\");",
                        row.event_type
                    );
                }
                Some(f) => {
                    let _ = writeln!(
                        out,
                        "#[cfg(feature = {f:?})]\n\
                         assert!(matches!(event, Event::{variant}(_)), \"{}: {{event:?}}\");\n\
                         #[cfg(not(feature = {f:?}))]\n\
                         assert!(matches!(event, Event::Other(_)), \"{}: {{event:?}}\");",
                        row.event_type, row.event_type
                    );
                }
            }
        }
        for key in &row.other_if {
            deliveries += 1;
            let _ = writeln!(
                out,
                "let event = receiver.deliver({:?}, EventResource::Json(json!({{{key:?}: \"TEST\"}}))).await;\n\
                 assert!(matches!(event, Event::Other(_)), \"{} naming {key}: {{event:?}}\");",
                row.event_type, row.event_type
            );
        }
    }
    let _ = write!(
        out,
        "\nassert_eq!(receiver.finish().await, {deliveries}, \"every delivery acknowledged once\");\n}}\n"
    );
    Ok(out)
}

/// The sandbox's events: summary, `original_type` and example resources.
fn sandbox(
    table: &Table,
    version: &str,
    modules: &BTreeMap<String, Module>,
) -> Result<String, String> {
    let mut out = crate::emit::header(version);
    out.push_str(
        "//! Every notification event type of the spec with the example resources the sandbox \
         sends\n//! when asked for one without a resource (see `super::EventExample`).\n\n\
         use super::EventExample;\n\n\
         pub(crate) static EVENTS: &[EventExample] = &[\n",
    );
    for row in &table.rows {
        let direct = match &row.direct {
            Some(ty) => Some(example(modules, ty)?),
            None => None,
        };
        let (partner, key) = match &row.partner {
            Partner::Type { ty, key } => (Some(example(modules, ty)?), Some(key.as_str())),
            Partner::Same | Partner::None => (None, None),
        };
        // The examples must take the branch they are for.
        for (example, shape) in [(&direct, "direct"), (&partner, "partner")] {
            let Some(example) = example else { continue };
            for other in &row.other_if {
                if example.get(other).is_some() {
                    return Err(format!(
                        "events.tsv: {}: the {shape} example names `{other}`",
                        row.event_type
                    ));
                }
            }
        }
        if let (Some(key), Some(direct)) = (key, &direct)
            && direct.get(key).is_some()
        {
            return Err(format!(
                "events.tsv: {}: the direct example names the partner key `{key}`",
                row.event_type
            ));
        }
        if let (Some(key), Some(partner)) = (key, &partner)
            && partner.get(key).is_none()
        {
            return Err(format!(
                "events.tsv: {}: the partner example lacks its key `{key}`",
                row.event_type
            ));
        }
        let text = |v: &Option<Value>| match v {
            Some(v) => format!("Some({:?})", v.to_string()),
            None => "None".into(),
        };
        let _ = writeln!(
            out,
            "EventExample {{ event_type: {:?}, summary: {:?}, original_type: {:?}, direct: {}, partner: {} }},",
            row.event_type,
            row.label,
            row.original_type(),
            text(&direct),
            text(&partner),
        );
    }
    out.push_str("];\n");
    Ok(out)
}

/// The counts for the summary line: typed direct, typed partner, JSON.
pub fn summary(table: &Table) -> String {
    let direct = table.rows.iter().filter(|r| r.direct.is_some()).count();
    let partner = table
        .rows
        .iter()
        .filter(|r| !matches!(r.partner, Partner::None))
        .count();
    let json = table.rows.iter().filter(|r| !r.typed()).count();
    format!(
        "  events: {} event types; typed for a direct merchant {direct}, for a service provider \
         {partner}; JSON {json}\n",
        table.rows.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Vec<SpecEvent> {
        let dir = crate::workspace_root().join("../shared/apiv3");
        let yaml = fs::read_to_string(dir.join("openapi/v3/webhooks.yaml")).expect("the spec");
        spec_event_types(&yaml).expect("event types")
    }

    #[test]
    fn the_table_has_every_event_type_of_the_spec_exactly_once() {
        let spec = spec();
        assert_eq!(spec.len(), 58, "webhooks.yaml lists 58 event types");
        let text = fs::read_to_string(crate::workspace_root().join("xtask/events.tsv")).unwrap();
        let rows = parse(&text, &spec).expect("the table parses");
        assert_eq!(rows.len(), spec.len());
        let listed: BTreeSet<&str> = rows.iter().map(|r| r.event_type.as_str()).collect();
        assert_eq!(listed.len(), spec.len(), "no event type twice");
        let variants: BTreeSet<String> = rows.iter().map(Row::variant).collect();
        assert_eq!(variants.len(), rows.len(), "variant names are distinct");

        // A line twice, a line missing, a type the spec does not have: each refused.
        let first = text.lines().find(|l| !l.starts_with('#')).unwrap();
        let twice = format!("{text}{first}\n");
        assert!(parse(&twice, &spec).unwrap_err().contains("twice"));
        let missing: String = text
            .lines()
            .filter(|l| !l.starts_with("COUPON.SEND\t"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse(&missing, &spec).unwrap_err().contains("COUPON.SEND"));
        let unknown = format!("{text}NOT.AN_EVENT\t-\t-\t-\twhy\n");
        assert!(parse(&unknown, &spec).unwrap_err().contains("NOT.AN_EVENT"));
    }

    fn row(event_type: &str, direct: &str, partner: &str, other_if: &[&str]) -> Row {
        Row {
            event_type: event_type.into(),
            direct: TypeRef::parse(direct).ok(),
            partner: Partner::Type {
                ty: TypeRef::parse(partner).unwrap(),
                key: PARTNER_KEY.into(),
            },
            other_if: other_if.iter().map(|k| (*k).to_owned()).collect(),
            note: "why".into(),
            label: String::new(),
            links: Vec::new(),
        }
    }

    /// Each module's first segment is its feature, as in the catalog.
    fn by_first_segment(module: &str, _: &str) -> Result<Option<String>, String> {
        Ok(module.split("::").next().map(str::to_owned))
    }

    #[test]
    fn a_partner_type_in_another_feature_leaves_its_resource_json_when_that_feature_is_off() {
        let table = Table {
            rows: vec![row(
                "MCHWITHDRAW.CHANGE",
                "merchant::fund::Withdraw",
                "ecommerce::fund::Withdraw",
                &[],
            )],
        };
        let code = facade(&table, "TEST", &by_first_segment).expect("generated");
        let partner = code
            .find("#[cfg(feature = \"ecommerce\")]\nEventType::MchwithdrawChange if names(\"sp_mchid\")")
            .expect("the partner arm");
        let fallback = code
            .find(
                "#[cfg(not(feature = \"ecommerce\"))]\nEventType::MchwithdrawChange if \
                 names(\"sp_mchid\") => Event::Other(resource.clone()),",
            )
            .expect("the partner shape's JSON arm");
        let direct = code
            .find("#[cfg(feature = \"merchant\")]\nEventType::MchwithdrawChange =>")
            .expect("the direct arm");
        assert!(partner < fallback && fallback < direct, "{code}");

        // One feature for both shapes: no JSON arm.
        let table = Table {
            rows: vec![row(
                "PAYSCORE.USER_PAID",
                "payscore::QueryServiceorderResponse",
                "payscore::partner::QueryServiceorderResponse",
                &[],
            )],
        };
        let code = facade(&table, "TEST", &by_first_segment).expect("generated");
        assert!(!code.contains("cfg(not("), "{code}");

        // Keys that send a resource to JSON take one feature set: refused with two.
        let table = Table {
            rows: vec![row(
                "TRANSACTION.SUCCESS",
                "merchant::fund::Withdraw",
                "ecommerce::fund::Withdraw",
                &["combine_out_trade_no"],
            )],
        };
        let error = facade(&table, "TEST", &by_first_segment).unwrap_err();
        assert!(error.contains("different features"), "{error}");
    }

    #[test]
    fn labels_and_links_come_from_the_spec() {
        let spec = spec();
        let find = |value: &str| spec.iter().find(|e| e.value == value).unwrap();
        assert_eq!(find("REFUND.ABNORMAL").label, "退款异常通知");
        assert_eq!(find("COMPLAINT.CREATE").label, "产生新投诉");
        // Several links of its own: their labels.
        let paid = find("TRANSACTION.SUCCESS");
        assert!(paid.label.starts_with("普通支付通知、服务商支付通知"));
        assert_eq!(paid.links.len(), 7);
        // No trailing comment: the link's label.
        assert_eq!(find("SETTLEMENT.SUCCESS").label, "个人收款-结算回调通知");
        // Only a bare URL: no label, the link kept.
        assert_eq!(find("MCHWITHDRAW.CHANGE").label, "");
        assert_eq!(find("MCHWITHDRAW.CHANGE").links.len(), 1);
    }
}
