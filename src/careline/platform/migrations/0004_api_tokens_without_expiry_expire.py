"""Tokens issued before tokens expired get the default lifetime, counted from this migration
(counting from their creation could cut an integration off at once on upgrade)."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def give_tokens_a_lifetime(apps, schema_editor):
    ApiToken = apps.get_model("platform", "ApiToken")
    expires_at = timezone.now() + timedelta(days=settings.CARELINE_API_TOKEN_LIFETIME_DAYS)
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=expires_at)


class Migration(migrations.Migration):
    dependencies = [("platform", "0003_audit_sealed_by_sealer")]

    operations = [migrations.RunPython(give_tokens_a_lifetime, migrations.RunPython.noop)]
