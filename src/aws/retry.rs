//! Which failed attempts are not worth retrying although the SDK's standard strategy would: a
//! refused connection or a host name that does not resolve will not change within the retry
//! budget (8 attempts, about 36 s of backoff for nothing), so they fail at the first attempt.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};

use super::error::{Unreachable, unreachable_cause};

/// Forbids retrying attempts that could not reach the endpoint at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRetryWhenUnreachable;

impl ClassifyRetry for NoRetryWhenUnreachable {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        match err.as_connector_error().and_then(unreachable_cause) {
            Some(Unreachable::Refused | Unreachable::UnknownHost) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "flowkeeper-no-retry-when-unreachable"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // After the SDK's transient-error classifier, which would retry these.
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::interceptors::context::{Error, Input};
    use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    fn after(source: std::io::Error) -> RetryAction {
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        ctx.set_output_or_error(Err(OrchestratorError::<Error>::connector(
            ConnectorError::io(Box::new(source)),
        )));
        NoRetryWhenUnreachable.classify_retry(&ctx)
    }

    #[test]
    fn refused_and_unresolvable_endpoints_are_not_retried() {
        use std::io::{Error, ErrorKind};
        assert_eq!(
            after(Error::from(ErrorKind::ConnectionRefused)),
            RetryAction::RetryForbidden
        );
        assert_eq!(
            after(Error::other(
                "dns error: failed to lookup address information"
            )),
            RetryAction::RetryForbidden
        );
        // A reset connection may well work on the next attempt: the SDK decides.
        assert_eq!(
            after(Error::from(ErrorKind::ConnectionReset)),
            RetryAction::NoActionIndicated
        );
    }
}
