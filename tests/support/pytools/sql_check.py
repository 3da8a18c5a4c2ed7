"""Parses Athena DDL and queries with sqlglot (tests/athena_sql.rs).

Usage: sql_check.py ddl FILE... | sql_check.py query FILE...

A DDL file must parse, with read="athena", to exactly one exp.Create; a query file must parse
to exactly one statement with both read="athena" and read="trino", and not fall back to
exp.Command. Any warning sqlglot logs (its fallback for what it cannot parse) fails the file.
Prints one line per failure and exits 1 when there is any.
"""
import logging
import sys

import sqlglot
from sqlglot import exp

warnings = []


class Collect(logging.Handler):
    def emit(self, record):
        warnings.append(record.getMessage())


logging.getLogger("sqlglot").addHandler(Collect())
logging.getLogger("sqlglot").setLevel(logging.WARNING)


def check(kind, path):
    text = open(path).read()
    problems = []
    dialects = ["athena"] if kind == "ddl" else ["athena", "trino"]
    for dialect in dialects:
        del warnings[:]
        try:
            trees = [t for t in sqlglot.parse(text, read=dialect) if t is not None]
        except sqlglot.errors.ParseError as e:
            problems.append(f"{dialect}: {e}")
            continue
        if len(trees) != 1:
            problems.append(f"{dialect}: {len(trees)} statements, expected 1")
            continue
        tree = trees[0]
        if kind == "ddl" and not isinstance(tree, exp.Create):
            problems.append(f"{dialect}: parsed as {type(tree).__name__}, not Create")
        if kind == "query" and isinstance(tree, exp.Command):
            problems.append(f"{dialect}: fell back to Command")
        for w in warnings:
            problems.append(f"{dialect}: warning: {w}")
    return problems


def main():
    kind, files = sys.argv[1], sys.argv[2:]
    failed = 0
    for path in files:
        for p in check(kind, path):
            print(f"{path}: {p}")
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
