//! PEM and the few DER shapes the keys need. STUB.
