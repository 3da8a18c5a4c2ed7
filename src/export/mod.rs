//! Renders the desired state for AWS's own engines (CloudFormation/StackSets, Athena). Export
//! decides nothing: the planner resolves what is wanted (against a [`greenfield`] copy of the
//! discovered inventory), and export only writes those very operations in another form.

pub mod athena;
pub mod cloudformation;
pub mod greenfield;

pub use greenfield::greenfield;
