//! Reading the spec: `endpoints.tsv` (one row per operation) and the Swagger 2.0 files under
//! `openapi/`, with every `$ref` and `allOf` resolved so the model sees plain JSON schemas.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// One row of `endpoints.tsv`.
#[derive(Debug, Clone)]
pub struct Row {
    pub method: String,
    pub path: String,
    pub title: String,
    pub doc_link: String,
    /// Dotted paths (`a.b`, `list[].name`, `query:name`) of fields sent encrypted.
    pub encrypted_request: Vec<String>,
    /// Dotted paths of answer fields that arrive encrypted.
    pub encrypted_response: Vec<String>,
    pub content: String,
    pub scope: String,
    pub deprecated: bool,
    /// The product tag (`运营工具∙代金券`).
    pub tags: String,
}

/// One operation: its row and, where the spec has it, the resolved operation object.
pub struct Operation {
    pub row: Row,
    pub spec: Option<Value>,
}

pub struct Spec {
    pub operations: Vec<Operation>,
    /// The spec's own version (`info.version` of swagger.yaml).
    pub version: String,
}

pub fn load(dir: &Path) -> Result<Spec, String> {
    let tsv = read(&dir.join("endpoints.tsv"))?;
    let rows = parse_tsv(&tsv)?;
    let openapi = dir.join("openapi");
    let mut files = Files::default();
    let root = files.load(&openapi.join("swagger.yaml"))?;
    let version = root
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let paths = root
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("swagger.yaml has no `paths`")?
        .clone();
    let mut operations = Vec::with_capacity(rows.len());
    for row in rows {
        let spec = match paths.get(&row.path) {
            Some(item) => {
                let file = item
                    .get("$ref")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("path {} has no $ref", row.path))?;
                let file = openapi.join(file);
                let document = files.load(&file)?;
                match document.get(row.method.to_ascii_lowercase()) {
                    Some(op) => Some(files.resolve(op, &file, 0)?),
                    None => None,
                }
            }
            None => None,
        };
        operations.push(Operation { row, spec });
    }
    Ok(Spec {
        operations,
        version,
    })
}

/// The operations of swagger.yaml whose files lie under `openapi/<folder>/` (APIv2's `v2`),
/// resolved like the APIv3 ones, as `(path, method, operation)` in the order swagger.yaml lists
/// them. They have no row in `endpoints.tsv`: the files are all there is.
pub fn load_folder(dir: &Path, folder: &str) -> Result<Vec<(String, String, Value)>, String> {
    let openapi = dir.join("openapi");
    let mut files = Files::default();
    let root = files.load(&openapi.join("swagger.yaml"))?;
    let paths = root
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("swagger.yaml has no `paths`")?;
    let prefix = format!("./{folder}/");
    let mut out = Vec::new();
    for (path, item) in paths {
        let Some(file) = item
            .get("$ref")
            .and_then(Value::as_str)
            .filter(|file| file.starts_with(&prefix))
        else {
            continue;
        };
        let file = openapi.join(file);
        let document = files.load(&file)?;
        let Some(methods) = document.as_object() else {
            return Err(format!("{}: not a path item", file.display()));
        };
        for (method, op) in methods {
            out.push((
                path.clone(),
                method.to_ascii_uppercase(),
                files.resolve(op, &file, 0)?,
            ));
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn parse_tsv(text: &str) -> Result<Vec<Row>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("endpoints.tsv is empty")?
        .split('\t')
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("endpoints.tsv has no column `{name}`"))
    };
    let [
        method,
        path,
        title,
        link,
        enc_req,
        enc_resp,
        content,
        scope,
        deprecated,
        tags,
    ] = [
        "method",
        "path",
        "title",
        "doc_link",
        "encrypted_request_fields",
        "encrypted_response_fields",
        "content",
        "scope",
        "deprecated",
        "tags",
    ]
    .map(column);
    let (method, path, title, link) = (method?, path?, title?, link?);
    let (enc_req, enc_resp, content, scope, deprecated, tags) =
        (enc_req?, enc_resp?, content?, scope?, deprecated?, tags?);
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut rows = Vec::new();
    for (number, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |i: usize| {
            cells
                .get(i)
                .copied()
                .ok_or_else(|| format!("endpoints.tsv line {}: too few columns", number + 2))
        };
        rows.push(Row {
            method: cell(method)?.to_owned(),
            path: cell(path)?.to_owned(),
            title: cell(title)?.to_owned(),
            doc_link: cell(link)?.to_owned(),
            encrypted_request: list(cell(enc_req)?),
            encrypted_response: list(cell(enc_resp)?),
            content: cell(content)?.to_owned(),
            scope: cell(scope)?.to_owned(),
            deprecated: cell(deprecated)? == "Y",
            tags: cell(tags)?.to_owned(),
        });
    }
    Ok(rows)
}

