//! `export athena`: the Athena table over one S3 destination ([`TableSpec`], from the config
//! and `model::layout`), its `CREATE EXTERNAL TABLE` ([`ddl`]) and the analysis queries filled
//! from the rule pack ([`queries`], [`sql`]). No I/O and no AWS calls: everything comes from
//! the config, the global `--accounts`/`--regions`/`--region` and the pack.

pub mod ddl;
pub mod queries;
pub mod sql;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::model::layout::{self, Layout};
use crate::model::regions::KNOWN_REGIONS;
use crate::model::target::partition_of;
use crate::model::{AccountSource, DesiredState, Destination, FileFormat, LogFormat, Regions};

/// The default database name.
pub const DEFAULT_DATABASE: &str = "flowkeeper";

/// One table column: a flow-log field, `-` replaced by `_`, with its Athena type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The column name (`account_id`, `log_status`, `end`).
    pub name: String,
    /// The flow-log field it holds (`account-id`).
    pub field: String,
    /// `int`, `bigint` or `string` (`FieldType::athena_type`).
    pub ty: &'static str,
}

/// How the account partition is projected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountProjection {
    /// An `enum` of these accounts.
    Enum(Vec<String>),
    /// `injected`: every query must say `aws_account IN (..)` (organizations, or accounts not
    /// known without asking AWS).
    Injected,
}

/// Everything the DDL and the queries need about one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    pub database: String,
    pub table: String,
    /// The destination's config name.
    pub destination: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub layout: Layout,
    pub format: FileFormat,
    pub columns: Vec<Column>,
    pub accounts: AccountProjection,
    pub regions: Vec<String>,
    /// The lifecycle's expiry: the date projection's range starts that many days ago.
    pub retention_days: Option<u32>,
}

impl TableSpec {
    /// `s3://bucket/[prefix/]AWSLogs/`.
    pub fn location(&self) -> String {
        format!(
            "s3://{}/{}",
            self.bucket,
            layout::aws_logs_root(self.prefix.as_deref())
        )
    }

    /// `"database"."table"`, quoted for SQL.
    pub fn qualified_name(&self) -> String {
        format!("\"{}\".\"{}\"", self.database, self.table)
    }

    /// Whether the table has this column.
    pub fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c.name == column)
    }
}

/// What the command line adds to the config.
#[derive(Clone, Debug, Default)]
pub struct SpecOptions {
    pub database: Option<String>,
    pub table: Option<String>,
    /// `--entry`: only this flow_logs entry's format.
    pub entry: Option<String>,
    /// `--accounts`: these accounts (an enum even where the config has an organization).
    pub accounts: Option<BTreeSet<String>>,
    /// `--regions`.
    pub regions: Option<Vec<String>>,
    /// `--region` / `AWS_REGION`, for a config without `regions:`.
    pub default_region: Option<String>,
}

/// Why no table can be written; each message names the config key and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    pub message: String,
    pub hint: Option<String>,
}

impl SpecError {
    fn new(message: String, hint: impl Into<Option<String>>) -> SpecError {
        SpecError {
            message,
            hint: hint.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n   = hint: {h}")?;
        }
        Ok(())
    }
}

/// `[^a-z0-9_]` → `_`, lower case: a Glue-safe name.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Athena database and table names: lowercase letters, digits and `_` (AWS's rule for names
/// Athena can create), so a name never needs quoting and never changes the SQL around it.
fn check_name(flag: &str, name: &str) -> Result<(), SpecError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SpecError::new(
            format!("{flag} `{name}` is not an Athena name"),
            "use lowercase letters, digits and _ (at most 255 characters)".to_string(),
        ))
    }
}

