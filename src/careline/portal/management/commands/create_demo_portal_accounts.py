"""``careline create_demo_portal_accounts`` (demo mode): a patient's portal account and her
caregiver's, both linked to the first demo patient with an email on file."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from careline.platform.actors import Actor
from careline.platform.errors import CarelineError
from careline.portal.demo import DEMO_PORTAL_PASSWORD, create_demo_portal_accounts


class Command(BaseCommand):
    help = "Demo mode: portal accounts for a demo patient and her caregiver (proxy)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--site-url",
            default="http://127.0.0.1:8000/",
            help="Where Careline is served (`careline demo` passes its --bind).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            accounts = create_demo_portal_accounts(actor=Actor.system("careline demo"))
        except CarelineError as error:
            raise CommandError(error.message) from error
        if not accounts:
            self.stdout.write("No demo patient has an email on file: no portal accounts made.")
            return
        portal = options["site_url"].rstrip("/") + reverse("portal:home")
        self.stdout.write(f"Patient portal ({portal}), password {DEMO_PORTAL_PASSWORD}:")
        for account in accounts:
            role = (
                "her own record" if account.relationship == "self" else "as her proxy (caregiver)"
            )
            self.stdout.write(f"  {account.email:<32} {account.acts_for}, {role}")
