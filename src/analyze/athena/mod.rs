//! Athena as an analysis engine: the queries `export::athena::queries` writes, run through the
//! Athena API ([`run`]), their rows turned into the local engine's findings, reports and
//! timeline ([`rows`]), so both engines render through the same code.

pub mod rows;
pub mod run;
