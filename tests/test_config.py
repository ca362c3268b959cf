import pytest

from qa.config import Settings


@pytest.mark.parametrize(("raw", "expected"), [("k1,k2", ["k1", "k2"]), ('["k1", "k2"]', ["k1", "k2"]), ("", [])])
def test_list_settings_accept_commas_or_json(monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]) -> None:
    monkeypatch.setenv("QA_API_KEYS", raw)
    monkeypatch.setenv("QA_CORS_ORIGINS", raw)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert [key.get_secret_value() for key in settings.api_keys] == expected
    assert settings.cors_origins == expected


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_SLACK_BOT_TOKEN", "xoxb-secret")
    assert "xoxb-secret" not in repr(Settings(_env_file=None))  # type: ignore[call-arg]
