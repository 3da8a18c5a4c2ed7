"""Runs Athena queries on local flow-log files with DuckDB (tests/athena_equivalence.rs).

Usage: duckdb_equiv.py SPEC.json OUT.json

SPEC.json: {"database", "table", "glob", "hive": bool, "columns": [[name, athena_type], ...],
            "queries": [{"id", "sql"}, ...]}
Creates the table as a DuckDB view over the gzip text objects (header line, ' ' delimited,
'-' as NULL), with "$path" (the object's path) and the plain layout's partition columns parsed
from it (plain or Hive-compatible keys); transpiles each query from athena to duckdb with sqlglot and runs it. Writes
{id: {"columns": [...], "rows": [[text or null, ...], ...], "duckdb_sql": "..."}}.
"""
import json
import sys

import duckdb
import sqlglot

TYPES = {"int": "INTEGER", "bigint": "BIGINT", "string": "VARCHAR"}


def main():
    spec = json.load(open(sys.argv[1]))
    con = duckdb.connect()
    columns = ", ".join(f"'{n}': '{TYPES[t]}'" for n, t in spec["columns"])
    if spec.get("hive"):
        partitions = ",\n          ".join(
            f"regexp_extract(filename, '{k}=([0-9]+)/', 1) AS \"{k}\"" for k in ("year", "month", "day"))
        account, region = "aws-account-id=([0-9]{12})/", "aws-region=([a-z0-9-]+)/"
    else:
        partitions = "regexp_extract(filename, '/([0-9]{4}/[0-9]{2}/[0-9]{2})/', 1) AS \"day\""
        account, region = "AWSLogs/([0-9]{12})/", "vpcflowlogs/([a-z0-9-]+)/"
    con.execute(f'CREATE SCHEMA "{spec["database"]}"')
    con.execute(
        f'''CREATE VIEW "{spec["database"]}"."{spec["table"]}" AS
        SELECT *, filename AS "$path",
          regexp_extract(filename, '{account}', 1) AS aws_account,
          regexp_extract(filename, '{region}', 1) AS aws_region,
          {partitions}
        FROM read_csv('{spec["glob"]}', delim=' ', header=true, nullstr='-',
                      columns={{{columns}}}, filename=true, auto_detect=false)'''
    )
    out = {}
    for q in spec["queries"]:
        sql = sqlglot.transpile(q["sql"], read="athena", write="duckdb")[0]
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        rows = [[None if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in r]
                for r in cur.fetchall()]
        out[q["id"]] = {"columns": names, "rows": rows, "duckdb_sql": sql}
    json.dump(out, open(sys.argv[2], "w"), indent=1)


if __name__ == "__main__":
    main()
