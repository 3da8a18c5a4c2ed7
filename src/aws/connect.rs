//! Checks made once, before the first AWS call, on how flowkeeper is told to reach AWS: the
//! endpoint URL is well-formed, and an explicit `--profile` exists and yields credentials.
//! Each failure is an [`AwsError`] that says what and where, with a hint.

use std::path::PathBuf;

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::profile::credentials::ProfileFileError;
use aws_sdk_sts::config::ProvideCredentials;

use super::error::{AwsError, ErrorKind, describe_chain};

/// `Ok` for `http://host[:port][/path]` or `https://...`.
pub fn check_endpoint_url(url: &str) -> Result<(), AwsError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let host = rest.map(|r| r.split(['/', '?']).next().unwrap_or_default());
    let valid = host
        .is_some_and(|h| !h.is_empty() && !h.starts_with(':') && !h.contains(char::is_whitespace));
    if valid {
        return Ok(());
    }
    Err(AwsError {
        operation: "connect",
        kind: ErrorKind::EndpointUrl,
        code: None,
        message: format!("`{url}` is not an endpoint URL"),
    })
}

/// The shared config and credentials files the SDK reads (`AWS_CONFIG_FILE`,
/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`).
pub fn profile_files(env: impl Fn(&str) -> Option<String>) -> (PathBuf, PathBuf) {
    let home = || PathBuf::from(env("HOME").unwrap_or_else(|| "~".into())).join(".aws");
    let pick =
        |var: &str, default: &str| env(var).map_or_else(|| home().join(default), PathBuf::from);
    (
        pick("AWS_CONFIG_FILE", "config"),
        pick("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    )
}

/// The credentials of profile `name`, resolved once now so that an unknown profile (or one
/// whose credentials cannot be loaded) fails before any work, naming the files read.
pub async fn profile_credentials(name: &str) -> Result<ProfileFileCredentialsProvider, AwsError> {
    let provider = ProfileFileCredentialsProvider::builder()
        .profile_name(name)
        .build();
    match provider.provide_credentials().await {
        Ok(_) => Ok(provider),
        Err(e) => {
            let (config, credentials) = profile_files(|v| std::env::var(v).ok());
            // The provider reports a missing profile as "not loaded" with the profile error (or
            // only its text) as the source.
            let text = describe_chain(&e);
            let missing = text.contains(&format!("profile `{name}` was not defined"))
                || text.contains("No profiles were defined")
                || std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .any(|e| {
                    matches!(
                        e.downcast_ref::<ProfileFileError>(),
                        Some(
                            ProfileFileError::MissingProfile { .. }
                                | ProfileFileError::NoProfilesDefined { .. }
                        )
                    )
                });
            let message = if missing {
                format!(
                    "the profile `{name}` is not defined in {} or {}",
                    config.display(),
                    credentials.display()
                )
            } else {
                format!(
                    "cannot load the credentials of profile `{name}` (from {} and {}): {}",
                    config.display(),
                    credentials.display(),
                    text
                )
            };
            Err(AwsError {
                operation: "connect",
                kind: ErrorKind::Profile,
                code: None,
                message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_need_a_scheme_and_a_host() {
        for ok in [
            "http://127.0.0.1:5000",
            "https://s3.example.com",
            "http://localhost/x",
        ] {
            assert!(check_endpoint_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "127.0.0.1:5000",
            "ftp://h",
            "http://",
            "http://:80",
            "not a url",
            "http://a b",
        ] {
            let e = check_endpoint_url(bad).unwrap_err();
            assert_eq!(e.message, format!("`{bad}` is not an endpoint URL"));
            assert!(e.hint().is_some());
        }
    }

    #[test]
    fn profile_files_follow_the_environment_then_home() {
        let env = |v: &str| match v {
            "HOME" => Some("/home/u".to_string()),
            "AWS_CONFIG_FILE" => Some("/etc/aws/config".to_string()),
            _ => None,
        };
        assert_eq!(
            profile_files(env),
            (
                PathBuf::from("/etc/aws/config"),
                PathBuf::from("/home/u/.aws/credentials")
            )
        );
    }
}
