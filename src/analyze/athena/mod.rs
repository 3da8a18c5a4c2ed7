//! Athena as an analysis engine: turning the rows of the queries `export::athena::queries`
//! writes into the local engine's findings, reports and timeline ([`rows`]), so both engines
//! render through the same code. Running the queries (the Athena API) is not here yet.

pub mod rows;
