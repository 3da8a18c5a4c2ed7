//! `analyze --engine athena`: the analysis queries of `export::athena` run through the Athena
//! API ([`run`]), their rows turned into the local engine's findings, reports and timeline
//! ([`rows`]), so the same renderers print them with the same schema.

pub mod rows;
pub mod run;
