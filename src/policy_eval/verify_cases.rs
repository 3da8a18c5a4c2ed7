//! The cases `verify` relies on, built from the shipped `policies/` documents.

use super::*;
