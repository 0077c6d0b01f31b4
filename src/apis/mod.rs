//! The endpoint catalog, one module per product path.
