//! The second naming pass. Building a module names each nested type when an operation first
//! meets it; once every operation is built, every use of each shape is known and this pass
//! names them again, the way an author would:
//!
//! 1. A type takes the name of the field that holds it (`amount` → `Amount`, a list's item in
//!    the singular: `sub_orders` → `SubOrder`), when no other type wants that name more: the
//!    shape that more operations reach wins it.
//! 2. Otherwise, or when the field's name says too little (`data`, `status`, `type`, …), the
//!    name is qualified by what owns the type: the one owner (`TransactionAmount`,
//!    `RefundStatus`, an operation's own `CreateCodepayOrderPayer`), or the object the owners'
//!    operations have in common (`QueryRefundByRefundId`, `QueryRefundByOutRefundNo` →
//!    `RefundAmount`); never the name of one operation for a type others use too.
//! 3. A type without a label of its own takes the label of the field it comes from.
//!
//! Requests, answers and names a module's `manual.rs` defines never change.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;

use crate::model::{ANSWER_NAMES, Answer, Module, Ty};

/// Besides [`model::VAGUE`](crate::model::VAGUE): names that say too little for a struct.
const VAGUE_STRUCTS: &[&str] = &[
    "Data", "Info", "Item", "List", "Detail", "Details", "Value", "Content", "Extra", "Param",
    "Params",
];

fn vague(base: &str) -> bool {
    crate::model::VAGUE.contains(&base) || VAGUE_STRUCTS.contains(&base)
}

/// Plural-looking words that are not plurals (or whose singular reads worse).
const NOT_PLURAL: &[&str] = &[
    "goods", "news", "series", "status", "plus", "bonus", "campus", "address", "access",
    "business", "express", "success", "process", "analysis", "basis", "alias", "sms", "gps", "pos",
    "ios", "os", "kyc", "has", "is", "was", "does", "its", "this", "yes",
];

/// Words a request's name starts with (its verb), left out of the object it is about.
const VERBS: &[&str] = &[
    "Create",
    "Query",
    "List",
    "Update",
    "Delete",
    "Get",
    "Apply",
    "Close",
    "Cancel",
    "Modify",
    "Confirm",
    "Complete",
    "Send",
    "Submit",
    "Upload",
    "Download",
    "Pause",
    "Start",
    "Stop",
    "Restart",
    "Return",
    "Unfreeze",
    "Freeze",
    "Finish",
    "Withdraw",
    "Lock",
    "Unlock",
    "Bind",
    "Unbind",
    "Use",
    "Deposit",
    "Terminate",
    "Accept",
    "Reject",
    "Approve",
    "Revoke",
    "Refund",
    "Sync",
    "Notify",
    "Activate",
    "Deactivate",
    "Release",
    "Response",
    "Feedback",
    "Reopen",
    "Resume",
    "Suspend",
    "Retry",
    "Verify",
    "Check",
    "Settle",
    "Associate",
    "Disassociate",
    "Pay",
    "Expire",
    "Reverse",
    "Add",
    "Remove",
    "Set",
    "Batch",
];

/// One place a type is used: a field of an operation's request or of another type.
#[derive(Debug, Clone)]
struct Use {
    /// The request or type whose field it is.
    owner: String,
    /// The field's wire name.
    wire: String,
    label: String,
    /// The field is a list of the type.
    list: bool,
}

/// What the pass did to a module, for the generator's summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub renamed: usize,
    pub labelled: usize,
    /// Types that were the same on the wire as another and are now that one.
    pub merged: usize,
}

fn named(ty: &Ty) -> Option<(&str, bool)> {
    match ty {
        Ty::Vec(inner) => named(inner).map(|(n, _)| (n, true)),
        Ty::Named(name) => Some((name, false)),
        _ => None,
    }
}

fn rename_ty(ty: &mut Ty, map: &BTreeMap<String, String>) {
    match ty {
        Ty::Vec(inner) => rename_ty(inner, map),
        Ty::Named(name) => {
            if let Some(new) = map.get(name) {
                *name = new.clone();
            }
        }
        _ => {}
    }
}

