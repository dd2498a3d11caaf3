"""One setting bounds the machine's renders, FUNDSVC_RENDER_CONCURRENCY; its old name FUNDSVC_RENDER_SLOTS is still
read, with a warning at start-up."""

from __future__ import annotations

import logging
import os

from fundsvc import config, create_app


def test_the_bound_defaults_to_the_number_of_cpus():
    assert config.from_environment({})["RENDER_CONCURRENCY"] == (os.cpu_count() or 2)
    assert "RENDER_SLOTS" not in config.from_environment({})


def test_the_new_name_sets_it():
    assert config.from_environment({"FUNDSVC_RENDER_CONCURRENCY": "3"})["RENDER_CONCURRENCY"] == 3
    assert config.deprecation_warnings({"FUNDSVC_RENDER_CONCURRENCY": "3"}) == []


def test_the_old_name_is_an_alias_with_a_warning():
    env = {"FUNDSVC_RENDER_SLOTS": "5"}
    assert config.from_environment(env)["RENDER_CONCURRENCY"] == 5
    (warning,) = config.deprecation_warnings(env)
    assert "FUNDSVC_RENDER_SLOTS is deprecated" in warning and "FUNDSVC_RENDER_CONCURRENCY" in warning


def test_the_new_name_wins_over_the_old_one():
    env = {"FUNDSVC_RENDER_SLOTS": "5", "FUNDSVC_RENDER_CONCURRENCY": "1"}
    assert config.from_environment(env)["RENDER_CONCURRENCY"] == 1
    (warning,) = config.deprecation_warnings(env)
    assert "ignored" in warning


def test_the_app_warns_at_start_up(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("FUNDSVC_RENDER_SLOTS", "4")
    monkeypatch.delenv("FUNDSVC_RENDER_CONCURRENCY", raising=False)
    with caplog.at_level(logging.WARNING):
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "t"})
    assert app.config["RENDER_CONCURRENCY"] == 4
    assert any("FUNDSVC_RENDER_SLOTS is deprecated" in r.getMessage() for r in caplog.records)
