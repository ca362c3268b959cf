"""Print seed-qa's requirements for some extras, one per line, from pyproject.toml.

    python -m scripts.requirements_of dev,llm > reqs.txt
    pip install -c requirements.lock -r reqs.txt && pip install --no-deps -e .

pip checks a lock's hashes only for packages from an index: the project itself (a folder, no
single file to hash) cannot be installed in that mode. So its requirements are installed first,
pinned and hash-checked by the lock, and then the project without dependencies.
Self-references such as ``seed-qa[llm]`` in the dev extra are expanded.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_SELF = re.compile(r"seed-qa\[([A-Za-z0-9_,\- ]+)\]")


def requirements(extras: list[str], pyproject: Path = Path("pyproject.toml")) -> list[str]:
    """The base dependencies plus those of ``extras`` (expanding ``seed-qa[...]``), in order."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    result: list[str] = []
    seen: set[str] = set()

    def add(lines: list[str]) -> None:
        for line in lines:
            own = _SELF.fullmatch(line.strip())
            if own:
                for extra in own.group(1).split(","):
                    if extra.strip() not in seen:
                        seen.add(extra.strip())
                        add(optional[extra.strip()])
            elif line not in result:
                result.append(line)

    add(list(project.get("dependencies", [])))
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"unknown extra {extra!r}; pyproject.toml has: {', '.join(sorted(optional))}")
        if extra not in seen:
            seen.add(extra)
            add(optional[extra])
    return result


if __name__ == "__main__":
    names = [e.strip() for e in (sys.argv[1] if len(sys.argv) > 1 else "").split(",") if e.strip()]
    print("\n".join(requirements(names)))
