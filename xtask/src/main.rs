//! `cargo xtask codegen [--check] [--spec DIR] [--add-names]`: generates `wxpay::apis` from
//! the APIv3 spec (see xtask/README.md). `cargo xtask renames OLD_APIS_DIR`: what the
//! checked-in catalog renamed against an older one.

mod apiv2;
mod cases;
mod catalog;
mod emit;
mod events;
mod fixes;
mod model;
mod names;
mod naming;
mod sandbox;
mod sandbox_v2;
mod spec;
mod variants;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use model::{Module, Skipped};

/// Cargo features by the first segment of a module path. Modules with a hand-written part or
/// an operation of the default build are always compiled, but only the hand-written part and
/// the `default` operations (with the types they use) without the feature; everything else
/// sits behind its group's feature.
const GROUPS: &[(&str, &[&str])] = &[
    ("pay", &["pay", "combine_transactions", "transaction_block"]),
    ("refund", &["refund"]),
    ("bill", &["bill", "billdownload"]),
    (
        "marketing",
        &[
            "marketing",
            "multiuse",
            "discount_card",
            "businesscircle",
            "goldplan",
            "smartguide",
            "industry_coupon",
            "industry_rebate",
            "rate_activity",
            "lovefeast",
        ],
    ),
    ("brand", &["brand", "brand_basic"]),
    ("profitsharing", &["profitsharing"]),
    (
        "transfer",
        &[
            "transfer",
            "partner_transfer",
            "bank_transfer",
            "bank_batch_transfer",
            "transfer_detail",
            "transferdownload",
            "fund_app",
            "funds_to_oversea",
            "payroll_card",
        ],
    ),
    ("ecommerce", &["ecommerce"]),
    ("payscore", &["payscore"]),
    (
        "papay",
        &[
            "papay",
            "partner_papay",
            "edu_papay",
            "password_exempt_contract",
            "credit_repayment",
            "repayment",
        ],
    ),
    ("global", &["global", "hk"]),
    (
        "merchant",
        &[
            "merchant",
            "merchant_service",
            "applyment4sub",
            "apply4sub",
            "apply4subject",
            "mchalterapply",
            "merchant_risk_manage",
            "merchant_store",
            "mch_manage",
            "mch_operation_manage",
            "mch_operate",
            "compliance",
            "capital",
            "merchantfund",
            "merchant_settlement",
            "abnormal_fund_processing",
            "realname",
            "certificates",
            "security",
        ],
    ),
    ("platsolution", &["platsolution"]),
    ("fapiao", &["new_tax_control_fapiao", "taxi_invoice"]),
    (
        "face",
        &[
            "offlineface",
            "offlinefacemch",
            "facemch",
            "palmservice",
            "pay_devices",
        ],
    ),
    ("education", &["edu_star", "eduschoolpay"]),
    (
        "mobility",
        &["parking", "vehicle", "ebike", "hire_power_bank", "express"],
    ),
    (
        "industry",
        &[
            "gov",
            "med_ins",
            "catering",
            "inspolicymgr",
            "iotmanage",
            "qrcode",
            "recharge",
            "webizpay",
            "aggracct_bc",
        ],
    ),
];

/// Type names the generated code (and the macros' expansions) refer to unqualified.
pub(crate) const PRELUDE: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "From",
    "Into",
    "Default",
    "Clone",
    "Copy",
    "Debug",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "ToOwned",
    "ToString",
    "Iterator",
    "PartialEq",
    "Eq",
    "Serialize",
    "Deserialize",
    "OffsetDateTime",
    "SensitiveString",
    "Self",
    "Value",
];

