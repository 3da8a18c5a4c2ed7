//! AWS errors classified once into a small set of kinds the rest of the program acts on.

use std::fmt;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    AlreadyExists,
    AccessDenied,
    Throttled,
    /// A just-created IAM role is not yet usable everywhere.
    PropagationDelay,
    /// No credentials, or credentials AWS rejects.
    Credentials,
    /// A named profile that does not exist or whose credentials cannot be loaded.
    Profile,
    /// The endpoint could not be reached (refused, unknown host, no answer in time) or failed
    /// without an AWS error (HTTP 5xx).
    Endpoint,
    /// A malformed endpoint URL.
    EndpointUrl,
    Other,
}

/// One failed AWS call.
#[derive(Clone, Debug)]
pub struct AwsError {
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
}

const NOT_FOUND: &[&str] = &[
    "NotFound",
    "NoSuchBucket",
    "NoSuchEntity",
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError",
    "ResourceNotFoundException",
    "InvalidFlowLogId.NotFound",
];
const ALREADY_EXISTS: &[&str] = &[
    "BucketAlreadyOwnedByYou",
    "EntityAlreadyExists",
    "ResourceAlreadyExistsException",
    "FlowLogAlreadyExists",
];
const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Forbidden",
    "AuthFailure",
];
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
];
const CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
];

/// True for the messages AWS gives while a new IAM role has not propagated yet.
pub fn is_propagation_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    (m.contains("role")
        && (m.contains("assume") || m.contains("not authorized") || m.contains("does not exist")))
        || m.contains("deliverlogspermissionarn")
}

pub fn kind_of(code: Option<&str>, message: &str) -> ErrorKind {
    match code {
        Some(c) if NOT_FOUND.contains(&c) || c.ends_with(".NotFound") => ErrorKind::NotFound,
        Some(c) if ALREADY_EXISTS.contains(&c) => ErrorKind::AlreadyExists,
        Some(c) if ACCESS_DENIED.contains(&c) => ErrorKind::AccessDenied,
        Some(c) if THROTTLED.contains(&c) => ErrorKind::Throttled,
        Some(c) if CREDENTIALS.contains(&c) => ErrorKind::Credentials,
        Some(c) if c.starts_with("InvalidParameter") && is_propagation_message(message) => {
            ErrorKind::PropagationDelay
        }
        _ => ErrorKind::Other,
    }
}

/// Classifies an SDK error from `operation` (written `service:Action`).
pub fn classify<E>(
    operation: &'static str,
    err: SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    classify_at(operation, "the endpoint", err)
}

/// [`classify`], naming the endpoint as `endpoint` in messages about reaching it.
pub fn classify_at<E>(
    operation: &'static str,
    endpoint: &str,
    err: SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (kind, code, message) = match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let status = se.raw().status().as_u16();
            let code = e.code().map(str::to_string).or_else(|| match status {
                404 => Some("NotFound".to_string()),
                403 => Some("Forbidden".to_string()),
                _ => None,
            });
            let message = e.message().map(str::to_string);
            match (code, message) {
                (None, None) if status >= 500 => (
                    ErrorKind::Endpoint,
                    None,
                    format!("{endpoint} answered HTTP {status} without an AWS error"),
                ),
                (code, message) => {
                    let message = message.unwrap_or_else(|| format!("HTTP {status}"));
                    (kind_of(code.as_deref(), &message), code, message)
                }
            }
        }
        SdkError::TimeoutError(_) => (
            ErrorKind::Endpoint,
            None,
            format!("{endpoint} did not answer in time"),
        ),
        SdkError::DispatchFailure(d) => match d.as_connector_error() {
            Some(c) => connector_failure(endpoint, c),
            None => (ErrorKind::Other, None, describe_chain(&err)),
        },
        _ => (ErrorKind::Other, None, describe_chain(&err)),
    };
    AwsError {
        operation,
        kind,
        code,
        message,
    }
}

