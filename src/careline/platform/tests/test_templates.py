"""Template hygiene: Django's ``{# … #}`` comment is one line only; spread over two lines it
is printed on the page as text (as the base layout once did, above every staff page)."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client

PACKAGE = Path(__file__).resolve().parents[2]
UNCLOSED_COMMENT = re.compile(r"\{#(?:(?!#\}).)*$", re.MULTILINE)


def test_no_template_opens_a_one_line_comment_it_does_not_close_on_that_line() -> None:
    templates = sorted(PACKAGE.glob("*/templates/**/*.html"))
    problems = [
        f"{template.relative_to(PACKAGE)}: {match.group(0)[:60]}"
        for template in templates
        for match in UNCLOSED_COMMENT.finditer(template.read_text())
    ]

    assert len(templates) > 20
    assert problems == []


def test_the_sign_in_page_shows_no_template_comment(client: Client) -> None:
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert "{#" not in response.content.decode()
    assert "history snapshots" not in response.content.decode()
