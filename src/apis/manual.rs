// The hand-written part of `wxpay::apis`; the module itself (mod.rs) is generated.

#[cfg(test)]
mod tests {
    platform_enum! {
        /// A test enum.
        pub enum Colour { Red = "RED", }
    }

    #[test]
    fn platform_enums_round_trip_and_keep_unknown_values() {
        let known: Colour = serde_json::from_str("\"RED\"").unwrap();
        assert_eq!(known, Colour::Red);
        let unknown: Colour = serde_json::from_str("\"ULTRAVIOLET\"").unwrap();
        assert_eq!(unknown, Colour::Unknown("ULTRAVIOLET".into()));
        assert_eq!(serde_json::to_string(&unknown).unwrap(), "\"ULTRAVIOLET\"");
        assert_eq!(serde_json::to_string(&Colour::Red).unwrap(), "\"RED\"");
    }
}