/// The tables over destination `name`: one per bucket its name template expands to.
pub fn table_specs(
    desired: &DesiredState,
    name: &str,
    opts: &SpecOptions,
) -> Result<Vec<TableSpec>, SpecError> {
    let dest = match desired.destinations.get(name) {
        Some(Destination::S3(d)) => d,
        Some(Destination::CloudwatchLogs(_)) => {
            return Err(SpecError::new(
                format!("destinations.{name} is a CloudWatch Logs destination; Athena reads S3 only"),
                "choose an S3 destination (type: s3), or query the log group with CloudWatch Logs Insights".to_string(),
            ));
        }
        None => {
            let known: Vec<&str> = desired.destinations.keys().map(String::as_str).collect();
            return Err(SpecError::new(
                format!("no destination `{name}` in the config"),
                format!("the config's destinations: {}", known.join(", ")),
            ));
        }
    };
    for (flag, value) in [("--database", &opts.database), ("--table", &opts.table)] {
        if let Some(v) = value {
            check_name(flag, v)?;
        }
    }
    let format = dest.options.file_format;
    let columns = columns(desired, name, format, opts.entry.as_deref())?;
    let accounts = accounts(desired, opts)?;
    let regions = regions(desired, opts)?;
    let layout = Layout::of(&dest.options);
    let base_table = opts
        .table
        .clone()
        .unwrap_or_else(|| format!("flowkeeper_{}", sanitize(name)));
    let database = opts
        .database
        .clone()
        .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
    let retention_days = dest.lifecycle.as_ref().and_then(|l| l.expire_days);
    let spec =
        |bucket: String, accounts: AccountProjection, regions: Vec<String>, table| TableSpec {
            database: database.clone(),
            table,
            destination: name.to_string(),
            bucket,
            prefix: dest.prefix.clone(),
            layout,
            format,
            columns: columns.clone(),
            accounts,
            regions,
            retention_days,
        };
    let raw = dest.bucket.raw();
    let uses_account = raw.contains("{account_id}");
    let uses_region = dest.bucket.uses_region();
    if !uses_account && !uses_region {
        return Ok(vec![spec(raw.to_string(), accounts, regions, base_table)]);
    }
    // A name per target: one table per bucket, each projecting the accounts and regions that
    // deliver to it.
    let account_list: Vec<String> = match (&accounts, uses_account) {
        (AccountProjection::Enum(a), _) => a.clone(),
        (AccountProjection::Injected, false) => vec![String::new()],
        (AccountProjection::Injected, true) if opts.accounts.is_some() => {
            opts.accounts.iter().flatten().cloned().collect()
        }
        (AccountProjection::Injected, true) => {
            return Err(SpecError::new(
                format!(
                    "destinations.{name}.bucket `{raw}` names a bucket per account, and the config does not list the accounts"
                ),
                "give them with --accounts 111111111111,222222222222".to_string(),
            ));
        }
    };
    let mut buckets: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for a in &account_list {
        for r in &regions {
            let entry = buckets.entry(dest.bucket.render(a, r)).or_default();
            entry.0.insert(a.clone());
            entry.1.insert(r.clone());
        }
    }
    Ok(buckets
        .into_iter()
        .map(|(bucket, (accts, regs))| {
            let mut table = base_table.clone();
            if uses_account && let Some(a) = accts.iter().next() {
                table.push('_');
                table.push_str(a);
            }
            if uses_region && let Some(r) = regs.iter().next() {
                table.push('_');
                table.push_str(&sanitize(r));
            }
            // A bucket per account holds exactly its accounts' folders.
            let projection = match &accounts {
                AccountProjection::Injected if !uses_account => AccountProjection::Injected,
                _ => AccountProjection::Enum(accts.into_iter().collect()),
            };
            spec(bucket, projection, regs.into_iter().collect(), table)
        })
        .collect())
}

