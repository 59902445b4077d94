"""The scheduling files in deploy/: systemd units and the crontab line (docs/scheduling.md)."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from linkaudit.alerts import parse_rule
from linkaudit.analysis.model import SEVERITY
from linkaudit.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
SERVICE = DEPLOY / "linkaudit@.service"
TIMER = DEPLOY / "linkaudit@.timer"
CRONTAB = DEPLOY / "crontab.example"
# Where the unit files expect the clone; the verify test swaps in this checkout.
INSTALL_DIR = "/opt/linkaudit"


def read_unit(path: Path) -> configparser.ConfigParser:
    # systemd keys are case-sensitive and may repeat; values hold % specifiers.
    parser = configparser.ConfigParser(strict=False, interpolation=None,
                                       comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def linkaudit_arguments(command: list[str], site: str) -> list[str]:
    """The arguments after the linkaudit executable, with the site name filled in."""
    start = next(i for i, word in enumerate(command) if word.endswith("/.venv/bin/linkaudit"))
    return [word.replace("%i", site) for word in command[start + 1:]]


def check_run_arguments(arguments: list[str]) -> None:
    """The command line parses, names a site file in the clone and only valid rules."""
    args = build_parser().parse_args(arguments)
    assert args.command == "run"
    assert re.fullmatch(r"config/sites/[\w.-]+\.toml", args.config)
    assert args.fail_on
    for rule in args.fail_on:
        parse_rule(rule, set(SEVERITY))


# ---------------------------------------------------------------------------
# Service


def test_service_is_a_oneshot_run_in_the_clone():
    service = read_unit(SERVICE)["Service"]
    assert service["Type"] == "oneshot"
    assert service["WorkingDirectory"] == INSTALL_DIR
    assert service["ExecStart"].startswith(f"{INSTALL_DIR}/.venv/bin/linkaudit run ")


def test_service_reads_the_site_file_named_by_the_instance():
    words = shlex.split(read_unit(SERVICE)["Service"]["ExecStart"])
    assert "--config" in words
    assert words[words.index("--config") + 1] == "config/sites/%i.toml"
    assert "--quiet" in words


def test_service_command_line_is_accepted_by_linkaudit():
    words = shlex.split(read_unit(SERVICE)["Service"]["ExecStart"])
    arguments = linkaudit_arguments(words, "demo")
    check_run_arguments(arguments)
    assert (REPO / arguments[arguments.index("--config") + 1]).is_file()


def test_service_may_write_only_the_reports_folder():
    service = read_unit(SERVICE)["Service"]
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == f"{INSTALL_DIR}/reports"


def test_service_waits_for_the_network():
    unit = read_unit(SERVICE)["Unit"]
    assert "network-online.target" in unit["After"].split()
    assert "network-online.target" in unit["Wants"].split()


# ---------------------------------------------------------------------------
# Timer


@pytest.mark.parametrize(("key", "expected"), [
    ("OnCalendar", "daily"),
    ("Persistent", "true"),
])
def test_timer_runs_daily_and_catches_up_missed_runs(key, expected):
    assert read_unit(TIMER)["Timer"][key] == expected


def test_timer_spreads_start_times():
    assert read_unit(TIMER)["Timer"]["RandomizedDelaySec"].strip()


def test_timer_is_enabled_with_the_timers_target():
    assert read_unit(TIMER)["Install"]["WantedBy"] == "timers.target"


def test_timer_has_no_unit_key_so_it_starts_the_same_instance():
    # Without Unit=, linkaudit@<site>.timer starts linkaudit@<site>.service.
    assert "Unit" not in read_unit(TIMER)["Timer"]


# ---------------------------------------------------------------------------
# Crontab


def cron_entries() -> list[str]:
    lines = [line.strip() for line in CRONTAB.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#") and "=" not in
            line.split()[0]]


def test_crontab_sets_mailto():
    assert any(line.startswith("MAILTO=") for line in
               CRONTAB.read_text(encoding="utf-8").splitlines())


def test_crontab_line_has_five_schedule_fields_then_cd_into_the_clone():
    (entry,) = cron_entries()
    words = shlex.split(entry)
    assert len(words[:5]) == 5 and all(words[:5])
    assert words[5:7] == ["cd", INSTALL_DIR]


def test_crontab_command_uses_absolute_paths_and_quoted_rules():
    (entry,) = cron_entries()
    words = shlex.split(entry)
    assert f"{INSTALL_DIR}/.venv/bin/linkaudit" in words
    # Quoted, the rule reaches linkaudit whole instead of redirecting to a file named 5.
    assert "off_topic_link>5" in words


def test_crontab_command_line_is_accepted_by_linkaudit():
    (entry,) = cron_entries()
    words = shlex.split(entry)
    arguments = linkaudit_arguments(words, "demo")
    check_run_arguments(arguments[: arguments.index(">")])


# ---------------------------------------------------------------------------
# systemd's own check


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(tmp_path):
    if not (REPO / ".venv" / "bin" / "linkaudit").exists():
        pytest.skip("no .venv/bin/linkaudit in this checkout")
    # An instance of the template, pointing at this checkout so ExecStart exists.
    units = []
    for source in (SERVICE, TIMER):
        text = source.read_text(encoding="utf-8").replace(INSTALL_DIR, str(REPO))
        unit = tmp_path / source.name.replace("@.", "@demo.")
        unit.write_text(text, encoding="utf-8")
        units.append(str(unit))
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True,
                            text=True, timeout=60)
    # verify also reports unknown keys as warnings with exit status 0: fail on those too.
    about_ours = [line for line in (result.stdout + result.stderr).splitlines()
                  if "linkaudit@" in line]
    assert result.returncode == 0, result.stderr
    assert about_ours == []
