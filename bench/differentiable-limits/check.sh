#!/usr/bin/env bash
# The toolchain limits met by BackpropDifferentiable, each as a reproducer: builds every file
# here inside the differentiable-step target (debug or release, as its first line says) and
# reports whether it still fails with the documented message. A reproducer that builds means
# the toolchain lifted the limit: update Sources/BackpropDifferentiable/BackpropDifferentiable.docc.
#
#   bench/differentiable-limits/check.sh          # about 20 s a file after a first build
set -uo pipefail
cd "$(dirname "$0")/../.."
target=bench/DifferentiableStep
status=0
for file in bench/differentiable-limits/*.swift; do
    header=$(head -n 1 "$file")
    mode=$(sed -E 's/^\/\/ expect \(([a-z]+)\):.*/\1/' <<<"$header")
    expected=$(sed -E 's/^\/\/ expect \([a-z]+\): //' <<<"$header")
    cp "$file" "$target/Limit.swift"
    output=$(swift build -c "$mode" --product differentiable-step 2>&1)
    built=$?
    rm -f "$target/Limit.swift"
    name=$(basename "$file" .swift)
    if grep -qF -- "$expected" <<<"$output"; then
        echo "still   $name: $expected"
    elif [ $built -eq 0 ]; then
        echo "LIFTED  $name: builds now ($mode)"; status=1
    else
        echo "CHANGED $name: fails differently:"; grep -E "error|Fatal" <<<"$output" | head -n 3; status=1
    fi
done
swift build -c release --product differentiable-step >/dev/null 2>&1   # leave the target as it was
exit $status
