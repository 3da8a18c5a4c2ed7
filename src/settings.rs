//! Settings resolved once from the command line and the environment (clap has already folded
//! `AWS_REGION` and `AWS_ENDPOINT_URL` in): what every command reads instead of raw arguments.
//! [`Settings::resolve`] checks everything that can be checked without I/O, so a `Settings`
//! value is always valid, and unit tests build one directly.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::aws::AwsSettings;
use crate::cli::{GlobalArgs, OutputFormat};
use crate::model::AccountId;
use crate::targets::Filters;

/// The output formats of plan and apply (text or JSON; never HTML or NDJSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfraFormat {
    Text,
    Json,
}

impl InfraFormat {
    /// The `--format` value for plan and apply.
    pub fn from_cli(format: OutputFormat) -> Result<InfraFormat, String> {
        match format {
            OutputFormat::Text => Ok(InfraFormat::Text),
            OutputFormat::Json => Ok(InfraFormat::Json),
            other => Err(format!(
                "plan and apply print --format text or json, not {}",
                match other {
                    OutputFormat::Ndjson => "ndjson",
                    _ => "html",
                }
            )),
        }
    }
}

/// The run filters as given on the command line, kept verbatim for saved plans.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterArgs {
    pub accounts: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
}

impl FilterArgs {
    /// Parses `--accounts` (12-digit ids) and `--regions` (region names).
    pub fn parse(&self) -> Result<Filters, String> {
        let accounts = match &self.accounts {
            None => None,
            Some(ids) => Some(
                ids.iter()
                    .map(|s| AccountId::parse(s.trim()))
                    .collect::<Result<BTreeSet<_>, _>>()?,
            ),
        };
        let regions: Option<Vec<String>> = self
            .regions
            .as_ref()
            .map(|rs| rs.iter().map(|r| r.trim().to_string()).collect());
        if let Some(rs) = &regions
            && let Some((bad, hint)) = rs
                .iter()
                .find_map(|r| crate::model::regions::known(r).err().map(|h| (r, h)))
        {
            return Err(format!("--regions: `{bad}` is not an AWS region; {hint}"));
        }
        Ok(Filters { accounts, regions })
    }
}

/// Everything a command needs from the global flags, checked.
#[derive(Clone, Debug)]
pub struct Settings {
    pub config: PathBuf,
    /// `-c/--config` was given explicitly (not the default path).
    pub config_given: bool,
    /// How to reach AWS (the config may still add a fallback region).
    pub aws: AwsSettings,
    pub filter_args: FilterArgs,
    pub filters: Filters,
    /// Account/region targets worked on at once (at least 1).
    pub concurrency: usize,
    pub quiet: bool,
    pub verbose: u8,
    /// `--format` as given; each command turns it into its own format type.
    pub format: OutputFormat,
}

impl Settings {
    /// Resolves the global flags; the error is a sentence with a hint, for a usage error.
    pub fn resolve(global: &GlobalArgs) -> Result<Settings, String> {
        let filter_args = FilterArgs {
            accounts: global.accounts.clone(),
            regions: global.regions.clone(),
        };
        let filters = filter_args.parse().map_err(|e| {
            format!("{e}\n   = hint: --accounts takes 12-digit ids, --regions region names, both comma-separated")
        })?;
        Ok(Settings {
            config: global.config.clone(),
            config_given: global.config_given,
            aws: AwsSettings {
                region: global.region.clone(),
                profile: global.profile.clone(),
                endpoint_url: global.endpoint_url.clone(),
                fallback_region: None,
            },
            filter_args,
            filters,
            concurrency: global.concurrency.max(1) as usize,
            quiet: global.quiet,
            verbose: global.verbose,
            format: global.format,
        })
    }

    /// Plan and apply's output format.
    pub fn infra_format(&self) -> Result<InfraFormat, String> {
        InfraFormat::from_cli(self.format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn resolve(args: &[&str]) -> Result<Settings, String> {
        let mut argv = vec!["flowkeeper"];
        argv.extend_from_slice(args);
        argv.push("validate");
        Settings::resolve(&crate::cli::Cli::try_parse_from(argv).unwrap().global)
    }

    #[test]
    fn filters_are_parsed_once_and_kept_verbatim() {
        let s = resolve(&[
            "--accounts",
            "111122223333, 444455556666",
            "--regions",
            "us-east-1",
        ])
        .unwrap();
        let ids: Vec<String> = s
            .filters
            .accounts
            .unwrap()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(ids, ["111122223333", "444455556666"]);
        assert_eq!(
            s.filters.regions.as_deref(),
            Some(&["us-east-1".to_string()][..])
        );
        assert_eq!(
            s.filter_args.accounts.as_deref(),
            Some(&["111122223333".to_string(), " 444455556666".to_string()][..])
        );
    }

    #[test]
    fn bad_filters_are_errors_with_a_hint() {
        let e = resolve(&["--accounts", "12"]).unwrap_err();
        assert!(e.contains("hint: --accounts takes 12-digit ids"), "{e}");
        let e = resolve(&["--regions", "not a region"]).unwrap_err();
        assert!(e.contains("`not a region` is not an AWS region"), "{e}");
    }

    #[test]
    fn regression_a_misspelt_region_in_regions_gets_did_you_mean() {
        let e = resolve(&["--regions", "us-east-1,us-eats-1"]).unwrap_err();
        assert!(e.contains("`us-eats-1` is not an AWS region"), "{e}");
        assert!(e.contains("did you mean `us-east-1`?"), "{e}");
    }

    #[test]
    fn plan_and_apply_cannot_be_handed_html_or_ndjson() {
        assert_eq!(resolve(&[]).unwrap().infra_format(), Ok(InfraFormat::Text));
        assert_eq!(
            resolve(&["--format", "json"]).unwrap().infra_format(),
            Ok(InfraFormat::Json)
        );
        for f in ["html", "ndjson"] {
            let e = resolve(&["--format", f])
                .unwrap()
                .infra_format()
                .unwrap_err();
            assert!(e.contains(f), "{e}");
        }
    }
}
