"""Deploys CloudFormation templates to the test's moto server, as
`aws cloudformation deploy` would, and waits for each stack to complete.

Usage: python3 tests/support/cfn_deploy.py --endpoint URL --region REGION
           [--param KEY=VALUE ...] [--param-file STACK=FILE ...]
           STACK=TEMPLATE [STACK=TEMPLATE ...]

Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN): the test's account. Stacks are created in the order given
(a global stack before the regional ones), each with CAPABILITY_NAMED_IAM, and
polled until CREATE_COMPLETE, with a deadline (no fixed sleeps as
synchronisation: moto usually completes within the CreateStack call). A stack
that fails, or does not complete in time, prints its events and exits 1. A
--param applies to every stack whose template declares that parameter; a
--param-file (CloudFormation's JSON parameter file, as `export cloudformation`
writes for StackSet instances) to the named stack only."""

import argparse
import json
import sys
import time

import boto3
import yaml

DEADLINE_SECONDS = 60


class _Loader(yaml.SafeLoader):
    """Reads short-form intrinsics (!Ref, !Sub ...) as plain values: only the
    parameter names are needed here."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def declared_parameters(text):
    doc = yaml.load(text, Loader=_Loader) or {}
    return set((doc.get("Parameters") or {}).keys())


def wait(cfn, name):
    deadline = time.monotonic() + DEADLINE_SECONDS
    delay = 0.05
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status == "CREATE_COMPLETE":
            return
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            events = cfn.describe_stack_events(StackName=name)["StackEvents"]
            for e in events:
                print(
                    f"  {e.get('LogicalResourceId')} {e.get('ResourceStatus')} "
                    f"{e.get('ResourceStatusReason', '')}",
                    file=sys.stderr,
                )
            sys.exit(f"stack {name}: {status}")
        time.sleep(delay)  # polling with a deadline, backing off
        delay = min(delay * 2, 1.0)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--param", action="append", default=[])
    p.add_argument("--param-file", action="append", default=[])
    p.add_argument("stacks", nargs="+", metavar="STACK=TEMPLATE")
    args = p.parse_args()
    params = dict(kv.split("=", 1) for kv in args.param)
    cfn = boto3.client("cloudformation", region_name=args.region, endpoint_url=args.endpoint)
    for spec in args.stacks:
        name, path = spec.split("=", 1)
        with open(path) as f:
            body = f.read()
        wanted = declared_parameters(body)
        given = dict(params)
        for spec_file in args.param_file:
            stack, file = spec_file.split("=", 1)
            if stack == name:
                with open(file) as f:
                    given.update({p["ParameterKey"]: p["ParameterValue"] for p in json.load(f)})
        cfn.create_stack(
            StackName=name,
            TemplateBody=body,
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v}
                for k, v in sorted(given.items())
                if k in wanted
            ],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        wait(cfn, name)
        print(f"{name} CREATE_COMPLETE")


if __name__ == "__main__":
    main()
