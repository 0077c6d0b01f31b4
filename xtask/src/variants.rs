//! Enum variant names from wire values, through two checked-in tables: `enum_words.tsv`
//! splits runs of letters into words (`NOTPAY` → `NotPay`, `IDCARD` → `IdCard`), and
//! `enum_codes.tsv` names values that are bare codes (`2401` → `MicroMerchant`, from the
//! spec's label 小微商户); a code it does not list is `Code<value>`. Wire values never change.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};

const WORDS: &str = include_str!("../enum_words.tsv");
const CODES: &str = include_str!("../enum_codes.tsv");

fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

/// run → its words.
fn words() -> BTreeMap<&'static str, Vec<&'static str>> {
    rows(WORDS)
        .filter_map(|cells| Some((*cells.first()?, cells.get(1)?.split(' ').collect())))
        .collect()
}

/// (field, code) → (variant, label).
fn codes() -> BTreeMap<(&'static str, &'static str), (&'static str, &'static str)> {
    rows(CODES)
        .filter_map(|cells| match cells[..] {
            [field, code, variant, label] => Some(((field, code), (variant, label))),
            _ => None,
        })
        .collect()
}

/// The runs of letters and digits of a wire value, lowercase (`USER_PAYING` → `user`,
/// `paying`), as heck splits them.
fn runs(value: &str) -> Vec<String> {
    value
        .to_snake_case()
        .split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The variant's name for `value` of the field `field` (its wire name), or `None` for a value
/// that names nothing (no letter or digit). `label` is the spec's label of the value, checked
/// against the codes table's.
pub fn variant(field: &str, value: &str, label: &str) -> Result<Option<String>, String> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(match codes().get(&(field, value)) {
            Some((variant, expected)) => {
                if !label.is_empty() && label != *expected {
                    return Err(format!(
                        "enum_codes.tsv: `{field}` = `{value}` is labelled `{label}` in the \
                         spec, not `{expected}`"
                    ));
                }
                (*variant).to_owned()
            }
            None => format!("Code{value}"),
        }));
    }
    let table = words();
    let mut ident = String::new();
    for run in runs(value) {
        match table.get(run.as_str()) {
            Some(split) => ident.extend(split.iter().map(|w| w.to_upper_camel_case())),
            None => ident.push_str(&run.to_upper_camel_case()),
        }
    }
    if ident.is_empty() || !ident.is_ascii() {
        return Ok(None);
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        // `3D_SECURE`: a name cannot start with a digit.
        ident.insert(0, 'V');
    }
    Ok(Some(ident))
}

/// The table lines no wire value in `values` (field, value) uses any more.
pub fn stale<'a>(values: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut used_runs = BTreeSet::new();
    let mut used_codes = BTreeSet::new();
    for (field, value) in values {
        used_runs.extend(runs(value));
        used_codes.insert((field.to_owned(), value.to_owned()));
    }
    let mut out: Vec<String> = words()
        .keys()
        .filter(|run| !used_runs.contains(**run))
        .map(|run| format!("enum_words.tsv: `{run}`"))
        .collect();
    out.extend(
        codes()
            .keys()
            .filter(|(f, c)| !used_codes.contains(&((*f).to_owned(), (*c).to_owned())))
            .map(|(f, c)| format!("enum_codes.tsv: `{f}` = `{c}`")),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_by_the_table_and_codes_take_their_names() {
        let v = |value: &str| variant("trade_state", value, "").unwrap().unwrap();
        assert_eq!(v("NOTPAY"), "NotPay");
        assert_eq!(v("USERPAYING"), "UserPaying");
        assert_eq!(v("PAYERROR"), "PayError");
        assert_eq!(v("IDENTIFICATION_TYPE_IDCARD"), "IdentificationTypeIdCard");
        assert_eq!(v("SUCCESS"), "Success");
        assert_eq!(v("no_balance"), "NoBalance");
        assert_eq!(v("AEAD_AES_256_GCM"), "AeadAes256Gcm");
        assert_eq!(v("3D_SECURE"), "V3dSecure");
        assert_eq!(variant("x", "1000", "").unwrap().unwrap(), "Code1000");
        assert_eq!(
            variant("organization_type", "2401", "小微商户")
                .unwrap()
                .unwrap(),
            "MicroMerchant"
        );
        assert!(variant("organization_type", "2401", "企业").is_err());
        assert_eq!(variant("x", "-", "").unwrap(), None);
    }

    #[test]
    fn the_tables_are_well_formed() {
        for cells in rows(WORDS) {
            assert_eq!(cells.len(), 2, "enum_words.tsv: {cells:?}");
            let (run, split) = (cells[0], cells[1]);
            assert_eq!(run, run.to_ascii_lowercase(), "enum_words.tsv: {run}");
            assert_eq!(
                split.replace(' ', ""),
                run,
                "enum_words.tsv: {run} → {split}"
            );
            assert!(
                split.contains(' '),
                "enum_words.tsv: {run} splits into one word"
            );
        }
        for cells in rows(CODES) {
            assert_eq!(cells.len(), 4, "enum_codes.tsv: {cells:?}");
            assert!(cells[1].bytes().all(|b| b.is_ascii_digit()), "{cells:?}");
            assert_eq!(cells[2], cells[2].to_upper_camel_case(), "{cells:?}");
        }
    }
}
