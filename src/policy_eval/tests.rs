//! Unit tests of the evaluation: each operator and edge, table-driven.

use super::*;