/// The YAML files read so far, as JSON, and the labels their comments give enum values
/// (`- SUCCESS  #支付成功`): YAML parsers drop comments, so they are read from the text.
#[derive(Default)]
struct Files {
    documents: HashMap<PathBuf, Value>,
    labels: HashMap<PathBuf, HashMap<String, String>>,
}

impl Files {
    fn load(&mut self, path: &Path) -> Result<Value, String> {
        let path = normalize(path);
        if let Some(document) = self.documents.get(&path) {
            return Ok(document.clone());
        }
        let text = read(&path)?;
        let docs =
            YamlLoader::load_from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let document = docs.into_iter().next().map(to_json).unwrap_or(Value::Null);
        let mut labels = HashMap::new();
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("- ") else {
                continue;
            };
            if let Some((value, label)) = rest.split_once('#') {
                let value = value.trim().trim_matches(['\'', '"']);
                let label = label.trim();
                if !value.is_empty() && !label.is_empty() && !value.contains(' ') {
                    labels.insert(value.to_owned(), label.to_owned());
                }
            }
        }
        self.labels.insert(path.clone(), labels);
        self.documents.insert(path, document.clone());
        Ok(document)
    }

    /// Inlines every `$ref` (relative to `file`) and merges every `allOf`; enum nodes gain
    /// `x-enum-labels` from their file's comments.
    fn resolve(&mut self, node: &Value, file: &Path, depth: usize) -> Result<Value, String> {
        if depth > 40 {
            return Err(format!("{}: $ref nesting too deep", file.display()));
        }
        match node {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                    let (target, fragment) = reference.split_once('#').unwrap_or((reference, ""));
                    let target_file = if target.is_empty() {
                        file.to_path_buf()
                    } else {
                        file.parent().unwrap_or(Path::new(".")).join(target)
                    };
                    let document = self.load(&target_file)?;
                    let fragment = fragment.trim_start_matches('/');
                    let mut target_node = &document;
                    for key in fragment.split('/').filter(|k| !k.is_empty()) {
                        target_node = target_node.get(key).ok_or_else(|| {
                            format!("{}: unresolved $ref {reference}", file.display())
                        })?;
                    }
                    let target_node = target_node.clone();
                    let mut resolved = self.resolve(&target_node, &target_file, depth + 1)?;
                    // Siblings of a $ref (a description, say) refine the target.
                    if let Value::Object(out) = &mut resolved {
                        for (k, v) in map {
                            if k != "$ref" {
                                out.insert(k.clone(), self.resolve(v, file, depth + 1)?);
                            }
                        }
                    }
                    return Ok(resolved);
                }
                let mut out = Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.resolve(v, file, depth + 1)?);
                }
                if let Some(Value::Array(parts)) = out.remove("allOf") {
                    merge_all_of(&mut out, parts);
                }
                if let Some(Value::Array(values)) = out.get("enum") {
                    let labels = self.labels.get(&normalize(file));
                    let found: Map<String, Value> = values
                        .iter()
                        .filter_map(|v| {
                            let v = scalar_text(v)?;
                            let label = labels?.get(&v)?;
                            Some((v, Value::String(label.clone())))
                        })
                        .collect();
                    if !found.is_empty() {
                        out.insert("x-enum-labels".into(), Value::Object(found));
                    }
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => items
                .iter()
                .map(|item| self.resolve(item, file, depth + 1))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }
}

/// `allOf: [A, B]`: the union of the parts' properties and required lists. A property two
/// parts both describe as an object is merged the same way: a later part refines it (adds
/// `h5_info` to the `scene_info` of H5 orders), it does not lose to the first.
fn merge_all_of(out: &mut Map<String, Value>, parts: Vec<Value>) {
    for part in parts {
        let Value::Object(part) = part else { continue };
        for (key, value) in part {
            match (key.as_str(), out.get_mut(&key), value) {
                ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                    for (k, v) in theirs {
                        match mine.get_mut(&k) {
                            Some(Value::Object(field))
                                if field.contains_key("properties")
                                    && v.get("properties").is_some() =>
                            {
                                merge_all_of(field, vec![v]);
                            }
                            Some(_) => {}
                            None => {
                                mine.insert(k, v);
                            }
                        }
                    }
                }
                ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                    for v in theirs {
                        if !mine.contains(&v) {
                            mine.push(v);
                        }
                    }
                }
                (_, Some(_), _) => {}
                (_, None, value) => {
                    out.insert(key, value);
                }
            }
        }
    }
}

pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn to_json(yaml: Yaml) -> Value {
    match yaml {
        Yaml::Real(text) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::String(text), Value::Number),
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::String(s) => Value::String(s),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) | Yaml::Real(s) => s,
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        _ => String::new(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Value::Null,
    }
}
