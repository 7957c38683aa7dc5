from __future__ import annotations


def test_help_lists_plan(cli):
    result = cli("--help")
    assert result.returncode == 0
    assert "plan" in result.stdout


def test_no_arguments_shows_usage_and_exit_2(cli):
    result = cli()
    assert result.returncode == 2
    assert "Usage" in result.stdout + result.stderr


def test_unknown_option_is_one_line(cli):
    result = cli("plan", "--client", "web", "--bogus")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "--bogus" in result.stderr
    assert "Traceback" not in result.stderr
