from pathlib import Path

import pytest
from pydantic import SecretStr

from api import create_app
from qa.errors import ServerUnavailableError
from qa.remote import ask_server
from tests.support import TB2_QUESTION, fast_service, fast_settings, free_port, serving

KEY = "remote-test-key-0123456789"


def test_asks_a_running_server_with_its_key_and_names_what_went_wrong(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, api_keys=[SecretStr(KEY)])
    with serving(create_app(settings, fast_service(settings))) as url:
        answer = ask_server(url, TB2_QUESTION, api_key=KEY, top_k=3)
        assert answer["answer"] == "Baykar" and answer["citations"]
        with pytest.raises(ServerUnavailableError, match=r"answered 401: .*key"):
            ask_server(url, TB2_QUESTION)  # the server's own message, not a bare status
        with pytest.raises(ServerUnavailableError, match=r"did not answer like a seed-qa server|answered 404"):
            ask_server(url + "/nowhere", TB2_QUESTION, api_key=KEY)


def test_nothing_listening_or_not_an_http_url_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServerUnavailableError, match=f"no seed-qa server answers at {url}"):
        ask_server(url, TB2_QUESTION)
    with pytest.raises(ServerUnavailableError, match="http:// or https://"):
        ask_server("127.0.0.1:8000", TB2_QUESTION)
