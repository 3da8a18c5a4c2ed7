//! Exports: renders the model (config, layout, rule pack) for other engines (CloudFormation,
//! Athena). Decides nothing the planner or the analyzer does not already decide.

pub mod athena;
