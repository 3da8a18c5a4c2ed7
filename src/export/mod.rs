//! Renders the desired state for AWS's own engines (CloudFormation/StackSets, Athena). Export
//! decides nothing: the planner resolves what is wanted, export only writes it in another form.

pub mod athena;
