//! The catalog as data ([`OPERATIONS`]), for tools that pick an operation at run time.

/// How an operation's request carries its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Content {
    /// A JSON body (POST, PUT, PATCH) or the query (GET, DELETE).
    Json,
    /// `multipart/form-data` with a signed `meta` part and a file (image uploads).
    Multipart,
}

/// One declared operation of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Operation {
    /// The request type's name, e.g. `PauseStock`.
    pub name: &'static str,
    /// The module of [`crate::apis`] it is declared in, e.g. `marketing::favor`.
    pub module: &'static str,
    /// The HTTP method, upper-case.
    pub method: &'static str,
    /// The path template with `{name}` placeholders.
    pub path: &'static str,
    /// The official Chinese title (接口名称).
    pub title: &'static str,
    /// The official documentation page.
    pub link: &'static str,
    /// The platform host that serves it ([`Endpoint::HOST`](crate::Endpoint::HOST)).
    pub host: crate::Host,
    /// Dotted paths of the body fields encrypted with the platform key (for example
    /// `payer.identity.name`; a list is walked element by element); the request then names
    /// that key in `Wechatpay-Serial`.
    pub encrypted: &'static [&'static str],
    /// Query parameters encrypted with the platform key, by name.
    pub encrypted_query: &'static [&'static str],
    /// How the request carries its fields.
    pub content: Content,
    /// The cargo feature whose group declares the operation's type; `None` for the default
    /// build.
    pub feature: Option<&'static str>,
    /// Whether this build declares the operation's type (its feature is enabled). Every
    /// operation can be sent through [`Client::request`](crate::Client::request) regardless.
    pub declared: bool,
}

mod table;

