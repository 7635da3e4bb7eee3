#!/usr/bin/env python3
"""Lists the public symbols of library targets that have no `///` doc comment, and fails if any.

    .ci/doc-coverage.py                      # the modules in MODULES below
    .ci/doc-coverage.py Backprop OtherTarget # these modules
    .ci/doc-coverage.py --symbol-graph-dir DIR Backprop   # reuse symbol graphs already dumped

It runs `swift package dump-symbol-graph --skip-synthesized-members --skip-inherited-docs`
(a debug build, then the compiler's symbol-graph extraction), reads `<Module>.symbols.json` and
`<Module>@<Other>.symbols.json` (extensions of other modules' types) and reports, as
`file:line kind symbol`, each symbol that

- is `public` or `open` (the graph holds no lower access level at the default minimum level),
- is declared in our source: it has a source location inside this package. Symbols without one
  are written by the compiler (`init(rawValue:)`, a synthesized `init(from:)`, `CodingKeys`),
  and default implementations inherited from protocols are not in the graph at all
  (`--skip-synthesized-members`), so neither is asked for a comment,
- and has no doc comment of its own: none, an empty one, or one written in another file (a
  protocol requirement's comment is not inherited: `--skip-inherited-docs`, and this check
  besides). A member that implements a protocol requirement is written in our source and needs
  its own comment saying what it does for this type.

Several declarations on one line (`case a, b, c`, `public let x, y: Int`) share the comment above
that line; the report lists each. Exit status: 0 when every symbol is documented, 1 otherwise,
2 when the symbol graphs could not be made or read. Needs only Swift and Python 3 (no packages).
"""
import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

# The library targets whose public symbols must all be documented.
MODULES = ["BackpropKernels", "Backprop", "BackpropExplain", "BackpropBenchmarks", "BackpropDerivatives",
           "BackpropDifferentiable"]

# Source folders whose symbols are not checked (none). Paths relative to the package root.
EXCLUDED_PATHS: list[str] = []

ROOT = Path(__file__).resolve().parent.parent


def fail(message: str) -> None:
    print(f"doc-coverage: {message}", file=sys.stderr)
    sys.exit(2)


def dump_symbol_graphs() -> Path:
    """Runs `swift package dump-symbol-graph` and returns the folder it wrote."""
    command = ["swift", "package", "dump-symbol-graph",
               "--skip-synthesized-members", "--skip-inherited-docs"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        sys.stderr.write(output[-4000:])
        fail(f"`{' '.join(command)}` failed ({result.returncode})")
    match = re.search(r"Files written to (\S+)", output)
    if not match:
        sys.stderr.write(output[-4000:])
        fail("could not find where dump-symbol-graph wrote its files")
    return Path(match.group(1).strip())


def source_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path)).resolve()


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def has_own_doc_comment(symbol: dict, module: str) -> bool:
    doc = symbol.get("docComment")
    if not doc:
        return False
    if not any(line.get("text", "").strip() for line in doc.get("lines", [])):
        return False
    if doc.get("module") not in (None, module):
        return False
    location_uri = symbol["location"]["uri"]
    doc_uri = doc.get("uri")
    return doc_uri is None or source_path(doc_uri) == source_path(location_uri)


def undocumented(graph_dir: Path, module: str) -> list[tuple[str, int, str, str]]:
    files = sorted(graph_dir.glob(f"{module}.symbols.json")) + sorted(graph_dir.glob(f"{module}@*.symbols.json"))
    if not any(f.name == f"{module}.symbols.json" for f in files):
        fail(f"no symbol graph for module {module} in {graph_dir}")
    found = set()
    for file in files:
        try:
            graph = json.loads(file.read_text())
        except (OSError, ValueError) as error:
            fail(f"cannot read {file}: {error}")
        for symbol in graph.get("symbols", []):
            if symbol.get("accessLevel") not in ("public", "open"):
                continue
            location = symbol.get("location")
            if not location:
                continue  # written by the compiler
            path = source_path(location["uri"])
            if ROOT not in path.parents:
                continue  # not this package's source
            rel = relative(path)
            if any(rel.startswith(prefix) for prefix in EXCLUDED_PATHS):
                continue
            if has_own_doc_comment(symbol, module):
                continue
            line = location["position"]["line"] + 1
            kind = symbol["kind"]["identifier"].removeprefix("swift.")
            name = ".".join(symbol.get("pathComponents", [])) or symbol["names"]["title"]
            found.add((rel, line, kind, name))
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=MODULES,
                        help=f"library targets to check (default: {' '.join(MODULES)})")
    parser.add_argument("--symbol-graph-dir", type=Path,
                        help="read the symbol graphs in this folder instead of dumping them")
    args = parser.parse_args()

    graph_dir = args.symbol_graph_dir or dump_symbol_graphs()
    missing = []
    for module in args.modules:
        missing += [(module, *entry) for entry in undocumented(graph_dir, module)]
    for module, file, line, kind, name in missing:
        print(f"{file}:{line} {kind} {name}")
    if missing:
        print(f"doc-coverage: {len(missing)} public symbols without a doc comment "
              f"in {', '.join(args.modules)}", file=sys.stderr)
        return 1
    print(f"doc-coverage: every public symbol of {', '.join(args.modules)} has a doc comment "
          f"(excluded: {', '.join(EXCLUDED_PATHS) or 'nothing'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
