//! placeholder, replaced by the detection engine