struct Args {
    check: bool,
    add_names: bool,
    spec: PathBuf,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("codegen") => {}
        Some(other) => {
            return Err(format!(
                "unknown task `{other}`; the tasks are `codegen` and `renames`"
            ));
        }
        None => {
            return Err("usage: cargo xtask codegen [--check] [--spec DIR] [--add-names]".into());
        }
    }
    let root = workspace_root();
    let mut parsed = Args {
        check: false,
        add_names: false,
        spec: root.join("../shared/apiv3"),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => parsed.check = true,
            "--add-names" => parsed.add_names = true,
            "--spec" => {
                parsed.spec = args
                    .next()
                    .map(PathBuf::from)
                    .ok_or("--spec needs a directory")?;
            }
            other => return Err(format!("unknown flag `{other}`")),
        }
    }
    Ok(parsed)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn run() -> Result<(), String> {
    if std::env::args().nth(1).as_deref() == Some("renames") {
        return renames();
    }
    let args = parse_args()?;
    let root = workspace_root();
    let mut spec = spec::load(&args.spec).map_err(|e| {
        format!(
            "{e}\n(the spec is read from {}; pass --spec DIR)",
            args.spec.display()
        )
    })?;
    fixes::apply(&mut spec)?;
    let rows: Vec<_> = spec.operations.iter().map(|o| o.row.clone()).collect();

    let table_path = root.join("xtask/operations.tsv");
    let mut entries = match fs::read_to_string(&table_path) {
        Ok(text) => names::parse(&text)?,
        Err(_) => Vec::new(),
    };
    if args.add_names {
        let mut counts = BTreeMap::new();
        for row in &rows {
            if let Some(first) = names::segments(&row.path).first() {
                *counts.entry(first.clone()).or_insert(0) += 1;
            }
        }
        let known: BTreeSet<_> = entries
            .iter()
            .map(|e| (e.method.clone(), e.path.clone()))
            .collect();
        for row in &rows {
            if !known.contains(&(row.method.clone(), row.path.clone())) {
                let mut entry = names::suggest(row, &counts);
                let base = entry.name.clone();
                let mut n = 2;
                while entries
                    .iter()
                    .any(|e| e.module == entry.module && e.name == entry.name)
                {
                    entry.name = format!("{base}{n}");
                    n += 1;
                }
                entries.push(entry);
            }
        }
        // A partner operation takes its direct twin's name: `partner::CreateJsapiOrder`.
        let twins: BTreeMap<(String, String), String> = entries
            .iter()
            .map(|e| ((e.method.clone(), e.path.clone()), e.name.clone()))
            .collect();
        for entry in entries
            .iter_mut()
            .filter(|e| !known.contains(&(e.method.clone(), e.path.clone())))
        {
            let direct = entry.path.replacen("/partner/", "/", 1);
            if let Some(name) = twins.get(&(entry.method.clone(), direct)) {
                entry.name = name.clone();
            }
        }
        entries
            .sort_by(|a, b| (&a.module, &a.path, &a.method).cmp(&(&b.module, &b.path, &b.method)));
        fs::write(&table_path, names::render(&entries))
            .map_err(|e| format!("cannot write {}: {e}", table_path.display()))?;
    }
    names::check(&entries, &rows)?;

    let events = events::load(&root, &args.spec)?;
    let mut files = generate(&root, &spec, &entries, &events)?;
    // APIv2: the sandbox's table, from the spec's `openapi/v2` files.
    let v2 = sandbox_v2::table(&args.spec, &spec.version)?;
    files.files.insert(
        root.join("wxpay-sandbox/src/spec/v2.rs"),
        rustfmt(&v2.text)?,
    );
    files.summary.push_str(&format!(
        "  sandbox APIv2: {} operations, {} with a client certificate, {} answered unsigned\n",
        v2.operations, v2.cert, v2.unsigned_answers
    ));
    // APIv2: the catalog `wxpay::apis::v2`, behind the `v2` feature.
    let catalog_v2 = apiv2::generate(&root, &args.spec, &spec.version, &rustfmt)?;
    files.files.extend(catalog_v2.files);
    files.summary.push_str(&catalog_v2.summary);
    files.features.insert("v2".to_owned());
    check_features(&root, &files.features)?;
    if args.check {
        let mut stale = Vec::new();
        for (path, text) in &files.files {
            if fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
                stale.push(
                    path.strip_prefix(&root)
                        .unwrap_or(path)
                        .display()
                        .to_string(),
                );
            }
        }
        for path in generated_files(&root) {
            if !files.files.contains_key(&path) {
                stale.push(format!("{} (no longer generated)", path.display()));
            }
        }
        if !stale.is_empty() {
            return Err(format!(
                "the checked-in catalog differs from the spec; run `cargo xtask codegen`:\n  {}",
                stale.join("\n  ")
            ));
        }
        println!("catalog up to date: {}", files.summary);
    } else {
        for path in generated_files(&root) {
            if !files.files.contains_key(&path) {
                fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        for (path, text) in &files.files {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            if fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
                fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        println!("generated: {}", files.summary);
    }
    for (op, reason) in &files.skipped.reasons {
        eprintln!("note: {op}: not declared: {reason}");
    }
    for (op, defect) in &files.skipped.defects {
        eprintln!("note: {op}: spec defect: {defect}");
    }
    Ok(())
}

/// `cargo xtask renames OLD_APIS_DIR`: the catalog's renames from an older `src/apis` (a
/// checkout's, or `git archive <rev> src/apis`) to the checked-in one, as CHANGELOG lines.
fn renames() -> Result<(), String> {
    let old = std::env::args()
        .nth(2)
        .map(PathBuf::from)
        .ok_or("usage: cargo xtask renames OLD_APIS_DIR (an older src/apis)")?;
    let old = catalog::read(&old);
    let new = catalog::read(&workspace_root().join("src/apis"));
    if old.is_empty() || new.is_empty() {
        return Err("no generated modules found".into());
    }
    let found = catalog::renames(&old, &new);
    let mut by_old: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (module, a, b) in &found.types {
        by_old.entry((module, a)).or_default().push(b);
    }
    for ((module, a), to) in &by_old {
        let to: Vec<String> = to.iter().map(|b| format!("`{module}::{b}`")).collect();
        println!("- `{module}::{a}` → {}", to.join(", "));
    }
    let mut by_enum: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for (module, e, a, b) in &found.variants {
        by_enum
            .entry((module, e))
            .or_default()
            .push(format!("`{a}` → `{b}`"));
    }
    if !by_enum.is_empty() {
        println!("\nVariants (wire values unchanged):\n");
    }
    for ((module, e), list) in &by_enum {
        println!("- `{module}::{e}`: {}", list.join(", "));
    }
    for (module, a) in &found.unpaired {
        eprintln!("note: `{module}::{a}` is paired with no new type (no longer used?)");
    }
    eprintln!(
        "{} type renames, {} variant renames in {} enums",
        by_old.len(),
        found.variants.len(),
        by_enum.len()
    );
    Ok(())
}

struct Output {
    files: BTreeMap<PathBuf, String>,
    features: BTreeSet<String>,
    skipped: Skipped,
    summary: String,
}

fn feature_of(module: &str) -> Result<&'static str, String> {
    let first = module.split("::").next().unwrap_or("");
    GROUPS
        .iter()
        .find(|(_, firsts)| firsts.contains(&first))
        .map(|(feature, _)| *feature)
        .ok_or_else(|| {
            format!("module `{module}`: its first segment is in no feature group (xtask GROUPS)")
        })
}

fn generate(
    root: &Path,
    spec: &spec::Spec,
    entries: &[names::Entry],
    events: &events::Table,
) -> Result<Output, String> {
    let apis = root.join("src/apis");
    let by_key: BTreeMap<(&str, &str), &spec::Operation> = spec
        .operations
        .iter()
        .map(|o| ((o.row.method.as_str(), o.row.path.as_str()), o))
        .collect();
    let mut modules: BTreeMap<String, Module> = BTreeMap::new();
    let mut manual_modules = BTreeSet::new();
    let mut skipped = Skipped::default();
    let mut sorted: Vec<&names::Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| (&a.module, &a.path, &a.method).cmp(&(&b.module, &b.path, &b.method)));
    for entry in &sorted {
        let dir = module_dir(&apis, &entry.module);
        if dir.join("manual.rs").exists() {
            manual_modules.insert(entry.module.clone());
        }
        let module = modules.entry(entry.module.clone()).or_insert_with(|| {
            let mut reserved = reserved_names(&dir.join("manual.rs"));
            // Names of the prelude and of the module's requests are never a nested type's.
            reserved.extend(PRELUDE.iter().map(|n| (*n).to_owned()));
            reserved.extend(
                entries
                    .iter()
                    .filter(|e| e.module == entry.module)
                    .map(|e| e.name.clone()),
            );
            let mut module = Module::new(entry.module.clone(), reserved);
            module.pinned = identifiers(&dir.join("manual.rs"));
            module
        });
        if entry.manual {
            continue;
        }
        let op = by_key[&(entry.method.as_str(), entry.path.as_str())];
        if let Some(built) = model::build_op(module, op, entry, &mut skipped) {
            module.ops.push(built);
        }
    }
    let conflicts: Vec<&String> = modules.values().flat_map(|m| &m.conflicts).collect();
    if !conflicts.is_empty() {
        return Err(format!(
            "shared answers (model::ANSWER_NAMES) or enum_codes.tsv:\n  {}",
            conflicts
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        ));
    }
    // The variant tables name only values the spec still has.
    let stale = variants::stale(modules.values().flat_map(|m| {
        let fields = m
            .ops
            .iter()
            .flat_map(|op| &op.fields)
            .chain(m.structs.iter().flat_map(|s| &s.fields));
        fields.flat_map(move |f| {
            let mut ty = &f.ty;
            while let model::Ty::Vec(inner) = ty {
                ty = inner;
            }
            let values = match ty {
                model::Ty::Named(name) => m.enums.iter().find(|e| e.name == *name),
                _ => None,
            };
            values
                .into_iter()
                .flat_map(|e| &e.variants)
                .map(move |(_, value, _)| (f.wire.as_str(), value.as_str()))
        })
    }));
    let mut stale = stale;
    stale.extend(model::stale_time_rows(modules.values()));
    if !stale.is_empty() {
        return Err(format!(
            "lines no enum value or time field uses any more (remove them):\n  {}",
            stale.join("\n  ")
        ));
    }
    // Every use of every shape is known: name the shapes again (naming.rs).
    let mut renamed = naming::Counts::default();
    // Parents first (a partner module takes its direct twin's names): the map's order.
    let paths: Vec<String> = modules.keys().cloned().collect();
    for path in &paths {
        let Some(mut module) = modules.remove(path) else {
            continue;
        };
        let parent = path
            .strip_suffix("::partner")
            .and_then(|parent| modules.get(parent));
        let counts = naming::rename(&mut module, parent);
        modules.insert(path.clone(), module);
        renamed.renamed += counts.renamed;
        renamed.labelled += counts.labelled;
        renamed.merged += counts.merged;
    }
    // A partner module's types that are its direct twin's are declared once, in the twin.
    let partners: Vec<String> = modules
        .keys()
        .filter(|m| m.ends_with("::partner"))
        .cloned()
        .collect();
    for path in &partners {
        // Out of the map for a moment, to borrow it beside its parent.
        let Some(mut child) = modules.remove(path) else {
            continue;
        };
        if let Some(parent) = modules.get_mut(path.trim_end_matches("::partner")) {
            model::share_with_parent(parent, &mut child);
        }
        modules.insert(path.clone(), child);
    }
    // Every ancestor of a module is a module too.
    let all: Vec<String> = modules.keys().cloned().collect();
    for path in all {
        let mut parts: Vec<&str> = path.split("::").collect();
        while parts.len() > 1 {
            parts.pop();
            let parent = parts.join("::");
            modules
                .entry(parent.clone())
                .or_insert_with(|| Module::new(parent, BTreeSet::new()));
        }
    }
    // The types notifications decode into serialize too (events.rs).
    events::mark_serialized(events, &mut modules)?;
    // Modules that are always compiled: those with an operation of the default build or one
    // declared by hand. A `manual.rs` of helpers alone is compiled with its module.
    let mut kept: BTreeSet<String> = entries
        .iter()
        .filter(|e| e.manual)
        .map(|e| e.module.clone())
        .collect();
    for (m, module) in &modules {
        if module_dir(&apis, m).join("manual.rs").exists() {
            manual_modules.insert(m.clone());
        }
        if module.ops.iter().any(|op| op.entry.default) {
            kept.insert(m.clone());
        }
    }
    // … and so is every module around one of those.
    let always = |m: &str| {
        kept.iter()
            .any(|kept| kept == m || kept.starts_with(&format!("{m}::")))
    };
    let mut files = BTreeMap::new();
    let mut features = BTreeSet::new();
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (path, module) in &modules {
        let feature = feature_of(path)?;
        features.insert(feature.to_owned());
        let entry = counts.entry(feature).or_default();
        entry.0 += module.ops.len();
        entry.1 += module.declared_structs().count() + module.declared_enums().count();
        let children: Vec<emit::Child> = modules
            .keys()
            .filter(|child| {
                child
                    .strip_prefix(&format!("{path}::"))
                    .is_some_and(|rest| !rest.contains("::"))
            })
            .map(|child| emit::Child {
                name: child.rsplit("::").next().unwrap_or(child).to_owned(),
                gate: (always(path) && !always(child)).then(|| feature.to_owned()),
            })
            .collect();
        let doc = module_doc(module, feature, always(path));
        let text = emit::module_file(&emit::ModuleFile {
            module,
            doc,
            children,
            manual: manual_modules.contains(path),
            manual_exports: manual_exports(&module_dir(&apis, path).join("manual.rs")),
            items_gate: always(path).then_some(feature),
            in_default: model::default_items(module, &shared_roots(&modules, path)),
            version: &spec.version,
        });
        files.insert(module_dir(&apis, path).join("mod.rs"), rustfmt(&text)?);
    }
    // The tests: one file per feature group.
    let mut groups: BTreeMap<String, String> = BTreeMap::new();
    for (path, module) in &modules {
        if module.ops.is_empty() && module.enums.is_empty() {
            continue;
        }
        // Every generated item sits behind its group's feature, also in always-compiled modules.
        let group = feature_of(path)?.to_owned();
        groups
            .entry(group)
            .or_default()
            .push_str(&cases::module_cases(module));
    }
    let tests = root.join("tests/it/catalog");
    let mut main_text = emit::header(&spec.version);
    main_text.push_str(
        "//! Every generated operation, built and written as it goes on the wire, checked against \
         the spec\n//! (xtask/src/cases.rs says how); its example answer decoded; every enum value known.\n\n\
         #![allow(deprecated)]\n\n",
    );
    let any: Vec<String> = groups
        .keys()
        .map(|g| format!("feature = \"{g}\""))
        .collect();
    main_text.push_str(&format!(
        "#[cfg(any({}))]\nmod harness;\n\n",
        any.join(", ")
    ));
    for (group, text) in &groups {
        main_text.push_str(&format!("#[cfg(feature = \"{group}\")]\n"));
        main_text.push_str(&format!("mod {group};\n"));
        let mut file = emit::header(&spec.version);
        file.push_str(text);
        files.insert(tests.join(format!("{group}.rs")), rustfmt(&file)?);
    }
    // APIv2's cases (apiv2.rs), with a hand-written harness beside them.
    main_text.push_str("#[cfg(feature = \"v2\")]\nmod v2;\n");
    files.insert(tests.join("mod.rs"), rustfmt(&main_text)?);
    files.insert(
        root.join("wxpay-sandbox/src/spec/table.rs"),
        rustfmt(&sandbox::table(&spec.version, &modules))?,
    );

    // The root: its top-level modules, each behind its feature unless always compiled.
    let mut root_text = emit::header(&spec.version);
    root_text.push_str(ROOT_DOC);
    for path in modules.keys().filter(|m| !m.contains("::")) {
        if !always(path) {
            let feature = feature_of(path)?;
            root_text.push_str(&format!(
                "#[cfg(feature = \"{feature}\")]\n#[cfg_attr(docsrs, doc(cfg(feature = \"{feature}\")))]\n"
            ));
        }
        root_text.push_str(&format!("pub mod {path};\n"));
    }
    // Always compiled: its operations table is in every build (its modules are behind `v2`).
    root_text.push_str("pub mod v2;\n");
    files.insert(apis.join("mod.rs"), rustfmt(&root_text)?);
    files.insert(
        apis.join("operations/table.rs"),
        rustfmt(&operations_table(
            &spec.version,
            entries,
            &by_key,
            &modules,
            &skipped,
        )?)?,
    );
    // Notifications: `EventType`, `Event` and the sandbox's examples, from xtask/events.tsv.
    let gate = |path: &str, name: &str| events::gate(&modules, &always, path, name);
    events::emit(events, &spec.version, root, &modules, &gate, &mut files)?;
    let ops: usize = modules.values().map(|m| m.ops.len()).sum();
    let types: usize = modules.values().map(|m| m.declared_structs().count()).sum();
    let enums: usize = modules.values().map(|m| m.declared_enums().count()).sum();
    let lines: usize = files.values().map(|t| t.lines().count()).sum();
    let mut summary = format!(
        "{ops} generated operations ({} of them in the default build; {} by hand, {} not generated), \
         {types} structs, {enums} enums, {} modules, {lines} lines\n",
        entries.iter().filter(|e| e.default).count(),
        entries.iter().filter(|e| e.manual).count(),
        entries.len() - ops - entries.iter().filter(|e| e.manual).count(),
        modules.len()
    );
    summary.push_str(&format!(
        "  naming pass: {} types named again once all their uses were known, {} labelled from \
         their field, {} made one with a type identical on the wire\n",
        renamed.renamed, renamed.labelled, renamed.merged
    ));
    summary.push_str(&events::summary(events));
    for (feature, (ops, types)) in &counts {
        summary.push_str(&format!("  {feature}: {ops} operations, {types} types\n"));
    }
    Ok(Output {
        files,
        features,
        skipped,
        summary,
    })
}

