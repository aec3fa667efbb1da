#!/usr/bin/env python3
"""Checks that every module a target's Swift files import is declared in Package.swift.

SwiftPM lets a target import a module it reaches only through another target's dependencies, so
the arrows in docs/architecture.md hold only if something checks them: this does, in CI
(tools/test.sh). A declared dependency is a target named in the target's `dependencies` or a
module of a product named there; the toolchain's own modules are always allowed.

    tools/check-imports.py        exit 1 and list each undeclared import
"""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Modules that come with the toolchain and need no declaration.
TOOLCHAIN = {
    "Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Darwin",
    "Dispatch", "Synchronization", "_Concurrency", "Swift", "XCTest", "Testing", "os",
    "PackagePlugin", "CoreFoundation",
}

# Products whose modules differ from their name (the products of the local package copies).
PRODUCT_MODULES = {
    "Metrics": {"Metrics", "CoreMetrics"},
    "Tracing": {"Tracing", "Instrumentation", "ServiceContextModule"},
    "ServiceLifecycle": {"ServiceLifecycle", "UnixSignals"},
    "Histogram": {"Histogram"},
}

IMPORT = re.compile(
    r"^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?"
    r"import\s+(?:(?:struct|class|enum|protocol|typealias|func|var|let)\s+)?([A-Za-z_][A-Za-z0-9_]*)"
)


def main() -> int:
    manifest = json.loads(
        subprocess.run(
            ["swift", "package", "dump-package"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    )
    targets = {target["name"]: target for target in manifest["targets"]}
    problems = []
    for name, target in sorted(targets.items()):
        if target["type"] in ("system", "plugin", "binary"):
            continue
        allowed = set(TOOLCHAIN) | {name}
        for dependency in target.get("dependencies", []):
            kind, values = next(iter(dependency.items()))
            dependency_name = values[0]
            if kind == "product":
                allowed |= PRODUCT_MODULES.get(dependency_name, {dependency_name})
            else:
                allowed.add(dependency_name)
                # An executable target is imported by its module name (dashes become underscores).
                allowed.add(dependency_name.replace("-", "_"))
        default_root = "Tests" if target["type"] == "test" else "Sources"
        path = os.path.join(ROOT, target.get("path") or os.path.join(default_root, name))
        for directory, _, files in os.walk(path):
            for file in sorted(files):
                if not file.endswith(".swift"):
                    continue
                file_path = os.path.join(directory, file)
                with open(file_path, encoding="utf-8") as source:
                    in_string = False  # inside a `"""` literal (a Python script in a test, say)
                    for number, line in enumerate(source, 1):
                        if line.count('"""') % 2 == 1:
                            in_string = not in_string
                            continue
                        match = None if in_string else IMPORT.match(line)
                        if match and match.group(1) not in allowed:
                            problems.append(
                                f"{os.path.relpath(file_path, ROOT)}:{number}: {name} imports {match.group(1)}, "
                                "which its Package.swift dependencies do not declare"
                            )
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
