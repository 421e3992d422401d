#!/usr/bin/env python3
"""Checks schemas/metadata.schema.json with an independent validator.

The schema must be a valid JSON Schema (draft 2020-12), accept the metadata
files `bisslog validate` accepts, and reject the files whose problems a JSON
Schema can express. Run from the repository root:

    python3 scripts/check-json-schema.py

Needs the PyPI packages `jsonschema` and `pyyaml` (.ci/run installs them).
"""
import json
import pathlib
import sys

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schemas/metadata.schema.json").read_text())
CONFORMANCE = ROOT / "crates/bisslog-schema/tests/conformance"
CORPUS = ROOT / "crates/bisslog-schema/tests/corpus"

# Codes whose fixtures a JSON Schema can reject too.
SCHEMA_EXPRESSIBLE = {"E020", "E021", "E022", "E030", "E031", "E034", "E037", "E039", "E040"}
# ... except these, which no JSON Schema can tell apart from valid files.
INEXPRESSIBLE = {"042-E021-infinite-event.yml"}  # JSON Schema has no notion of a finite number


def load(path):
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def main():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    accept = [CONFORMANCE / "company-data-registry.yml", CONFORMANCE / "user-management.yml"]
    accept += sorted(CORPUS.glob("*-W*.yml"))
    reject = [CONFORMANCE / "webhook.yml", CONFORMANCE / "webhook-wrong.yml"]
    reject += sorted(p for p in CORPUS.glob("*-E*.*")
                     if p.suffix in (".yml", ".json") and p.name.split("-")[1] in SCHEMA_EXPRESSIBLE
                     and p.name not in INEXPRESSIBLE)
    failures = []
    for path in accept:
        errors = list(validator.iter_errors(load(path)))
        if errors:
            failures.append(f"{path.name}: rejected: {errors[0].message}")
    for path in reject:
        try:
            document = load(path)
        except (yaml.YAMLError, json.JSONDecodeError):
            continue
        if validator.is_valid(document):
            failures.append(f"{path.name}: accepted, but bisslog reports an error the schema can express")
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        print(f"JSON Schema: {len(failures)} disagreement(s)")
    else:
        print(f"JSON Schema: {len(accept)} files accepted, {len(reject)} rejected, as bisslog does")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
