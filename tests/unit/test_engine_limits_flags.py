from __future__ import annotations

import pytest

from voicepilot.cli import build_parser
from voicepilot.engine.limits import EngineLimits, limits_from_args


def test_every_engine_limit_has_a_flag_and_the_defaults_are_the_dataclass_defaults() -> None:
    parser = build_parser()
    assert limits_from_args(parser.parse_args(["engine"])) == EngineLimits()
    lowered = limits_from_args(
        parser.parse_args(["engine", "--max-keys", "5", "--header-timeout", "0.5", "--ws-idle-timeout", "2"])
    )
    assert (lowered.max_keys, lowered.header_timeout_s, lowered.ws_idle_timeout_s) == (5, 0.5, 2.0)


@pytest.mark.parametrize("argv", [["--max-keys", "0"], ["--connect-timeout", "-1"], ["--max-calls", "1.5"]])
def test_a_limit_must_be_a_positive_number(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["engine", *argv])
    assert argv[0] in capsys.readouterr().err