/// The columns of the formats delivered to `name`: text tables are positional, so every entry
/// must write the same format; Parquet columns match by name, so the union (in catalogue
/// order) serves all.
fn columns(
    desired: &DesiredState,
    name: &str,
    format: FileFormat,
    entry: Option<&str>,
) -> Result<Vec<Column>, SpecError> {
    let feeding: Vec<(&str, &LogFormat)> = desired
        .flow_logs
        .iter()
        .filter(|e| e.destinations.iter().any(|d| d == name))
        .filter(|e| entry.is_none_or(|want| e.name == want))
        .map(|e| (e.name.as_str(), &e.format))
        .collect();
    let Some(&(_, first)) = feeding.first() else {
        return Err(SpecError::new(
            match entry {
                Some(e) => {
                    format!("flow_logs entry `{e}` does not deliver to destination `{name}`")
                }
                None => format!("no flow_logs entry delivers to destination `{name}`"),
            },
            "the table's columns are the log format of the entries that deliver to it".to_string(),
        ));
    };
    let fields: Vec<String> = match format {
        FileFormat::PlainText => {
            if let Some((other, _)) = feeding.iter().find(|(_, f)| *f != first) {
                return Err(SpecError::new(
                    format!(
                        "flow_logs entries `{}` and `{other}` write different log formats to text destination `{name}`; a text table's columns are positional",
                        feeding[0].0
                    ),
                    "choose one with --entry NAME (one table per format), or give the entries the same format".to_string(),
                ));
            }
            first.fields().to_vec()
        }
        FileFormat::Parquet => {
            let used: BTreeSet<&str> = feeding
                .iter()
                .flat_map(|(_, f)| f.fields().iter().map(String::as_str))
                .collect();
            flowlog::field::all()
                .iter()
                .filter(|f| used.contains(f.name))
                .map(|f| f.name.to_string())
                .collect()
        }
    };
    fields
        .iter()
        .map(|f| {
            let info = flowlog::field::lookup(f).ok_or_else(|| {
                SpecError::new(
                    format!("unknown flow-log field `{f}` in a format delivering to `{name}`"),
                    None,
                )
            })?;
            Ok(Column {
                name: f.replace('-', "_"),
                field: f.clone(),
                ty: info.ty.athena_type(),
            })
        })
        .collect()
}

fn accounts(desired: &DesiredState, opts: &SpecOptions) -> Result<AccountProjection, SpecError> {
    let listed: Option<Vec<String>> = match &desired.accounts {
        AccountSource::List { accounts } => {
            Some(accounts.iter().map(|a| a.id.to_string()).collect())
        }
        AccountSource::Organization(_) | AccountSource::Current => None,
    };
    Ok(match (listed, &opts.accounts) {
        (Some(l), Some(filter)) => {
            let kept: Vec<String> = l.into_iter().filter(|a| filter.contains(a)).collect();
            if kept.is_empty() {
                return Err(SpecError::new(
                    "--accounts leaves none of the config's accounts".to_string(),
                    "name accounts listed under accounts: in the config".to_string(),
                ));
            }
            AccountProjection::Enum(kept)
        }
        (Some(l), None) => AccountProjection::Enum(l),
        // An organization's (or the current account's) archive is one table whatever the
        // run: its account partition stays injected, and `--accounts` only becomes each
        // query's `"aws_account" IN (..)` (Athena refuses injected columns without it).
        (None, _) => AccountProjection::Injected,
    })
}

fn regions(desired: &DesiredState, opts: &SpecOptions) -> Result<Vec<String>, SpecError> {
    let mut set: BTreeSet<String> = BTreeSet::new();
    let mut add = |r: &Regions| -> Result<(), SpecError> {
        match r {
            Regions::List(l) => set.extend(l.iter().cloned()),
            Regions::All => {
                let partition = opts.default_region.as_deref().map_or("aws", partition_of);
                set.extend(
                    KNOWN_REGIONS
                        .iter()
                        .filter(|r| partition_of(r) == partition)
                        .map(|r| r.to_string()),
                );
            }
            Regions::Default => match &opts.default_region {
                Some(r) => {
                    set.insert(r.clone());
                }
                None => {
                    return Err(SpecError::new(
                        "the config has no regions: and no region is given".to_string(),
                        "pass --region REGION (or set AWS_REGION), or --regions a,b".to_string(),
                    ));
                }
            },
        }
        Ok(())
    };
    if let Some(filter) = &opts.regions {
        return Ok(filter.clone());
    }
    add(&desired.regions)?;
    if let AccountSource::List { accounts } = &desired.accounts {
        for a in accounts {
            if let Some(r) = &a.regions {
                add(r)?;
            }
        }
    }
    Ok(set.into_iter().collect())
}

#[cfg(test)]
mod name_tests {
    use super::check_name;

    #[test]
    fn only_plain_athena_names_are_accepted() {
        assert!(check_name("--table", "flowkeeper_archive_2").is_ok());
        for bad in ["", "Bad-DB", "a`b", "x\"; DROP TABLE y; --", "t.x"] {
            let e = check_name("--table", bad).unwrap_err();
            assert!(e.to_string().contains("--table"), "{e}");
        }
    }
}