/// The words of an UpperCamel name: `QueryOrderById` → `Query`, `Order`, `By`, `Id`.
fn words(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in name.char_indices().skip(1) {
        if c.is_ascii_uppercase() {
            out.push(&name[start..i]);
            start = i;
        }
    }
    if start < name.len() {
        out.push(&name[start..]);
    }
    out
}

/// A list's item in the singular: `sub_orders` → `sub_order`; `goods` stays.
pub fn singular(wire: &str) -> String {
    let (head, last) = match wire.rfind('_') {
        Some(i) => (&wire[..=i], &wire[i + 1..]),
        None => ("", wire),
    };
    let lower = last.to_ascii_lowercase();
    let one = if NOT_PLURAL.contains(&lower.as_str()) || last.len() <= 3 {
        last.to_owned()
    } else if let Some(stem) = last.strip_suffix("ies") {
        format!("{stem}y")
    } else if ["ches", "shes", "xes", "sses"]
        .iter()
        .any(|s| last.ends_with(s))
    {
        last[..last.len() - 2].to_owned()
    } else if last.ends_with('s') && !last.ends_with("ss") && !last.ends_with("us") {
        last[..last.len() - 1].to_owned()
    } else {
        last.to_owned()
    };
    format!("{head}{one}")
}

/// What a request is about: `QueryRefundByOutRefundNo` → `Refund`, `ListOrders` → `Order`.
fn object(op: &str) -> Vec<String> {
    let mut w = words(op);
    if w.len() > 1 && VERBS.contains(&w[0]) {
        w.remove(0);
    }
    if let Some(by) = w.iter().position(|x| *x == "By")
        && by > 0
    {
        w.truncate(by);
    }
    if w.len() > 1 && w.last() == Some(&"Legacy") {
        w.pop();
    }
    w.iter()
        .map(|s| singular(&s.to_ascii_lowercase()).to_upper_camel_case())
        .collect()
}

