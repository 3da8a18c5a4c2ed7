//! `CREATE EXTERNAL TABLE` for a [`TableSpec`]: the log format's columns in order, partitions
//! projected (so no partition maintenance is needed), the location template from
//! `model::layout`. Identifiers are backquoted (Hive DDL), so `end`, `day`, `hour` and `type`
//! need no thought.

use super::{AccountProjection, TableSpec};
use crate::model::FileFormat;
use crate::model::layout::{partition_columns, projection_template};

/// The start of the date projection when the destination has no expiry: ten years.
pub const DEFAULT_RANGE_DAYS: u32 = 3650;

/// The DDL text, ending with a newline.
pub fn create_table(spec: &TableSpec) -> String {
    let mut out = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS `{}`.`{}` (\n",
        spec.database, spec.table
    );
    let columns: Vec<String> = spec
        .columns
        .iter()
        .map(|c| format!("  `{}` {}", c.name, c.ty))
        .collect();
    out.push_str(&columns.join(",\n"));
    out.push_str("\n)\nPARTITIONED BY (\n");
    let partitions: Vec<String> = partition_columns(spec.layout)
        .iter()
        .map(|p| format!("  `{p}` string"))
        .collect();
    out.push_str(&partitions.join(",\n"));
    out.push_str("\n)\n");
    match spec.format {
        FileFormat::PlainText => out.push_str("ROW FORMAT DELIMITED\nFIELDS TERMINATED BY ' '\n"),
        FileFormat::Parquet => out.push_str(concat!(
            "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n",
            "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\n",
            "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'\n",
        )),
    }
    out.push_str(&format!(
        "LOCATION '{}'\nTBLPROPERTIES (\n",
        spec.location()
    ));
    let props: Vec<String> = properties(spec)
        .into_iter()
        .map(|(k, v)| format!("  '{k}' = '{v}'"))
        .collect();
    out.push_str(&props.join(",\n"));
    out.push_str("\n)\n");
    out
}

/// The table properties, in output order.
fn properties(spec: &TableSpec) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| p.push((k.to_string(), v));
    if spec.format == FileFormat::PlainText {
        // The first line of each object is the format's field names; `-` is an absent value.
        add("skip.header.line.count", "1".into());
        add("serialization.null.format", "-".into());
    }
    add("projection.enabled", "true".into());
    match &spec.accounts {
        AccountProjection::Enum(ids) => {
            add("projection.aws_account.type", "enum".into());
            add("projection.aws_account.values", ids.join(","));
        }
        AccountProjection::Injected => add("projection.aws_account.type", "injected".into()),
    }
    add("projection.aws_region.type", "enum".into());
    add("projection.aws_region.values", spec.regions.join(","));
    let days = spec.retention_days.unwrap_or(DEFAULT_RANGE_DAYS);
    if spec.layout.hive {
        add("projection.year.type", "integer".into());
        add("projection.year.range", "2015,2099".into());
        add("projection.month.type", "integer".into());
        add("projection.month.range", "1,12".into());
        add("projection.month.digits", "2".into());
        add("projection.day.type", "integer".into());
        add("projection.day.range", "1,31".into());
        add("projection.day.digits", "2".into());
    } else {
        add("projection.day.type", "date".into());
        add("projection.day.format", "yyyy/MM/dd".into());
        add("projection.day.range", format!("NOW-{days}DAYS,NOW"));
        add("projection.day.interval", "1".into());
        add("projection.day.interval.unit", "DAYS".into());
    }
    if spec.layout.per_hour {
        add("projection.hour.type", "integer".into());
        add("projection.hour.range", "0,23".into());
        add("projection.hour.digits", "2".into());
    }
    add(
        "storage.location.template",
        projection_template(spec.layout, &spec.bucket, spec.prefix.as_deref()),
    );
    p
}