pub use table::OPERATIONS;
#[cfg(test)]
use table::check_declarations;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_entry_matches_its_declaration() {
        let mut checked = 0;
        check_declarations(&mut |name, method, path, host| {
            let entry = OPERATIONS
                .iter()
                .find(|op| op.name == name && op.path == path)
                .unwrap_or_else(|| panic!("{name} {path} has no entry"));
            assert_eq!(entry.method, method, "{name}");
            assert_eq!(entry.host, host, "{name}");
            checked += 1;
        });
        assert_eq!(checked, OPERATIONS.iter().filter(|op| op.declared).count());
    }

    /// The default build (no product group) declares exactly the operations it always had:
    /// generated (`default` in xtask/operations.tsv) or hand-written, no more.
    #[test]
    #[cfg(not(any(
        feature = "pay",
        feature = "refund",
        feature = "bill",
        feature = "marketing",
        feature = "brand",
        feature = "profitsharing",
        feature = "transfer",
        feature = "ecommerce",
        feature = "payscore",
        feature = "papay",
        feature = "global",
        feature = "merchant",
        feature = "platsolution",
        feature = "fapiao",
        feature = "face",
        feature = "education",
        feature = "mobility",
        feature = "industry",
    )))]
    fn the_default_build_declares_the_default_catalog() {
        let declared: BTreeSet<String> = OPERATIONS
            .iter()
            .filter(|op| op.declared)
            .map(|op| format!("{}::{}", op.module, op.name))
            .collect();
        let expected: BTreeSet<String> = [
            "bill::GetFundFlowBill",
            "bill::GetTradeBill",
            "certificates::DownloadCertificates",
            "marketing::favor::CreateStock",
            "marketing::favor::PauseStock",
            "marketing::favor::QueryStock",
            "marketing::favor::RestartStock",
            "marketing::favor::SendCoupon",
            "marketing::favor::QueryUserCouponByCouponId",
            "marketing::favor::StartStock",
            "merchant::media::UploadImage",
            "merchant::media::UploadMarketingImage",
            "merchant_service::ListComplaints",
            "multiuse::SendMultiuseCoupon",
            "pay::transactions::CloseOrder",
            "pay::transactions::CreateAppOrder",
            "pay::transactions::CreateH5Order",
            "pay::transactions::CreateJsapiOrder",
            "pay::transactions::CreateNativeOrder",
            "pay::transactions::QueryOrderById",
            "pay::transactions::QueryOrderByOutTradeNo",
            "pay::transactions::partner::CloseOrder",
            "pay::transactions::partner::CreateJsapiOrder",
            "pay::transactions::partner::CreateNativeOrder",
            "pay::transactions::partner::QueryOrderById",
            "pay::transactions::partner::QueryOrderByOutTradeNo",
            "refund::domestic::ApplyAbnormalRefund",
            "refund::domestic::CreateRefund",
            "refund::domestic::QueryRefund",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(declared, expected);
    }

    /// The cross-border families live on apihk, everything else on the main host: with
    /// every feature, the 71 `/v3/global/…` and the 26 Hong Kong wallet (`/hk/v3/…`,
    /// `/global/v3/…`) operations.
    #[test]
    #[cfg(feature = "full")]
    fn the_cross_border_operations_are_served_on_apihk() {
        use crate::Host;
        let cross_border = |path: &str| {
            ["/v3/global/", "/hk/v3/", "/global/v3/"]
                .iter()
                .any(|prefix| path.starts_with(prefix))
        };
        for op in OPERATIONS {
            let want = if cross_border(op.path) {
                Host::Apihk
            } else {
                Host::Api
            };
            assert_eq!(op.host, want, "{} {}", op.name, op.path);
        }
        let apihk = OPERATIONS
            .iter()
            .filter(|op| op.host == Host::Apihk)
            .count();
        assert_eq!(apihk, 97);
    }

    /// Every build lists the whole catalog; what it declares follows its features.
    #[test]
    fn every_build_lists_the_whole_catalog() {
        assert!(OPERATIONS.len() >= 1_017, "{}", OPERATIONS.len());
        for op in OPERATIONS {
            // The default build declares what needs no feature; `full` declares everything.
            if op.feature.is_none() || cfg!(feature = "full") {
                assert!(op.declared, "{}::{}", op.module, op.name);
            }
        }
        // Without `full`, operations of the other groups are listed, not declared.
        assert!(cfg!(feature = "full") || OPERATIONS.iter().any(|op| !op.declared));
    }

    #[test]
    fn names_are_unique_per_module_and_encrypted_paths_are_dotted_names() {
        let names: BTreeSet<_> = OPERATIONS.iter().map(|op| (op.module, op.name)).collect();
        assert_eq!(names.len(), OPERATIONS.len());
        let dotted = |path: &str| {
            path.split('.').all(|part| {
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
        };
        for op in OPERATIONS {
            for path in op.encrypted.iter().chain(op.encrypted_query) {
                assert!(dotted(path), "{}: {path}", op.name);
            }
        }
    }

    /// The checked-in table of names (which `cargo xtask codegen --check` holds equal to the
    /// spec's `endpoints.tsv`) against what the catalog declares: with every feature, each
    /// operation is declared or listed as not declared yet, with its reason.
    #[test]
    #[cfg(feature = "full")]
    fn every_operation_of_the_spec_is_declared_or_listed_as_missing() {
        use super::table::NOT_DECLARED;
        use std::path::Path;

        let table = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("xtask/operations.tsv"),
        )
        .expect("xtask/operations.tsv");
        let spec: BTreeSet<(&str, &str)> = table
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| {
                let mut cells = line.split('\t');
                (cells.next().unwrap_or(""), cells.next().unwrap_or(""))
            })
            .collect();
        let declared: BTreeSet<(&str, &str)> =
            OPERATIONS.iter().map(|op| (op.method, op.path)).collect();
        let missing: BTreeSet<(&str, &str)> =
            NOT_DECLARED.iter().map(|(m, p, _)| (*m, *p)).collect();
        assert!(declared.is_disjoint(&missing));
        let covered: BTreeSet<_> = declared.union(&missing).copied().collect();
        assert_eq!(covered, spec);
        assert!(spec.len() >= 1_018, "{}", spec.len());
    }

    /// Scans the catalog's sources for declarations, so an endpoint added without an entry
    /// fails here even before anyone lists it in `check_declarations`.
    #[test]
    #[cfg(feature = "full")]
    fn every_declaration_in_the_sources_has_an_entry() {
        use std::path::Path;

        fn scan(dir: &Path, found: &mut BTreeSet<(String, String)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .expect("read src/apis")
                .map(|e| e.expect("entry").path())
                .collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    scan(&path, found);
                    continue;
                }
                let source = std::fs::read_to_string(&path).expect("read a source file");
                let mut pending_method = None;
                for line in source.lines().map(str::trim) {
                    if line.starts_with("#[endpoint(v2 ") {
                        // APIv2: `apis::v2::OPERATIONS`, checked by its own tests.
                        continue;
                    } else if let Some(rest) = line.strip_prefix("#[endpoint(") {
                        let (method, rest) = rest.split_once(' ').expect("METHOD \"PATH\"");
                        let path = rest.split('"').nth(1).expect("a quoted path");
                        found.insert((method.to_owned(), angle_to_braces(path)));
                    } else if let Some(rest) = line.strip_prefix("const METHOD: Method = Method::")
                    {
                        pending_method = Some(rest.trim_end_matches(';').to_owned());
                    } else if let Some(rest) =
                        line.strip_prefix("const PATH_TEMPLATE: &'static str = \"")
                    {
                        let method = pending_method.take().expect("METHOD before PATH_TEMPLATE");
                        found.insert((method, rest.trim_end_matches("\";").to_owned()));
                    }
                }
            }
        }
        fn angle_to_braces(path: &str) -> String {
            path.replace('<', "{").replace('>', "}")
        }
        let mut found = BTreeSet::new();
        scan(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/apis"),
            &mut found,
        );
        // Declared in the runtime, which downloads certificates itself.
        found.insert(("GET".to_owned(), "/v3/certificates".to_owned()));
        let table: BTreeSet<_> = OPERATIONS
            .iter()
            .map(|op| (op.method.to_owned(), op.path.to_owned()))
            .collect();
        assert_eq!(found, table);
    }
}
