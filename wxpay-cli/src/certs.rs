//! `wxpay certs`: platform certificates downloaded by the library's own refresh (verified with
//! the keys already trusted, decrypted with the APIv3 key) into its `DirectoryStore`.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wxpay::time::OffsetDateTime;
use wxpay::time::format_description::well_known::Rfc3339;
use wxpay::{CertificateStore, DirectoryStore, PlatformKey, PlatformKeyKind, StoredCertificate};

use crate::cli::{Certs, Global};
use crate::config;
use crate::exit::Failure;
use crate::output::Output;

pub async fn run(global: &Global, out: &Output, certs: Certs) -> Result<(), Failure> {
    match certs {
        Certs::Download { dir } => {
            let session = config::connect(global, Some(DirectoryStore::new(&dir))).await?;
            let client = &session.client;
            client.refresh_platform_certificates().await?;
            let has_certificates = client
                .platform_keys()
                .iter()
                .any(|key| matches!(key.kind(), PlatformKeyKind::Certificate { .. }));
            let mchid = client.mchid().to_owned();
            let stored = DirectoryStore::new(&dir).load(&mchid).unwrap_or_default();
            if has_certificates && stored.is_empty() {
                // The library logs a failed save and keeps going; here it is the point.
                return Err(Failure::other(format!(
                    "the certificates were verified but could not be written under {}",
                    dir.display()
                )));
            }
            if !has_certificates {
                out.print(&json!([]), || {
                    "the platform has no certificates for this merchant: it uses the WeChat \
                     Pay public key only"
                        .into()
                });
                return Ok(());
            }
            show(out, &dir, Some(&mchid))
        }
        Certs::Show { dir, mchid } => show(out, &dir, mchid.as_deref()),
    }
}

fn show(out: &Output, dir: &Path, mchid: Option<&str>) -> Result<(), Failure> {
    let merchants: Vec<String> = match mchid {
        Some(mchid) => vec![mchid.to_owned()],
        None => {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| Failure::usage(format!("cannot read {}: {e}", dir.display())))?;
            let mut names: Vec<String> = entries
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()))
                .collect();
            names.sort();
            names
        }
    };
    let store = DirectoryStore::new(dir);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut rows = Vec::new();
    for mchid in &merchants {
        let pems = store
            .load(mchid)
            .map_err(|e| Failure::usage(format!("cannot read the certificates of {mchid}: {e}")))?;
        for stored in pems {
            rows.push(describe(mchid, &stored, now));
        }
    }
    rows.sort_by_key(Value::to_string);
    let document = Value::Array(rows.clone());
    out.print(&document, || {
        if rows.is_empty() {
            return format!("no certificates under {}", dir.display());
        }
        let mut text = String::new();
        for row in &rows {
            let field = |name: &str| row.get(name).and_then(Value::as_str).unwrap_or("?");
            match row.get("error").and_then(Value::as_str) {
                Some(error) => text.push_str(&format!("{}  unreadable: {error}\n", field("mchid"))),
                None => text.push_str(&format!(
                    "{}  {}  {} → {}  {}\n",
                    field("mchid"),
                    field("serial"),
                    field("not_before"),
                    field("not_after"),
                    if row.get("valid_now") == Some(&Value::Bool(true)) {
                        "valid"
                    } else {
                        "NOT valid now"
                    }
                )),
            }
        }
        text
    });
    Ok(())
}

fn describe(mchid: &str, stored: &StoredCertificate, now: i64) -> Value {
    match PlatformKey::from_certificate_pem(&stored.pem) {
        Ok(key) => {
            let (not_before, not_after) = match key.kind() {
                PlatformKeyKind::Certificate {
                    not_before,
                    not_after,
                } => (rfc3339(not_before), rfc3339(not_after)),
                _ => (None, None),
            };
            json!({
                "mchid": mchid,
                "serial": key.id(),
                "not_before": not_before,
                "not_after": not_after,
                "valid_now": key.is_valid_at(now),
                // Untagged entries are ignored by clients (the store is a cache, not trust).
                "tagged": stored.tag.is_some(),
            })
        }
        Err(error) => json!({ "mchid": mchid, "error": error.to_string() }),
    }
}

fn rfc3339(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&Rfc3339)
        .ok()
}
