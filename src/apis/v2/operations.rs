//! The APIv2 catalog as data ([`OPERATIONS`]), for tools that pick an operation at run time.

/// One declared APIv2 operation of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The request type's name, e.g. `SendRedpack`.
    pub name: &'static str,
    /// The module of [`crate::apis::v2`] it is declared in, e.g. `redpack`.
    pub module: &'static str,
    /// The HTTP method, upper-case: `POST`, or `GET` for the contract-signing pages.
    pub method: &'static str,
    /// The path, e.g. `/mmpaymkttransfers/sendredpack`.
    pub path: &'static str,
    /// The official Chinese title (接口名称).
    pub title: &'static str,
    /// The official documentation page.
    pub link: &'static str,
    /// The platform host that serves it ([`Endpoint::HOST`](crate::Endpoint::HOST)).
    pub host: crate::Host,
    /// Its rules: sign types, client certificate, signed answer, nonce
    /// ([`Endpoint::PROTOCOL`](crate::Endpoint::PROTOCOL)).
    pub protocol: crate::ApiV2,
    /// Whether sending it twice acts once ([`Endpoint::IDEMPOTENT`](crate::Endpoint::IDEMPOTENT)).
    pub idempotent: bool,
}

mod table;

pub use table::OPERATIONS;

/// What a test does with each declaration (`table::check_declarations`).
#[cfg(all(test, feature = "v2"))]
pub(crate) trait Check {
    fn check<E: crate::Endpoint>(&mut self, module: &str, name: &str);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::table::NOT_DECLARED;
    use super::*;
    use crate::Host;

    /// The declarations need the `v2` feature; the table is in every build.
    #[cfg(feature = "v2")]
    mod declarations {
        use super::super::table::check_declarations;
        use super::*;
        use crate::{Endpoint, Protocol};

        struct Declarations {
            checked: usize,
            problems: Vec<String>,
        }

        impl Check for Declarations {
            fn check<E: Endpoint>(&mut self, module: &str, name: &str) {
                self.checked += 1;
                let Some(entry) = OPERATIONS
                    .iter()
                    .find(|op| op.module == module && op.name == name)
                else {
                    self.problems.push(format!("{module}::{name} has no entry"));
                    return;
                };
                let method = E::METHOD;
                let declared = (
                    method.as_str(),
                    E::PATH_TEMPLATE,
                    E::HOST,
                    E::PROTOCOL,
                    E::IDEMPOTENT,
                );
                let listed = (
                    entry.method,
                    entry.path,
                    entry.host,
                    Protocol::ApiV2(entry.protocol),
                    entry.idempotent,
                );
                if declared != listed {
                    self.problems.push(format!(
                        "{module}::{name}: declared {declared:?}, listed {listed:?}"
                    ));
                }
            }
        }

        #[test]
        fn every_entry_matches_its_declaration() {
            let mut declarations = Declarations {
                checked: 0,
                problems: Vec::new(),
            };
            check_declarations(&mut declarations);
            assert!(
                declarations.problems.is_empty(),
                "{}",
                declarations.problems.join("\n")
            );
            assert_eq!(declarations.checked, OPERATIONS.len());
        }
    }

    /// The checked-in names (which `cargo xtask codegen --check` holds equal to the spec's
    /// `openapi/v2/` operations) against the catalog: each operation is declared or listed as
    /// not declared, with its reason.
    #[test]
    fn every_operation_of_the_spec_is_declared_or_listed_as_not_declared() {
        let table = include_str!("../../../xtask/operations_v2.tsv");
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
        assert_eq!(declared.len(), OPERATIONS.len(), "one entry per operation");
        let covered: BTreeSet<_> = declared.union(&missing).copied().collect();
        assert_eq!(covered, spec);
        assert_eq!(spec.len(), 136);
    }

    /// The spec's counts, as issue 26 states them: 57 operations need the client certificate,
    /// 5 live on another host; the hosts by path. Every operation is declared.
    #[test]
    fn certificates_and_hosts_follow_the_spec() {
        let cert = OPERATIONS
            .iter()
            .filter(|op| op.protocol.client_certificate)
            .count();
        assert_eq!(cert, 57, "57 in the spec");
        assert!(NOT_DECLARED.is_empty(), "{NOT_DECLARED:?}");
        assert_eq!(OPERATIONS.len(), 136);
        for op in OPERATIONS {
            let want = match op.path {
                "/risk/getpublickey" | "/secsvc/getrealnameinfo" | "/secsvc/realnameauth" => {
                    Host::Fraud
                }
                "/face/get_wxpayface_authinfo" => Host::Payapp,
                "/appauth/authindex" => Host::PayappMch,
                _ => Host::Api,
            };
            assert_eq!(op.host, want, "{} {}", op.module, op.name);
        }
    }

    /// Answers the platform sends unsigned, by family: red packets, payouts, bills, keys.
    #[test]
    fn the_known_unsigned_families_are_declared_unsigned() {
        for path in [
            "/mmpaymkttransfers/sendredpack",
            "/mmpaymkttransfers/sendgroupredpack",
            "/mmpaymkttransfers/sendminiprogramhb",
            "/mmpaymkttransfers/gethbinfo",
            "/mmpaymkttransfers/promotion/transfers",
            "/mmpaymkttransfers/gettransferinfo",
            "/mmpaysptrans/query_bank",
            "/pay/downloadbill",
            "/pay/downloadfundflow",
            "/risk/getpublickey",
            "/sandboxnew/pay/getsignkey",
        ] {
            let op = OPERATIONS
                .iter()
                .find(|op| op.path == path)
                .unwrap_or_else(|| panic!("{path} is declared"));
            assert!(!op.protocol.signed_answer, "{path}");
        }
        let signed = OPERATIONS
            .iter()
            .find(|op| op.path == "/pay/orderquery")
            .map(|op| op.protocol.signed_answer);
        assert_eq!(signed, Some(true));
    }
}
