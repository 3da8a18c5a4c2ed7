//! Counts AWS API calls (every attempt, retries included) per service and operation, so that
//! `-v` and the benchmark can show how many calls a run made.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

fn counts() -> &'static Mutex<BTreeMap<String, u64>> {
    static COUNTS: OnceLock<Mutex<BTreeMap<String, u64>>> = OnceLock::new();
    COUNTS.get_or_init(Mutex::default)
}

/// Calls made so far in this process, by `Service:Operation`.
pub fn snapshot() -> BTreeMap<String, u64> {
    counts().lock().map(|m| m.clone()).unwrap_or_default()
}

/// The interceptor every client flowkeeper builds carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallCounter;

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "flowkeeper-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = cfg
            .load::<Metadata>()
            .map(|m| format!("{}:{}", m.service(), m.name()))
            .unwrap_or_else(|| "unknown".to_string());
        if let Ok(mut m) = counts().lock() {
            *m.entry(key).or_default() += 1;
        }
        Ok(())
    }
}
