//! aws-lc-rs backend. STUB.