/// Why an attempt did not reach the endpoint, when that is the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    Refused,
    UnknownHost,
    TimedOut,
}

/// Reads the cause of a connector error from its chain of sources.
pub fn unreachable_cause(c: &ConnectorError) -> Option<Unreachable> {
    if c.is_timeout() {
        return Some(Unreachable::TimedOut);
    }
    let mut text = String::new();
    for e in chain(c) {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Some(Unreachable::Refused),
                std::io::ErrorKind::TimedOut => return Some(Unreachable::TimedOut),
                _ => {}
            }
        }
        text.push_str(&e.to_string().to_ascii_lowercase());
    }
    if text.contains("connection refused") {
        Some(Unreachable::Refused)
    } else if text.contains("dns error") || text.contains("failed to lookup address") {
        Some(Unreachable::UnknownHost)
    } else {
        None
    }
}

/// A dispatch failure as a sentence: the endpoint could not be reached, or credentials could
/// not be loaded (identity resolution fails as a connector error of kind "other").
fn connector_failure(endpoint: &str, c: &ConnectorError) -> (ErrorKind, Option<String>, String) {
    let (kind, message) = match unreachable_cause(c) {
        Some(Unreachable::Refused) => (
            ErrorKind::Endpoint,
            format!("cannot connect to {endpoint}: connection refused"),
        ),
        Some(Unreachable::UnknownHost) => (
            ErrorKind::Endpoint,
            format!("cannot connect to {endpoint}: its host name does not resolve"),
        ),
        Some(Unreachable::TimedOut) => (
            ErrorKind::Endpoint,
            format!("cannot connect to {endpoint}: no answer in time"),
        ),
        None => {
            let text = describe_chain(c);
            let lower = text.to_ascii_lowercase();
            if lower.contains("no credentials found")
                || lower.contains("credential provider was not enabled")
            {
                (
                    ErrorKind::Credentials,
                    "no AWS credentials were found (environment, profile files, web identity, container or instance metadata)".to_string(),
                )
            } else if lower.contains("credential") {
                (
                    ErrorKind::Credentials,
                    format!("cannot load AWS credentials: {text}"),
                )
            } else {
                (ErrorKind::Other, text)
            }
        }
    };
    (kind, None, message)
}

fn chain<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}

/// An error and its sources as one line of their messages (never their debug form), each
/// message once: SDK errors often repeat their source's text in their own.
pub fn describe_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in chain(e) {
        let text = e.to_string();
        let text = text.trim();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(text)) {
            parts.push(text.to_string());
        }
    }
    parts.join(": ")
}

