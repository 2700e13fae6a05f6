"""``careline demo --bind``: the portal hint and the serving line name the address the server
listens on, not a fixed port; a --bind that is not HOST:PORT is refused before any work."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from careline.config.bind import Bind, BindError, parse_bind
from careline.platform.models import User
from careline.portal.demo import DEMO_PORTAL_PASSWORD

pytestmark = pytest.mark.django_db


def test_demo_prints_the_portal_at_the_bound_host_and_port(settings: Any, tmp_path: Path) -> None:
    settings.DEMO_MODE = True
    settings.BASE_DIR = tmp_path  # the generated bundles go to its var/demo-fhir
    out = io.StringIO()

    call_command("demo", "--patients", "4", "--no-serve", "--bind", "192.0.2.10:8123", stdout=out)

    lines = out.getvalue().splitlines()
    portal = [line for line in lines if line.startswith("Patient portal")]
    assert portal == [
        f"Patient portal (http://192.0.2.10:8123/portal/), password {DEMO_PORTAL_PASSWORD}:"
    ]
    assert not [line for line in lines if ":8000" in line]
    assert User.objects.filter(username="scheduling-lead").exists()


@pytest.mark.parametrize("bind", ["8123", "localhost", "127.0.0.1:0", "host:99999", "::1:x"])
def test_a_bind_that_is_not_host_and_port_is_refused_before_any_work(
    settings: Any, bind: str
) -> None:
    settings.DEMO_MODE = True

    with pytest.raises(CommandError, match="HOST:PORT"):
        call_command("demo", "--no-serve", "--bind", bind, stdout=io.StringIO())
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("bind", "parsed", "url"),
    [
        ("127.0.0.1:8000", Bind("127.0.0.1", 8000), "http://127.0.0.1:8000/"),
        ("0.0.0.0:9000", Bind("0.0.0.0", 9000), "http://127.0.0.1:9000/"),  # noqa: S104
        (
            "clinic.example.org:8443",
            Bind("clinic.example.org", 8443),
            "http://clinic.example.org:8443/",
        ),
        ("[::1]:8080", Bind("::1", 8080), "http://[::1]:8080/"),
        ("[::]:8080", Bind("::", 8080), "http://127.0.0.1:8080/"),
    ],
)
def test_bind_is_read_into_the_url_a_browser_opens(bind: str, parsed: Bind, url: str) -> None:
    assert parse_bind(bind) == parsed
    assert parsed.url == url


def test_an_ipv6_host_without_brackets_is_refused_with_the_form_to_use() -> None:
    with pytest.raises(BindError, match=r"\[::1\]:8000"):
        parse_bind("fe80::zz:8000")