/// Renames the module's nested types and enums (see the module doc); returns what it did.
pub fn rename(module: &mut Module, parent: Option<&Module>) -> Counts {
    let merged = merge_identical(module);
    let ops: BTreeSet<String> = module.ops.iter().map(|o| o.entry.name.clone()).collect();
    // Answers keep their names: `<Request>Response`, or a domain object (`Transaction`).
    let answers: BTreeMap<String, BTreeSet<String>> = {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for op in &module.ops {
            if let Answer::Named(name) = &op.answer {
                m.entry(name.clone())
                    .or_default()
                    .insert(op.entry.name.clone());
            }
        }
        m
    };
    let domains: BTreeSet<&str> = ANSWER_NAMES.iter().map(|(_, _, a)| *a).collect();

    // Every use of every type.
    let mut uses: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    for op in &module.ops {
        for f in &op.fields {
            if let Some((name, list)) = named(&f.ty) {
                uses.entry(name.to_owned()).or_default().push(Use {
                    owner: op.entry.name.clone(),
                    wire: f.wire.clone(),
                    label: f.label.clone(),
                    list,
                });
            }
        }
    }
    for s in &module.structs {
        for f in &s.fields {
            if let Some((name, list)) = named(&f.ty) {
                uses.entry(name.to_owned()).or_default().push(Use {
                    owner: s.name.clone(),
                    wire: f.wire.clone(),
                    label: f.label.clone(),
                    list,
                });
            }
        }
    }

    // The requests that reach each type (through their fields or their answers), and how deep.
    let mut reach: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut depth: BTreeMap<String, usize> = BTreeMap::new();
    for (answer, by) in &answers {
        reach.entry(answer.clone()).or_default().extend(by.clone());
        depth.insert(answer.clone(), 0);
    }
    for op in &ops {
        reach.entry(op.clone()).or_default().insert(op.clone());
        depth.insert(op.clone(), 0);
    }
    // Types form no cycles in the spec; the bound guards a spec that would.
    for _ in 0..32 {
        let mut changed = false;
        for (ty, list) in &uses {
            let mut got: BTreeSet<String> = reach.get(ty).cloned().unwrap_or_default();
            // The longest way down: every owner is named before what it owns.
            let mut d = depth.get(ty).copied().unwrap_or(0);
            for u in list {
                if let Some(r) = reach.get(&u.owner) {
                    got.extend(r.iter().cloned());
                }
                if let Some(od) = depth.get(&u.owner) {
                    d = d.max(od + 1);
                }
            }
            if reach.get(ty) != Some(&got) {
                reach.insert(ty.clone(), got);
                changed = true;
            }
            if depth.get(ty) != Some(&d) {
                depth.insert(ty.clone(), d);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    // An answer another type holds too is named for what it is (`ProductCoupon`), unless it
    // is a domain object already or the answer of an operation of the default build.
    let defaults: BTreeSet<&str> = module
        .ops
        .iter()
        .filter(|o| o.entry.default)
        .map(|o| o.entry.name.as_str())
        .collect();
    let nested_answer = |name: &str| {
        let by = &answers[name];
        !domains.contains(name)
            && !by.iter().any(|op| defaults.contains(op.as_str()))
            && uses.get(name).is_some_and(|list| {
                list.iter().any(|u| {
                    !by.iter().any(|op| {
                        u.owner == *op
                            || u.owner
                                .strip_prefix(op.as_str())
                                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_uppercase()))
                    })
                })
            })
    };
    let renamable: Vec<String> = module
        .structs
        .iter()
        .map(|s| s.name.clone())
        .chain(module.enums.iter().map(|e| e.name.clone()))
        .filter(|n| !ops.contains(n) && !module.pinned.contains(n))
        .filter(|n| match answers.get(n) {
            None => uses.contains_key(n),
            // Identical answers made one (`merge_identical`): named for what they are.
            Some(by) => {
                nested_answer(n)
                    || (by.len() > 1
                        && !domains.contains(n.as_str())
                        && !by.iter().any(|op| defaults.contains(op.as_str())))
            }
        })
        .collect();

    // The field name each type takes: the most common among its uses (then the shortest).
    let base_of = |ty: &str| -> String {
        let Some(list) = uses.get(ty) else {
            return answer_base(&answers[ty]);
        };
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for u in list {
            let wire = if u.list {
                singular(&u.wire)
            } else {
                u.wire.clone()
            };
            *counts.entry(wire.to_upper_camel_case()).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by(|(a, x), (b, y)| x.cmp(y).then(b.len().cmp(&a.len())).then(b.cmp(a)))
            .map(|(name, _)| name)
            .filter(|n| n.starts_with(|c: char| c.is_ascii_uppercase()))
            .unwrap_or_else(|| "Item".to_owned())
    };
    let bases: BTreeMap<String, String> =
        renamable.iter().map(|t| (t.clone(), base_of(t))).collect();

    let mut taken: BTreeSet<String> = module.reserved.clone();
    taken.extend(ops.iter().cloned());
    // Every type that keeps its name (answers, names `manual.rs` uses, types no field holds).
    taken.extend(
        module
            .structs
            .iter()
            .map(|s| &s.name)
            .chain(module.enums.iter().map(|e| &e.name))
            .filter(|n| !renamable.contains(n))
            .cloned(),
    );
    let mut names: BTreeMap<String, String> = BTreeMap::new();

    // 0. A partner module's type shaped like its direct twin's takes the twin's name, so
    //    the two are one type (`Module::shared`) and read alike.
    if let Some(parent) = parent {
        // Types of the twin's name first (they were shared before), then the others.
        let mut order: Vec<&String> = renamable.iter().collect();
        order.sort_by_key(|t| {
            let same = parent.structs.iter().any(|s| s.name == **t)
                || parent.enums.iter().any(|e| e.name == **t);
            (!same, (*t).clone())
        });
        for t in order {
            let Some(rough) = rough_shape(module, t) else {
                continue;
            };
            let twin = parent
                .structs
                .iter()
                .map(|s| &s.name)
                .chain(parent.enums.iter().map(|e| &e.name))
                .filter(|p| {
                    p.ends_with(bases[t].as_str())
                        && !taken.contains(*p)
                        && rough_shape(parent, p).as_ref() == Some(&rough)
                        // Not another type's name here (it keeps it), nor named after a
                        // request here that is not the only one using it.
                        && (*p == t || !renamable.contains(p))
                        && ops.iter().all(|op| {
                            !p.strip_prefix(op.as_str()).is_some_and(|r| {
                                r.starts_with(|c: char| c.is_ascii_uppercase())
                            }) || reach.get(t.as_str()).is_some_and(|r| {
                                r.len() == 1 && r.contains(op)
                            })
                        })
                })
                // The parent's type of the same (old) name, else the first that fits.
                .min_by_key(|p| (*p != t, (*p).clone()));
            if let Some(twin) = twin {
                names.insert(t.clone(), twin.clone());
                taken.insert(twin.clone());
            }
        }
    }

    // 1. Bare names: the type most requests reach wins its field's name.
    let mut by_base: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for t in &renamable {
        // An answer only answers: `answer_names` says when its object is its name.
        if !vague(&bases[t]) && uses.contains_key(t) {
            by_base.entry(bases[t].as_str()).or_default().push(t);
        }
    }
    // What a request sends wins over what an answer holds (an application writes the names
    // of the types it builds: `Amount::cny`), what the default build's requests reach over
    // the rest (their names are the oldest), then what more requests reach.
    let serialized: BTreeSet<&str> = module
        .structs
        .iter()
        .filter(|s| s.serialize)
        .map(|s| s.name.as_str())
        .collect();
    let sent = |t: &str| {
        serialized.contains(t)
            || uses.get(t).is_some_and(|u| {
                u.iter()
                    .any(|u| ops.contains(&u.owner) || serialized.contains(u.owner.as_str()))
            })
    };
    let original = |t: &str| {
        reach
            .get(t)
            .is_some_and(|r| r.iter().any(|op| defaults.contains(op.as_str())))
    };
    let rank = |t: &str| {
        (
            sent(t),
            original(t),
            reach.get(t).map_or(0, BTreeSet::len),
            uses.get(t).map_or(0, Vec::len),
        )
    };
    for (base, mut wanting) in by_base {
        wanting.retain(|t| !names.contains_key(*t));
        if taken.contains(base) || wanting.is_empty() {
            continue;
        }
        wanting.sort_by(|a, b| rank(b).cmp(&rank(a)).then(a.cmp(b)));
        // A type a single request reaches leaves the bare name to a rival it ties with: the
        // bare name would read as the module's, not that request's.
        let first = wanting[0];
        let tied = wanting
            .get(1)
            .is_some_and(|second| rank(first) == rank(second));
        if !tied || rank(first).2 > 1 {
            names.insert(first.clone(), base.to_owned());
            taken.insert(base.to_owned());
        }
    }

    // 2. Qualified names, owners before what they own.
    let mut rest: Vec<&String> = renamable
        .iter()
        .filter(|t| !names.contains_key(*t))
        .collect();
    rest.sort_by_key(|t| (depth.get(*t).copied().unwrap_or(0), (*t).clone()));
    for t in rest {
        let base = &bases[t];
        // What each owner is called once renamed, and the request it belongs to, if one.
        let owner_prefix = |owner: &str| -> (String, bool) {
            let current = names.get(owner).map_or(owner, String::as_str);
            if ops.contains(owner) {
                return (owner.to_owned(), true);
            }
            if let Some(by) = answers.get(owner) {
                if domains.contains(owner) || by.len() > 1 || names.contains_key(owner) {
                    return (current.to_owned(), false);
                }
                if let Some(op) = by.iter().next() {
                    return (format!("{op}\u{0}Response"), true);
                }
            }
            // An operation's own type: its operation (`CreateOrderSceneInfo` → `CreateOrder`).
            let own = ops
                .iter()
                .filter(|op| {
                    current
                        .strip_prefix(op.as_str())
                        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_uppercase()))
                })
                .max_by_key(|op| op.len());
            match own {
                Some(op) => (op.clone(), true),
                None => (current.to_owned(), false),
            }
        };
        let mut owners: BTreeSet<&str> = uses
            .get(t)
            .into_iter()
            .flatten()
            .map(|u| u.owner.as_str())
            .collect();
        let answer_only = owners.is_empty();
        // A nested type that also answers requests belongs to them too.
        if !answer_only && let Some(by) = answers.get(t.as_str()) {
            owners.extend(by.iter().map(String::as_str));
        }
        // An answer's own type is the request's (`CreateCodepayOrderPayer`), or else its
        // answer's (`CreateCodepayOrderResponsePayer`): `\0` marks where `Response` goes.
        let marked: BTreeSet<(String, bool)> = owners.iter().map(|o| owner_prefix(o)).collect();
        let answer_forms: Vec<String> = marked
            .iter()
            .filter(|(p, _)| p.contains('\0'))
            .map(|(p, _)| p.replace('\0', ""))
            .collect();
        let prefixes: BTreeSet<(String, bool)> = marked
            .into_iter()
            .map(|(p, is_op)| (p.split('\0').next().unwrap_or_default().to_owned(), is_op))
            .collect();
        // A shared owner's own qualifier (`WithContract` of `WithContractSceneInfo`) passes to
        // what it holds: `WithContractStoreInfo`.
        let qualifiers: BTreeSet<String> = owners
            .iter()
            .filter_map(|o| {
                let name = names.get(*o)?;
                let base = bases.get(*o)?;
                let q = name.strip_suffix(base.as_str())?;
                (!q.is_empty() && !ops.contains(q)).then(|| q.to_owned())
            })
            .collect();
        let mut candidates: Vec<String> = Vec::new();
        let join = |prefix: &str| join(prefix, base);
        if let Some(by) = answers.get(t.as_str())
            && answer_only
        {
            // An answer of several requests: their object (`Refund`), else `…Response`.
            candidates.extend(answer_names(by, base, &ops));
        } else if prefixes.len() == 1
            && let Some((prefix, _)) = prefixes.iter().next()
        {
            // One owner: the list item of `ListComplaints.data` is a `Complaint`.
            if base == "Data" || base == "Item" {
                match prefixes.iter().next() {
                    // What a list or a query answers: `ListComplaints.data` holds `Complaint`s.
                    Some((p, true)) if p.starts_with("List") || p.starts_with("Query") => {
                        candidates.push(object(p).concat())
                    }
                    Some((_, true)) => {}
                    // The items of a `ComplaintList` are `Complaint`s.
                    Some((p, false)) => {
                        if let Some(item) = p.strip_suffix("List").filter(|i| !i.is_empty()) {
                            candidates.push(item.to_owned());
                        }
                    }
                    None => {}
                }
            }
            if let (Some(q), false) = (qualifiers.iter().next(), prefixes.iter().all(|p| p.1)) {
                candidates.push(join(q));
            }
            candidates.push(join(prefix));
            candidates.extend(answer_forms.iter().map(|p| join(p)));
        } else {
            // Several owners: a domain type among them, else what their requests are about.
            let domain: Vec<&String> = prefixes
                .iter()
                .filter(|(p, is_op)| !is_op && domains.contains(p.as_str()))
                .map(|(p, _)| p)
                .collect();
            if let [one] = domain[..] {
                candidates.push(join(one));
            }
            let objects: Vec<Vec<String>> = prefixes
                .iter()
                .map(|(p, is_op)| {
                    if *is_op {
                        object(p)
                    } else {
                        words(p).iter().map(|w| (*w).to_owned()).collect()
                    }
                })
                .collect();
            let common_suffix = common(&objects, true);
            let common_prefix = common(&objects, false);
            for c in [common_suffix, common_prefix] {
                if !c.is_empty() {
                    if base == "Data" {
                        candidates.push(c.clone());
                    }
                    candidates.push(join(&c));
                }
            }
        }
        if !vague(base) {
            candidates.push(base.clone());
        }
        if prefixes.len() > 1 {
            // The words the owners' objects share most (`Order` of `JsapiOrder`, `AppOrder`).
            let mut freq: BTreeMap<String, usize> = BTreeMap::new();
            for (p, is_op) in &prefixes {
                let object: BTreeSet<String> = if *is_op {
                    object(p).into_iter().collect()
                } else {
                    words(p).iter().map(|w| (*w).to_owned()).collect()
                };
                for w in object {
                    *freq.entry(w).or_default() += 1;
                }
            }
            let mut ranked: Vec<(String, usize)> = freq.into_iter().collect();
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            for (word, _) in ranked {
                candidates.push(join(&word));
            }
        }
        // Last: the owning prefixes in order (a request's own name only if it is the one).
        for (prefix, is_op) in &prefixes {
            if !is_op || prefixes.len() == 1 {
                candidates.push(join(prefix));
            }
        }
        // The name it had, unless that is another request's.
        let foreign = ops.iter().any(|op| {
            t.strip_prefix(op.as_str())
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_uppercase()))
                && !prefixes.iter().all(|(p, is_op)| *is_op && p == op)
        });
        if !foreign && !ops.contains(t) {
            candidates.push(t.clone());
        }
        let name = candidates
            .into_iter()
            .find(|c| !taken.contains(c) && !c.is_empty())
            .unwrap_or_else(|| fallback(t, base, &prefixes, &taken));
        taken.insert(name.clone());
        names.insert(t.clone(), name);
    }

    // Apply.
    let map: BTreeMap<String, String> = names.into_iter().filter(|(a, b)| a != b).collect();
    let mut counts = Counts {
        renamed: map.len(),
        labelled: 0,
        merged,
    };
    for op in &mut module.ops {
        for f in &mut op.fields {
            rename_ty(&mut f.ty, &map);
        }
        if let Answer::Named(name) = &mut op.answer
            && let Some(new) = map.get(name)
        {
            *name = new.clone();
        }
    }
    // A type without a label takes its field's; then its new name.
    let mut relabel = |name: &mut String, label: &mut String| {
        if label.is_empty()
            && let Some(u) = uses
                .get(name.as_str())
                .and_then(|u| u.iter().find(|u| !u.label.is_empty()))
        {
            *label = u.label.clone();
            counts.labelled += 1;
        }
        if let Some(new) = map.get(name.as_str()) {
            *name = new.clone();
        }
    };
    for s in &mut module.structs {
        relabel(&mut s.name, &mut s.label);
        for f in &mut s.fields {
            rename_ty(&mut f.ty, &map);
        }
    }
    for e in &mut module.enums {
        relabel(&mut e.name, &mut e.label);
    }
    module.forget_shapes();
    counts
}

