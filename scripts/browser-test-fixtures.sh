#!/usr/bin/env bash
# The browser test, tested: it passes on the good fixture site and fails,
# saying why, on a site with a console error and on one with a diagram
# drawn at zero size. Screenshots go under $1 (one directory per fixture).
set -euo pipefail
cd "$(dirname "$0")"
shots=${1:?usage: scripts/browser-test-fixtures.sh <screenshots directory>}

node browser-test.mjs fixtures/site "$shots/fixture-site"

# must_fail <fixture> <message it must print>
must_fail() {
    local out status=0
    out=$(node browser-test.mjs "fixtures/$1" "$shots/fixture-$1" 2>&1) || status=$?
    if [ "$status" -ne 1 ]; then
        printf '%s\n' "$out" >&2
        echo "browser-test-fixtures: fixtures/$1 must fail with status 1, got $status" >&2
        exit 1
    fi
    if ! grep -qF -- "$2" <<<"$out"; then
        printf '%s\n' "$out" >&2
        echo "browser-test-fixtures: fixtures/$1 failed without saying \"$2\"" >&2
        exit 1
    fi
    echo "fixtures/$1 fails as it must: $2"
}
must_fail console-error "console error: the system map failed to render"
must_fail zero-size-svg "svg.diagram #1 (service-diagram) has a zero-size bounding box"
echo "browser-test-fixtures: passed"