impl AwsError {
    pub fn other(operation: &'static str, message: impl Into<String>) -> Self {
        AwsError {
            operation,
            kind: ErrorKind::Other,
            code: None,
            message: message.into(),
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self.kind {
            ErrorKind::AccessDenied => {
                Some("the credentials lack this permission: see policies/flowkeeper-operator.json")
            }
            ErrorKind::Credentials => Some(match self.code.as_deref() {
                Some("ExpiredToken" | "ExpiredTokenException") => {
                    "the session has expired: refresh the credentials (`aws sso login`, new temporary keys) and run again"
                }
                Some(_) => {
                    "AWS rejected these credentials: check the access key, secret and session token (or --profile) and that they belong to this partition"
                }
                None => {
                    "configure AWS credentials (environment, --profile, `aws sso login`), or pass --endpoint-url for an emulator"
                }
            }),
            ErrorKind::Profile => Some(
                "--profile names a `[profile NAME]` section of the config file or a `[NAME]` section of the credentials file (`aws configure list-profiles` lists them); AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE choose other files",
            ),
            ErrorKind::Endpoint => Some(
                "check --endpoint-url / AWS_ENDPOINT_URL (is the emulator running there?), or the network path to AWS, and that the region exists and is enabled for the account",
            ),
            ErrorKind::EndpointUrl => Some(
                "--endpoint-url / AWS_ENDPOINT_URL takes http(s)://host[:port], for example http://127.0.0.1:5000",
            ),
            ErrorKind::Throttled => Some(
                "AWS kept throttling after retries: run again later or with fewer regions at once",
            ),
            ErrorKind::PropagationDelay => {
                Some("a new IAM role was not usable yet: run apply again in a minute")
            }
            _ => None,
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{} failed: {c}: {}", self.operation, self.message),
            None => write!(f, "{} failed: {}", self.operation, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            kind_of(Some("InvalidVpcID.NotFound"), ""),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind_of(Some("EntityAlreadyExists"), ""),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            kind_of(Some("RequestLimitExceeded"), ""),
            ErrorKind::Throttled
        );
        assert_eq!(
            kind_of(
                Some("InvalidParameter"),
                "Unable to assume given IAM role, or role does not exist"
            ),
            ErrorKind::PropagationDelay
        );
        assert_eq!(
            kind_of(Some("InvalidParameter"), "bad traffic type"),
            ErrorKind::Other
        );
    }

    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    type Err = SdkError<GetCallerIdentityError, Response>;

    fn dispatch(source: std::io::Error) -> Err {
        SdkError::dispatch_failure(ConnectorError::io(Box::new(source)))
    }

    fn service(status: u16, meta: ErrorMetadata) -> Err {
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(GetCallerIdentityError::generic(meta), raw)
    }

    #[test]
    fn unreachable_endpoints_are_sentences_naming_the_endpoint() {
        use std::io::{Error, ErrorKind as Io};
        let at = "http://127.0.0.1:1";
        let cases = [
            (
                dispatch(Error::from(Io::ConnectionRefused)),
                "cannot connect to http://127.0.0.1:1: connection refused",
            ),
            (
                dispatch(Error::other(
                    "dns error: failed to lookup address information: Name or service not known",
                )),
                "cannot connect to http://127.0.0.1:1: its host name does not resolve",
            ),
            (
                dispatch(Error::from(Io::TimedOut)),
                "cannot connect to http://127.0.0.1:1: no answer in time",
            ),
            (
                service(500, ErrorMetadata::builder().build()),
                "http://127.0.0.1:1 answered HTTP 500 without an AWS error",
            ),
        ];
        for (err, message) in cases {
            let e = classify_at("sts:GetCallerIdentity", at, err);
            assert_eq!(e.message, message);
            assert_eq!(e.kind, ErrorKind::Endpoint);
            assert!(e.hint().is_some_and(|h| h.contains("--endpoint-url")));
        }
    }

    #[test]
    fn credential_errors_get_a_hint_that_fits() {
        let expired = classify(
            "sts:GetCallerIdentity",
            service(
                403,
                ErrorMetadata::builder()
                    .code("ExpiredToken")
                    .message("The security token included in the request is expired")
                    .build(),
            ),
        );
        assert_eq!(expired.kind, ErrorKind::Credentials);
        assert!(expired.hint().unwrap().contains("expired"));
        let invalid = classify(
            "sts:GetCallerIdentity",
            service(
                403,
                ErrorMetadata::builder()
                    .code("InvalidClientTokenId")
                    .message("The security token included in the request is invalid.")
                    .build(),
            ),
        );
        assert_eq!(invalid.kind, ErrorKind::Credentials);
        assert!(invalid.hint().unwrap().contains("rejected"));
        assert_eq!(
            invalid.to_string(),
            "sts:GetCallerIdentity failed: InvalidClientTokenId: The security token included in the request is invalid."
        );
    }

    #[test]
    fn chains_are_messages_without_debug_output_or_repeats() {
        let err = dispatch(std::io::Error::other("tcp connect error"));
        let text = describe_chain(&err);
        assert!(
            !text.contains("DispatchFailure") && !text.contains("{"),
            "{text}"
        );
        assert!(text.ends_with("tcp connect error"), "{text}");
    }
}