/// Makes types identical on the wire one type: an answer shaped like another answer or a
/// nested type of the module becomes that one (the builder shares nested shapes already, not
/// answers). Answers of the default build's operations, domain answers and the names
/// `manual.rs` uses stay as they are. Returns how many types went.
fn merge_identical(module: &mut Module) -> usize {
    let domains: BTreeSet<&str> = ANSWER_NAMES.iter().map(|(_, _, a)| *a).collect();
    let fixed: BTreeSet<String> = module
        .ops
        .iter()
        .filter(|op| op.entry.default)
        .filter_map(|op| match &op.answer {
            Answer::Named(n) => Some(n.clone()),
            _ => None,
        })
        .chain(domains.iter().map(|d| (*d).to_owned()))
        .chain(module.pinned.iter().cloned())
        .collect();
    let answers: BTreeSet<String> = module
        .ops
        .iter()
        .filter_map(|op| match &op.answer {
            Answer::Named(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    let key = |s: &crate::model::Struct| {
        s.fields
            .iter()
            .map(|f| {
                format!(
                    "{}:{}:{:?}:{}:{}",
                    f.ident, f.wire, f.ty, f.required, f.encrypt
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    // The first of each shape keeps it: a nested type before an answer.
    let mut keeper: BTreeMap<String, String> = BTreeMap::new();
    let mut order: Vec<&crate::model::Struct> = module.structs.iter().collect();
    order.sort_by_key(|s| answers.contains(&s.name));
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    // The requests each answer answers, to merge only answers of requests about one thing.
    let mut answering: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for op in &module.ops {
        if let Answer::Named(n) = &op.answer {
            answering
                .entry(n.as_str())
                .or_default()
                .push(&op.entry.name);
        }
    }
    let mut group: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for s in order {
        if fixed.contains(&s.name) || s.fields.is_empty() || s.sensitive {
            continue;
        }
        let by = answering.get(s.name.as_str()).cloned().unwrap_or_default();
        match keeper.get(&key(s)) {
            Some(k) if answers.contains(&s.name) => {
                let mut joined = group.get(k).cloned().unwrap_or_default();
                joined.extend(by.iter().copied());
                if !answers.contains(k) || common_object(joined.iter().copied()).is_some() {
                    group.insert(k.clone(), joined);
                    map.insert(s.name.clone(), k.clone());
                }
            }
            Some(_) => {}
            None => {
                keeper.insert(key(s), s.name.clone());
                group.insert(s.name.clone(), by);
            }
        }
    }
    if map.is_empty() {
        return 0;
    }
    let gone: Vec<(String, bool, bool)> = module
        .structs
        .iter()
        .filter(|s| map.contains_key(&s.name))
        .map(|s| (s.name.clone(), s.serialize, s.deserialize))
        .collect();
    for (name, ser, de) in &gone {
        if let Some(k) = module.structs.iter_mut().find(|s| s.name == map[name]) {
            k.serialize |= ser;
            k.deserialize |= de;
        }
    }
    module.structs.retain(|s| !map.contains_key(&s.name));
    for op in &mut module.ops {
        for f in &mut op.fields {
            rename_ty(&mut f.ty, &map);
        }
        if let Answer::Named(name) = &mut op.answer
            && let Some(new) = map.get(name)
        {
            *name = new.clone();
        }
    }
    for s in &mut module.structs {
        for f in &mut s.fields {
            rename_ty(&mut f.ty, &map);
        }
    }
    map.len()
}

/// The objects of the requests an answer answers, when they are one (`QueryRefundByRefundId`,
/// `QueryRefundByOutRefundNo` → `Refund`), else the words they end with.
fn answer_base(by: &BTreeSet<String>) -> String {
    common_object(by).unwrap_or_else(|| "Answer".to_owned())
}

/// The words all the requests' objects end with, else start with.
fn common_object<'a>(by: impl IntoIterator<Item = &'a String>) -> Option<String> {
    let objects: Vec<Vec<String>> = by.into_iter().map(|op| object(op)).collect();
    [common(&objects, true), common(&objects, false)]
        .into_iter()
        .find(|c| !c.is_empty())
}

/// Names for an answer several requests share, best first: what they query (`Refund`), then
/// their shared verb and object with `Response` (`CreateOrderResponse`), then the object with
/// `Response`.
fn answer_names(by: &BTreeSet<String>, base: &str, ops: &BTreeSet<String>) -> Vec<String> {
    let verbs: BTreeSet<&str> = by
        .iter()
        .filter_map(|op| words(op).first().copied())
        .collect();
    let querying = verbs.iter().all(|v| matches!(*v, "Query" | "Get" | "List"));
    let objects: BTreeSet<Vec<String>> = by.iter().map(|op| object(op)).collect();
    let mut names = Vec::new();
    if querying || objects.len() == 1 {
        names.push(base.to_owned());
    }
    // Not a request's name (`UpdateOrderResponse` also answering `UpdateOrderLegacy`).
    if let [verb] = verbs.iter().copied().collect::<Vec<_>>()[..]
        && !ops.contains(&format!("{verb}{base}"))
    {
        names.push(format!("{verb}{base}Response"));
    }
    names.push(format!("{base}Response"));
    names
}

/// `prefix` then `base`, a word they share said once: `UserCoupon` + `CouponUseRule` →
/// `UserCouponUseRule`, `Refund` + `Amount` → `RefundAmount`.
fn join(prefix: &str, base: &str) -> String {
    let (p, b) = (words(prefix), words(base));
    let overlap = (1..=p.len().min(b.len()))
        .rev()
        .find(|&k| p[p.len() - k..] == b[..k])
        .unwrap_or(0);
    format!("{prefix}{}", b[overlap..].concat())
}

/// A type's shape without the names of the types it holds: its fields on the wire (a
/// struct), or its values (an enum).
fn rough_shape(module: &Module, name: &str) -> Option<String> {
    fn kind(ty: &Ty) -> String {
        match ty {
            Ty::Vec(inner) => format!("[{}]", kind(inner)),
            Ty::Named(_) => "N".into(),
            other => format!("{other:?}"),
        }
    }
    if let Some(s) = module.structs.iter().find(|s| s.name == name) {
        return Some(
            s.fields
                .iter()
                .map(|f| format!("{}:{}:{}:{}", f.wire, kind(&f.ty), f.required, f.encrypt))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    module.enums.iter().find(|e| e.name == name).map(|e| {
        e.variants
            .iter()
            .map(|(_, wire, _)| wire.as_str())
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The longest run of words all `objects` end with (`suffix`) or start with.
fn common(objects: &[Vec<String>], suffix: bool) -> String {
    let Some(first) = objects.first() else {
        return String::new();
    };
    let mut n = first.len();
    for o in objects {
        let same = if suffix {
            first
                .iter()
                .rev()
                .zip(o.iter().rev())
                .take_while(|(a, b)| a == b)
                .count()
        } else {
            first.iter().zip(o).take_while(|(a, b)| a == b).count()
        };
        n = n.min(same);
    }
    let mut run: Vec<&String> = if suffix {
        first[first.len() - n..].iter().collect()
    } else {
        first[..n].iter().collect()
    };
    // `WithContract` of `AppWithContract` and `JsapiWithContract` is about a `Contract`.
    while run
        .first()
        .is_some_and(|w| matches!(w.as_str(), "With" | "By" | "For" | "And" | "Of" | "To"))
    {
        run.remove(0);
    }
    run.into_iter().map(String::as_str).collect()
}

/// No candidate was free: the base with the owners' common words dropped in turn, and at the
/// very last the first owner's name (reported by the catalog's name test if it is a request's).
fn fallback(
    _old: &str,
    base: &str,
    prefixes: &BTreeSet<(String, bool)>,
    taken: &BTreeSet<String>,
) -> String {
    for (prefix, is_op) in prefixes {
        if *is_op && prefixes.len() > 1 {
            continue;
        }
        let name = join(prefix, base);
        if !taken.contains(&name) {
            return name;
        }
    }
    let mut name = format!("{base}Value");
    while taken.contains(&name) {
        name.push_str("Value");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_objects_and_singulars() {
        assert_eq!(words("QueryOrderById"), ["Query", "Order", "By", "Id"]);
        assert_eq!(object("QueryRefundByOutRefundNo"), ["Refund"]);
        assert_eq!(object("ListOrders"), ["Order"]);
        assert_eq!(
            object("CreateApplyAbnormalRefund"),
            ["Apply", "Abnormal", "Refund"]
        );
        assert_eq!(singular("sub_orders"), "sub_order");
        assert_eq!(singular("goods"), "goods");
        assert_eq!(singular("promotion_details"), "promotion_detail");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("status"), "status");
        let objects = [
            object("QueryRefundByRefundId"),
            object("CreateApplyAbnormalRefund"),
        ];
        assert_eq!(common(&objects, true), "Refund");
        assert_eq!(common(&objects, false), "");
    }
}
