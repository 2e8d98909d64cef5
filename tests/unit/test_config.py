"""Settings are validated by type: nonsense is refused in one line naming the setting and its source."""

from __future__ import annotations

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from carelens.cli.app import main
from carelens.config import Settings, hash_api_key, load_settings
from carelens.errors import ConfigError


@pytest.fixture
def home(tmp_path, monkeypatch):
    for name in ("CARELENS_CONFIG", "CARELENS_DATABASE_URL", "CARELENS_API_KEYS", "CARELENS_API_KEY_HASHES",
                 "CARELENS_SUPPRESS_BELOW", "CARELENS_MAX_BATCH", "CARELENS_MAX_REQUEST_BYTES",
                 "CARELENS_LOCATION_LEVELS", "CARELENS_FEEDBACK_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CARELENS_HOME", str(tmp_path))
    return tmp_path


def write(home, text: str) -> None:
    (home / "config.toml").write_text(text, encoding="utf-8")
    (home / "config.toml").chmod(0o600)


def test_defaults_put_the_store_in_home(home):
    s = load_settings()
    assert s.database_url == f"duckdb:///{(home / 'carelens.duckdb').as_posix()}"
    assert s.suppress_below == 10 and s.api_key_hashes == []


def test_a_key_written_as_a_string_is_refused_not_split_into_characters(home):
    write(home, 'api_keys = "s3cret-key"\n')
    with pytest.raises(ConfigError, match="api_keys.*must be a list") as info:
        load_settings()
    assert "s3cret" not in str(info.value)  # the key itself is never echoed


@pytest.mark.parametrize("text, field", [
    ("suppress_below = 0", "suppress_below"),
    ("suppress_below = -5", "suppress_below"),
    ("max_request_bytes = -1", "max_request_bytes"),
    ("max_batch = 0", "max_batch"),
    ('suppress_below = "lots"', "suppress_below"),
    ("location_levels = []", "location_levels"),
    ('location_levels = ["a", "b", "c", "d"]', "location_levels"),
    ('api_key_hashes = ["not-a-hash"]', "api_key_hashes"),
    ("api_keys = [1, 2]", "api_keys"),
    ('supress_below = 5', "supress_below"),
])
def test_nonsense_values_in_the_file_are_refused_naming_the_setting(home, text, field):
    write(home, text + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.field == field and str(home / "config.toml") in str(info.value)


def test_environment_overrides_the_file_and_is_named_when_wrong(home, monkeypatch):
    write(home, "max_batch = 100\n")
    monkeypatch.setenv("CARELENS_MAX_BATCH", "7")
    assert load_settings().max_batch == 7
    monkeypatch.setenv("CARELENS_SUPPRESS_BELOW", "-5")
    with pytest.raises(ConfigError, match="CARELENS_SUPPRESS_BELOW"):
        load_settings()


def test_keys_from_file_and_environment_are_kept_only_as_hashes(home, monkeypatch):
    write(home, 'api_keys = ["alpha"]\napi_key_hashes = ["%s"]\n' % hash_api_key("beta").upper())
    monkeypatch.setenv("CARELENS_API_KEYS", "gamma, delta")
    s = load_settings()  # the environment's api_keys replace the file's; hashes from the file stay
    assert set(s.api_key_hashes) == {hash_api_key(k) for k in ("beta", "gamma", "delta")}
    assert s.api_keys == [] and "gamma" not in repr(s)
    monkeypatch.delenv("CARELENS_API_KEYS")
    assert set(load_settings().api_key_hashes) == {hash_api_key(k) for k in ("alpha", "beta")}


def test_plain_keys_in_a_file_others_can_read_warn(home, capsys):
    write(home, 'api_keys = ["alpha"]\n')
    (home / "config.toml").chmod(0o644)
    load_settings()
    assert "other users of this machine can read it" in capsys.readouterr().err


def test_a_broken_file_is_one_line(home):
    write(home, "x = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings()


def test_config_show_prints_where_the_file_and_store_are(home, capsys):
    write(home, 'location_levels = ["Site", "Ward"]\napi_keys = ["alpha"]\n')
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert str(home / "config.toml") in out and "carelens.duckdb" in out
    assert "location_levels = Site, Ward  [file]" in out and "alpha" not in out


def test_config_show_reports_a_bad_setting_in_one_line(home, capsys):
    write(home, "suppress_below = 0\n")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert "suppress_below" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@hsettings(max_examples=60, deadline=None)
@given(value=st.one_of(st.integers(), st.text(max_size=8), st.floats(allow_nan=True), st.booleans()))
def test_any_value_for_suppress_below_is_either_a_sane_threshold_or_a_config_error(value):
    try:
        s = Settings(suppress_below=value)
    except Exception as exc:  # noqa: BLE001 - pydantic's error: load_settings turns it into ConfigError
        assert type(exc).__name__ == "ValidationError"
    else:
        assert isinstance(s.suppress_below, int) and s.suppress_below >= 1
