//! Plain data types: validated ids, targets, desired state and actual inventory.
//! No I/O and no AWS SDK types live here.

pub mod accounts;
pub mod delivery;
pub mod desired;
pub mod flow_log;
pub mod inventory;
pub mod layout;
pub mod log_format;
pub mod regions;
pub mod target;
pub mod template;

pub use accounts::*;
pub use desired::*;
pub use flow_log::*;
pub use inventory::*;
pub use log_format::LogFormat;
pub use target::*;
pub use template::NameTemplate;

/// Tag key every flowkeeper-created resource carries; its value is [`MANAGED_BY_VALUE`].
pub const MANAGED_BY_KEY: &str = "managed-by";
/// Value of the [`MANAGED_BY_KEY`] tag.
pub const MANAGED_BY_VALUE: &str = "flowkeeper";
/// Tag key naming the `flow_logs` entry a managed flow log belongs to.
pub const ENTRY_TAG_KEY: &str = "flowkeeper:entry";
/// Tag key naming the destination a managed flow log delivers to.
pub const DESTINATION_TAG_KEY: &str = "flowkeeper:destination";
