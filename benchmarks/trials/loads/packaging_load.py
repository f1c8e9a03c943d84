"""Load for the packaging trial: parse, compare and filter versions, specifiers, requirements.

Deterministic: the inputs come from a fixed seed. About three seconds of CPU on one core
with packaging 21.3, one with 22.0.
"""

import random

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROUNDS = 2
REQUIREMENTS_PER_ROUND = 900


def inputs() -> tuple[list[str], list[str], list[str]]:
    rng = random.Random(20241202)
    versions = []
    for _ in range(3000):
        parts = ".".join(str(rng.randint(0, 30)) for _ in range(rng.randint(1, 4)))
        suffix = rng.choice(["", "", "", "a1", "b2", "rc1", ".post1", ".dev3", "+local.7"])
        versions.append(parts + suffix)
    ops = ["==", ">=", "<=", "~=", "!=", ">", "<"]
    specifiers = []
    for _ in range(300):
        clauses = [
            f"{rng.choice(ops)}{rng.randint(0, 30)}.{rng.randint(0, 30)}"
            for _ in range(rng.randint(1, 3))
        ]
        specifiers.append(",".join(clauses))
    names = ["requests", "numpy", "flask", "django", "attrs", "rich", "typer", "pandas"]
    requirements = [
        f"{rng.choice(names)}[extra{rng.randint(0, 3)}]{specifiers[i % len(specifiers)]}"
        + (' ; python_version >= "3.8"' if i % 3 == 0 else "")
        for i in range(REQUIREMENTS_PER_ROUND)
    ]
    return versions, specifiers, requirements


def main() -> None:
    versions, specifiers, requirements = inputs()
    for _ in range(ROUNDS):
        parsed = [Version(text) for text in versions]
        parsed.sort()
        for text in specifiers[:60]:
            spec = SpecifierSet(text, prereleases=True)
            list(spec.filter(parsed[:400]))
        for text in requirements:
            requirement = Requirement(text)
            if requirement.marker is not None:
                requirement.marker.evaluate()


if __name__ == "__main__":
    main()
