//! `--field` and `--body` into a request: path placeholders, the query or the JSON body.
//! Pure functions; the client sends what they build (and encrypts the sensitive fields).

use serde_json::{Map, Value};

/// One `--field`: `k=v` (a string), `k:=json` (raw JSON), keys nested with dots (`a.b=v`).
pub fn parse_field(text: &str) -> Result<(Vec<String>, Value), String> {
    let invalid = |why: &str| format!("invalid --field {text:?}: {why}");
    let (key, value) = match (text.find(":="), text.find('=')) {
        (Some(raw), Some(eq)) if raw < eq => {
            let json = &text[raw + 2..];
            let value = serde_json::from_str(json)
                .map_err(|e| invalid(&format!("the value after := is not JSON ({e})")))?;
            (&text[..raw], value)
        }
        (_, Some(eq)) => (&text[..eq], Value::String(text[eq + 1..].to_owned())),
        _ => return Err(invalid("expected key=value or key:=json")),
    };
    let path: Vec<String> = key.split('.').map(str::to_owned).collect();
    if path.iter().any(|part| {
        part.is_empty()
            || !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }) {
        return Err(invalid(
            "a key is letters, digits, `_` and `-`, nested with `.`",
        ));
    }
    Ok((path, value))
}

/// Sets `value` at `path` in `object`, creating the objects on the way.
pub fn insert(
    object: &mut Map<String, Value>,
    path: &[String],
    value: Value,
) -> Result<(), String> {
    let dotted = path.join(".");
    let (last, parents) = path.split_last().ok_or("an empty key")?;
    let mut here = object;
    for part in parents {
        let next = here
            .entry(part.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        here = next
            .as_object_mut()
            .ok_or_else(|| format!("--field {dotted}: {part} is already set to a non-object"))?;
    }
    if here.contains_key(last) {
        return Err(format!("--field {dotted} is given twice"));
    }
    here.insert(last.clone(), value);
    Ok(())
}

/// The placeholders `{name}` of a path template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// A `METHOD PATH` given on the command line, checked: literal segments must be sent as they
/// are (so they are signed as they are), anything else goes in a `{name}` placeholder filled
/// from a field, which the runtime percent-encodes. Returns the template and the query pairs.
pub fn split_path(path: &str) -> Result<(String, Vec<(String, String)>), String> {
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    if !path.starts_with('/') {
        return Err(format!("the path {path:?} must start with /"));
    }
    for segment in path.split('/').skip(1) {
        let placeholder = segment
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .is_some_and(|name| {
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
        let plain = !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment.bytes().all(unreserved);
        if !placeholder && !plain {
            return Err(format!(
                "the path segment {segment:?} cannot be sent as written; put a placeholder \
                 such as {{id}} in the path and give its value with --field id=…"
            ));
        }
    }
    let mut pairs = Vec::new();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !name.bytes().all(unreserved) || !value.bytes().all(unreserved) {
            return Err(format!(
                "the query pair {pair:?} needs encoding; give it with --field instead"
            ));
        }
        pairs.push((name.to_owned(), value.to_owned()));
    }
    Ok((path.to_owned(), pairs))
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// The values a concrete path gives a template's placeholders, if the path fits it.
pub fn match_template(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let (ours, theirs): (Vec<_>, Vec<_>) =
        (template.split('/').collect(), path.split('/').collect());
    if ours.len() != theirs.len() {
        return None;
    }
    let mut values = Vec::new();
    for (want, got) in ours.iter().zip(&theirs) {
        match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) if got.starts_with('{') => {
                if got.strip_prefix('{')?.strip_suffix('}')? != name {
                    return None;
                }
            }
            Some(name) => values.push((name.to_owned(), (*got).to_owned())),
            None if want == got => {}
            None => return None,
        }
    }
    Some(values)
}

/// What to send: placeholder values, query pairs and the JSON body.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub path: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

/// Splits the fields: those named like a placeholder fill it, the rest become the body
/// (`has_body`) or the query.
pub fn split_fields(
    template: &str,
    mut fields: Map<String, Value>,
    has_body: bool,
) -> Result<Request, String> {
    let mut path = Vec::new();
    for name in placeholders(template) {
        let value = fields
            .remove(name)
            .ok_or_else(|| format!("the path needs {{{name}}}: give it with --field {name}=…"))?;
        path.push((name.to_owned(), scalar(name, value)?));
    }
    if has_body {
        return Ok(Request {
            path,
            query: Vec::new(),
            body: Some(Value::Object(fields)),
        });
    }
    let mut query = Vec::new();
    for (name, value) in fields {
        let text = scalar(&name, value)?;
        query.push((name, text));
    }
    Ok(Request {
        path,
        query,
        body: None,
    })
}

fn scalar(name: &str, value: Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!(
            "{name} goes in the path or the query, so it must be a string, number or boolean"
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(fields: &[&str]) -> Result<Map<String, Value>, String> {
        let mut object = Map::new();
        for field in fields {
            let (path, value) = parse_field(field)?;
            insert(&mut object, &path, value)?;
        }
        Ok(object)
    }

    #[test]
    fn fields_are_strings_raw_json_or_nested() {
        let built = object(&[
            "stock_id=9856888",
            "amount:=100",
            "payer.openid=o1",
            "payer.identity:={\"type\":\"IDCARD\"}",
            "note=a=b",
        ])
        .expect("valid");
        assert_eq!(
            Value::Object(built),
            json!({
                "stock_id": "9856888",
                "amount": 100,
                "payer": {"openid": "o1", "identity": {"type": "IDCARD"}},
                "note": "a=b",
            })
        );
    }

    #[test]
    fn bad_fields_say_why() {
        for (bad, why) in [
            ("stock_id", "expected key=value"),
            ("=v", "a key is"),
            ("a..b=v", "a key is"),
            ("amount:=ten", "not JSON"),
            ("a b=c", "a key is"),
        ] {
            let error = parse_field(bad).expect_err(bad);
            assert!(error.contains(why), "{bad}: {error}");
        }
        assert!(object(&["a=1", "a=2"]).unwrap_err().contains("twice"));
        assert!(
            object(&["a=1", "a.b=2"])
                .unwrap_err()
                .contains("non-object")
        );
    }

    #[test]
    fn placeholders_fill_the_path_and_the_rest_is_body_or_query() {
        let fields = object(&["stock_id=9856888", "stock_creator_mchid=1230000109"]).unwrap();
        let request =
            split_fields("/v3/marketing/favor/stocks/{stock_id}/pause", fields, true).unwrap();
        assert_eq!(request.path, [("stock_id".into(), "9856888".into())]);
        assert_eq!(
            request.body,
            Some(json!({"stock_creator_mchid": "1230000109"}))
        );

        let fields = object(&["bill_date=2026-11-20", "limit:=10"]).unwrap();
        let request = split_fields("/v3/bill/tradebill", fields, false).unwrap();
        assert_eq!(request.body, None);
        assert_eq!(
            request.query,
            [
                ("bill_date".into(), "2026-11-20".into()),
                ("limit".into(), "10".into())
            ]
        );

        let missing = split_fields("/v3/x/{id}", Map::new(), true).unwrap_err();
        assert!(missing.contains("--field id="), "{missing}");
        let nested = split_fields("/v3/x", object(&["a.b=1"]).unwrap(), false).unwrap_err();
        assert!(nested.contains("must be a string"), "{nested}");
    }

    #[test]
    fn concrete_paths_are_checked_and_matched_to_templates() {
        let (path, query) = split_path("/v3/bill/tradebill?bill_date=2026-11-20").unwrap();
        assert_eq!(path, "/v3/bill/tradebill");
        assert_eq!(query, [("bill_date".into(), "2026-11-20".into())]);
        for bad in [
            "v3/x",
            "/v3/../x",
            "/v3/a b",
            "/v3/%2F",
            "/v3//x",
            "/v3/x?a=%20",
        ] {
            assert!(split_path(bad).is_err(), "{bad}");
        }
        let template = "/v3/marketing/favor/stocks/{stock_id}/pause";
        assert_eq!(
            match_template(template, "/v3/marketing/favor/stocks/9856888/pause"),
            Some(vec![("stock_id".into(), "9856888".into())])
        );
        assert_eq!(match_template(template, template), Some(vec![]));
        assert_eq!(
            match_template(template, "/v3/marketing/favor/stocks/9856888/start"),
            None
        );
        assert_eq!(
            match_template(template, "/v3/marketing/favor/stocks/{id}/pause"),
            None
        );
    }
}