const ROOT_DOC: &str = r#"//! The endpoint catalog: every APIv3 operation declared with [`endpoint`](crate::endpoint),
//! one module per product path of the URL, partner (服务商) operations in a `partner`
//! submodule beside their direct twins.
//!
//! Conventions: requests are named verb + object (`PauseStock`), answers `<Request>Response`
//! or a shared domain type (`Stock`); amounts are integers in fen; times are
//! [`OffsetDateTime`](time::OffsetDateTime) with their offset; enums keep values they do not
//! know in an `Unknown(String)` variant so a new value from the platform never breaks decoding.
//!
//! The modules of the default build are always compiled; every other product group is a cargo
//! feature (`profitsharing`, `transfer`, `ecommerce`, …), and `full` enables them all.

/// Declares a string enum of the platform with an `Unknown(String)` fallback (the runtime's
/// macro, so notification and catalog enums behave alike).
macro_rules! platform_enum {
    ($($item:tt)*) => { ::wxpay_core::__platform_enum! { $($item)* } };
}

mod manual;
mod operations;

pub use operations::{Content, OPERATIONS, Operation};

"#;

/// The types of module `path` that its partner module's default operations use (shared).
fn shared_roots(modules: &BTreeMap<String, Module>, path: &str) -> BTreeSet<String> {
    modules
        .get(&format!("{path}::partner"))
        .map(|child| {
            model::default_items(child, &BTreeSet::new())
                .intersection(&child.shared)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn module_doc(module: &Module, feature: &str, always: bool) -> String {
    let mut tags: BTreeMap<&str, usize> = BTreeMap::new();
    for op in &module.ops {
        *tags.entry(op.row.tags.as_str()).or_default() += 1;
    }
    let tag = tags
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(t, _)| *t)
        .unwrap_or("");
    // The longest common prefix of the operations' paths, on segment boundaries.
    let mut prefix: Vec<&str> = Vec::new();
    if let Some(first) = module.ops.first() {
        prefix = first.entry.path.split('/').collect();
        for op in &module.ops {
            let common = prefix
                .iter()
                .zip(op.entry.path.split('/'))
                .take_while(|(a, b)| *a == b && !b.starts_with('{'))
                .count();
            prefix.truncate(common);
        }
    }
    let prefix = format!("{}/", prefix.join("/"));
    let mut doc = String::new();
    if !tag.is_empty() {
        doc.push_str(&format!("{tag} (`{prefix}…`)."));
    } else {
        doc.push_str(&format!(
            "The `{}` operations.",
            module.path.replace("::", "/")
        ));
    }
    if !always {
        doc.push_str(&format!("\n\nEnabled by the `{feature}` feature."));
    }
    doc
}

fn operations_table(
    version: &str,
    entries: &[names::Entry],
    by_key: &BTreeMap<(&str, &str), &spec::Operation>,
    modules: &BTreeMap<String, Module>,
    skipped: &Skipped,
) -> Result<String, String> {
    let mut out = emit::header(version);
    out.push_str(OPERATIONS_DOC);
    let mut table = String::new();
    let mut checks = String::new();
    let mut sorted: Vec<&names::Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    for e in sorted {
        let generated = modules
            .get(&e.module)
            .is_some_and(|m| m.ops.iter().any(|o| o.entry == *e));
        if !e.manual && !generated {
            continue;
        }
        let op = by_key[&(e.method.as_str(), e.path.as_str())];
        // Every entry is in every build (tools such as the command line call any operation
        // through the dynamic client, from this data alone); only the check of a declaration
        // is gated by its group's feature.
        let (gate, feature, declared) = if e.manual || e.default {
            (String::new(), "None".to_owned(), "true".to_owned())
        } else {
            let feature = feature_of(&e.module)?;
            (
                format!("#[cfg(feature = \"{feature}\")]\n"),
                format!("Some({feature:?})"),
                format!("cfg!(feature = {feature:?})"),
            )
        };
        let quoted = |paths: Vec<String>| {
            paths
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let body: Vec<String> = op
            .row
            .encrypted_request
            .iter()
            .filter(|p| !p.starts_with("query:"))
            .map(|p| p.replace("[]", ""))
            .collect();
        let query: Vec<String> = op
            .row
            .encrypted_request
            .iter()
            .filter_map(|p| p.strip_prefix("query:").map(str::to_owned))
            .collect();
        let host = match model::host_of(&op.row.scope)? {
            Some(key) => variant_of_host(key),
            None => "Api".to_owned(),
        };
        let content = if op.row.content == "multipart" {
            "Multipart"
        } else {
            "Json"
        };
        // Some rows hold a title where the link belongs.
        let link = if op.row.doc_link.starts_with("https://") {
            op.row.doc_link.as_str()
        } else {
            ""
        };
        table.push_str(&format!(
            "Operation {{ name: {:?}, module: {:?}, method: {:?}, path: {:?}, title: {:?}, \
             link: {link:?}, host: Host::{host}, encrypted: &[{}], encrypted_query: &[{}], \
             content: Content::{content}, feature: {feature}, declared: {declared} }},\n",
            e.name,
            e.module,
            e.method,
            e.path,
            op.row.title,
            quoted(body),
            quoted(query),
        ));
        let ty = format!("crate::apis::{}::{}", e.module, e.name);
        checks.push_str(&format!(
            "{gate}check({:?}, <{ty} as crate::Endpoint>::METHOD.as_str(), <{ty} as crate::Endpoint>::PATH_TEMPLATE, <{ty} as crate::Endpoint>::HOST);\n",
            e.name
        ));
    }
    out.push_str(&format!(
        "pub static OPERATIONS: &[Operation] = &[\n{table}];\n\n\
         /// Calls `check` with each entry's name and its declaration's method, path template\n\
         /// and host (the deprecated ones too).\n\
         #[cfg(test)]\n#[allow(deprecated)]\npub(crate) fn check_declarations(check: &mut dyn FnMut(&str, &str, &str, crate::Host)) {{\n{checks}}}\n\n"
    ));
    out.push_str(
        "/// The operations of the spec the catalog does not declare yet, and why.\n\
         #[cfg(all(test, feature = \"full\"))]\npub(crate) static NOT_DECLARED: &[(&str, &str, &str)] = &[\n",
    );
    for (key, reason) in &skipped.reasons {
        if let Some((method, path)) = key.split_once(' ') {
            out.push_str(&format!("({method:?}, {path:?}, {reason:?}),\n"));
        }
    }
    out.push_str("];\n");
    Ok(out)
}

const OPERATIONS_DOC: &str = r#"//! Every operation of the spec that the catalog declares.

use super::{Content, Operation};
use crate::Host;

/// The catalog as data: every operation of [`crate::apis`], whichever features this build
/// enables ([`Operation::declared`] says whether its type is compiled in), for tools that pick
/// an operation at run time (the `wxpay` command line, a dynamic router, documentation).
///
/// Each entry names the Rust type, its method and path template in the documented `{name}`
/// form (what [`Client::request`](crate::Client::request) takes), the official Chinese title
/// and link, the host that serves it, and the fields that must be encrypted with the platform
/// key. A test checks every entry against its declaration's
/// [`Endpoint::METHOD`](crate::Endpoint::METHOD),
/// [`Endpoint::PATH_TEMPLATE`](crate::Endpoint::PATH_TEMPLATE) and
/// [`Endpoint::HOST`](crate::Endpoint::HOST), and that every declaration
/// has an entry, so the table cannot drift from the catalog.
///
/// ```
/// let pause = wxpay::apis::OPERATIONS.iter().find(|op| op.name == "PauseStock").unwrap();
/// assert_eq!(pause.method, "POST");
/// assert_eq!(pause.path, "/v3/marketing/favor/stocks/{stock_id}/pause");
/// assert_eq!(pause.host, wxpay::Host::Api);
/// ```
"#;

/// `apihk` → `Apihk`: the runtime's `Host` variant of a host key.
fn variant_of_host(key: &str) -> String {
    let mut chars = key.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn module_dir(apis: &Path, module: &str) -> PathBuf {
    module
        .split("::")
        .fold(apis.to_path_buf(), |dir, part| dir.join(part))
}

/// Type names a hand-written `manual.rs` defines, so generated types do not shadow them.
fn reserved_names(manual: &Path) -> BTreeSet<String> {
    let Ok(text) = fs::read_to_string(manual) else {
        return BTreeSet::new();
    };
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix("pub struct ")
                .or_else(|| line.strip_prefix("pub enum "))?;
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

/// Every identifier a hand-written `manual.rs` writes: the generated types it extends or
/// uses keep their names (and are not merged away).
fn identifiers(manual: &Path) -> BTreeSet<String> {
    let Ok(text) = fs::read_to_string(manual) else {
        return BTreeSet::new();
    };
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(str::to_owned)
        .collect()
}

/// Whether a hand-written `manual.rs` has public items (a top-level `pub …` line), not only
/// `impl` blocks extending the generated types.
fn manual_exports(manual: &Path) -> bool {
    fs::read_to_string(manual).is_ok_and(|text| text.lines().any(|l| l.starts_with("pub ")))
}

/// The generated files on disk: what the generator owns and may delete.
fn generated_files(root: &Path) -> Vec<PathBuf> {
    let mut found = generated_on_disk(&root.join("src/apis"));
    found.extend(generated_on_disk(&root.join("tests/it/catalog")));
    found.extend(generated_on_disk(&root.join("wxpay-sandbox/src/spec")));
    found
}

fn generated_on_disk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(generated_on_disk(&path));
        } else if fs::read_to_string(&path)
            .is_ok_and(|text| text.starts_with("// @generated by `cargo xtask codegen`"))
        {
            found.push(path);
        }
    }
    found
}

fn check_features(root: &Path, features: &BTreeSet<String>) -> Result<(), String> {
    let manifest = fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    let missing: Vec<&String> = features
        .iter()
        .filter(|f| !manifest.lines().any(|l| l.starts_with(&format!("{f} = "))))
        .collect();
    let full = manifest
        .lines()
        .find(|l| l.starts_with("full = "))
        .unwrap_or("");
    let not_in_full: Vec<&String> = features
        .iter()
        .filter(|f| !full.contains(&format!("\"{f}\"")))
        .collect();
    if missing.is_empty() && not_in_full.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "Cargo.toml [features]: missing {missing:?}; not in `full`: {not_in_full:?}"
        ))
    }
}

/// rustfmt, to its fixed point: on some long expressions a second pass still changes the
/// text, and `cargo fmt --check` must find nothing to change in generated files.
fn rustfmt(source: &str) -> Result<String, String> {
    let mut text = rustfmt_once(source)?;
    for _ in 0..3 {
        let again = rustfmt_once(&text)?;
        if again == text {
            break;
        }
        text = again;
    }
    Ok(text)
}

fn rustfmt_once(source: &str) -> Result<String, String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("rustfmt has no stdin")?
        .write_all(source.as_bytes())
        .map_err(|e| format!("rustfmt: {e}"))?;
    let output = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !output.status.success() {
        let mut numbered = String::new();
        for (i, line) in source.lines().enumerate().take(4000) {
            numbered.push_str(&format!("{:5} {line}\n", i + 1));
        }
        let _ = fs::write("/tmp/xtask-unformatted.rs", numbered);
        return Err(format!(
            "rustfmt refused generated code (see /tmp/xtask-unformatted.rs):\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("rustfmt: {e}"))
}
