"""deploy/Containerfile (and the build context's .dockerignore), linted by parsing them.

No container engine runs here, so the test reads the file as an engine would: instructions,
stages, what each COPY takes from the build context, and the command the image runs.
"""
from __future__ import annotations

import fnmatch
import json
import re
import shlex

from .conftest import DEPLOY, ROOT

CHECKS = {"deploy/Containerfile"}
CONTAINERFILE = DEPLOY / "Containerfile"
INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined, current = [], ""
    for line in CONTAINERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        joined.append(current + stripped)
        current = ""
    assert current == "", "the file ends inside a continued line"
    pairs = []
    for line in joined:
        keyword, _, arguments = line.partition(" ")
        pairs.append((keyword, arguments.strip()))
    return pairs


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions():
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, arguments))
    return result


def ignored(path: str) -> bool:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return any(fnmatch.fnmatch(path.rstrip("/"), pattern.rstrip("/")) for pattern in patterns)


def test_every_instruction_is_valid_and_the_first_is_from():
    pairs = instructions()
    assert pairs[0][0] == "FROM"
    for keyword, arguments in pairs:
        assert keyword in INSTRUCTIONS, f"unknown instruction {keyword}"
        assert keyword.isupper() and arguments, keyword


def test_stages_are_named_and_referenced_consistently():
    named = {}
    for stage in stages():
        words = stage[0][1].split()
        assert re.fullmatch(r"docker\.io/library/[a-z0-9.-]+:[\w.-]+", words[0]), \
            f"pin base images by registry and tag: {words[0]}"
        if len(words) == 3:
            assert words[1].upper() == "AS"
            named[words[2]] = stage
    for stage in stages():
        for keyword, arguments in stage:
            for source_stage in re.findall(r"--from=(\S+)", arguments):
                assert source_stage in named, f"COPY --from={source_stage}: no such stage"


def test_copies_take_files_that_exist_and_are_not_ignored():
    for stage in stages():
        for keyword, arguments in stage:
            if keyword != "COPY" or "--from=" in arguments:
                continue
            *sources, _destination = shlex.split(arguments)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
    for heavy in (".venv", "var", ".git", "addin/vendor"):
        assert ignored(heavy), f"{heavy} would be sent to the engine with the build context"


def test_runtime_requirements_are_cut_where_the_build_expects():
    build = " ".join(arguments for keyword, arguments in instructions() if keyword == "RUN")
    marker = re.search(r"sed '/\^(# [^/]+)/,\$d' requirements.txt", build).group(1)
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    runtime = requirements.split(marker)[0]
    assert marker in requirements
    for package in ("Flask==", "gunicorn==", "psycopg[binary]=="):
        assert package in runtime
    assert "pytest==" not in runtime and "playwright==" not in runtime


def test_the_add_in_stage_runs_a_makefile_target_that_exists():
    [addin] = [s for s in stages() if s[0][1].endswith(" AS addin")]
    [make] = [arguments for keyword, arguments in addin if keyword == "RUN" and
              arguments.startswith("make ")]
    target = make.split()[1]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"Makefile has no {target} target"
    copied = {source for keyword, arguments in addin if keyword == "COPY"
              for source in shlex.split(arguments)[:-1]}
    assert {"Makefile", "package.json", "addin/"} <= copied  # what `make vendor` reads


def test_the_image_runs_gunicorn_as_documented_as_a_non_root_user():
    final = stages()[-1]
    last = {keyword: arguments for keyword, arguments in final}
    assert json.loads(last["CMD"]) == ["gunicorn", "-c", "deploy/gunicorn.conf.py",
                                       "backend:create_app()"]
    assert last["USER"] not in {"root", "0"}
    env = dict(re.findall(r"(\w+)=(\S+)", last["ENV"]))
    assert env["GUNICORN_BIND"] == f"0.0.0.0:{last['EXPOSE']}"
    assert env["PLUME_DATA_DIR"] == "/var/lib/plume"
    assert "/healthz" in last["HEALTHCHECK"]
    copied = {shlex.split(arguments)[-1] for keyword, arguments in final if keyword == "COPY"}
    assert {"backend/", "manifest/", "addin/", "deploy/gunicorn.conf.py"} <= copied
