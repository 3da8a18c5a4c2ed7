//! flowkeeper: complete, provable AWS VPC Flow Logs coverage.
//!
//! Data flows one way: `config` → `model::DesiredState` → `discover` → `model::Inventory`
//! → `plan` → `apply` → `report`. Only `aws` touches AWS SDK types; `plan` is pure;
//! `commands` is the only place that sequences the layers.

// The one exception is `analyze::inflate` (calls into libdeflate), which allows it locally.
#![deny(unsafe_code)]

pub mod analyze;
pub mod apply;
pub mod audit;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod coverage;
pub mod discover;
pub mod exit;
pub mod export;
pub mod model;
pub mod output;
pub mod plan;
pub mod plan_file;
pub mod policies;
pub mod policy_eval;
pub mod progress;
pub mod report;
pub mod settings;
pub mod targets;
pub mod verify;
