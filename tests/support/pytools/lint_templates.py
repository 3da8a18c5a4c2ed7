"""Runs cfn-lint (the version pinned in requirements.txt) on the CloudFormation templates named
on the command line: exit 0 when every template is clean, otherwise cfn-lint's own exit code
(2 errors, 4 warnings, 8 informational, or-ed) with its findings on stdout, one per line
(`--format parseable`: file:line:column:...:rule:message).

The cfn-lint package has no `__main__`, so its runner is called directly."""

import sys


def main(paths):
    if not paths:
        print("usage: lint_templates.py TEMPLATE...", file=sys.stderr)
        return 1
    try:
        from cfnlint.runner import main as cfn_lint
    except ImportError:
        print("cfn-lint is not installed: run scripts/ensure-pytools", file=sys.stderr)
        return 1
    sys.argv = ["cfn-lint", "--format", "parseable", "--", *paths]
    try:
        cfn_lint()
    except SystemExit as e:
        return int(e.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
