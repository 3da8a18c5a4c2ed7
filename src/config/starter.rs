//! The commented starter file `flowkeeper init` writes (the same text as
//! `examples/flowkeeper.yaml`, so the example is always one that validates).

/// Text of the starter config.
pub const STARTER: &str = include_str!("../../examples/flowkeeper.yaml");

#[cfg(test)]
mod tests {
    #[test]
    fn starter_validates() {
        let state = super::super::parse(std::path::Path::new("starter.yaml"), super::STARTER)
            .unwrap_or_else(|d| panic!("starter does not validate:\n{d}"));
        assert_eq!(
            state.regions,
            crate::model::Regions::List(vec!["us-east-1".into(), "eu-west-1".into()])
        );
        assert_eq!(state.flow_logs.len(), 2);
        assert_eq!(state.destinations.len(), 2);
    }
}
