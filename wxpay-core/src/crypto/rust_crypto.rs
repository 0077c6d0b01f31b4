//! RustCrypto backend. STUB.
