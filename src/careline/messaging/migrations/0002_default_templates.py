"""Default English templates for the transactional purposes and the carrier program messages
(CTIA: opt-in confirmation, HELP, STOP). Administrators change them by adding a new version;
these are only created where no template of that purpose, channel and language exists."""

from django.db import migrations
from django.utils import timezone

SMS_TAIL = "Call {org_phone}"
TEMPLATES = [
    ("appointment_reminder", "sms", "transactional", "",
     "{org_name}: {first_name}, visit {appointment_date} {appointment_time} at {location_name}. "
     "Reply C to confirm, R to reschedule. " + SMS_TAIL),
    ("appointment_reminder", "email", "transactional", "Your visit on {appointment_date}",
     "Dear {first_name},\n\nthis is a reminder of your visit on {appointment_date} at "
     "{appointment_time}, {location_name}, {location_address}.\nPreparation and details: "
     "{portal_link}\n\n{org_name} - {org_phone}"),
    ("appointment_reminder", "portal", "transactional", "Your visit on {appointment_date}",
     "Your {visit_type} visit is on {appointment_date} at {appointment_time}, "
     "{location_name}.\n\n{preparation}"),
    ("appointment_confirmation", "sms", "transactional", "",
     "{org_name}: thank you, your visit {appointment_date} {appointment_time} is confirmed. "
     + SMS_TAIL),
    ("appointment_confirmation", "email", "transactional", "Visit confirmed",
     "Dear {first_name},\n\nyour visit on {appointment_date} at {appointment_time} is "
     "confirmed.\n\n{org_name} - {org_phone}"),
    ("appointment_cancellation", "sms", "transactional", "",
     "{org_name}: your visit {appointment_date} {appointment_time} is cancelled. " + SMS_TAIL),
    ("appointment_cancellation", "email", "transactional", "Visit cancelled",
     "Dear {first_name},\n\nyour visit on {appointment_date} at {appointment_time} is "
     "cancelled. To book again: {portal_link}\n\n{org_name} - {org_phone}"),
    ("waitlist_offer", "sms", "transactional", "",
     "{org_name}: an earlier visit is free {appointment_date} {appointment_time}. "
     "Take it: {offer_link} " + SMS_TAIL),
    ("waitlist_offer", "email", "transactional", "An earlier visit is free",
     "Dear {first_name},\n\nan earlier visit is free on {appointment_date} at "
     "{appointment_time}. Take it here: {offer_link}\n\n{org_name} - {org_phone}"),
    ("program_opt_in", "sms", "transactional", "",
     "{org_name}: you will get appointment texts. Msg & data rates may apply. "
     "Reply HELP for help, STOP to stop."),
    ("program_help", "sms", "transactional", "",
     "{org_name} appointment texts, up to 4 msgs/visit. Help: {org_phone}. "
     "Msg & data rates may apply. Reply STOP to stop."),
    ("program_stop", "sms", "transactional", "",
     "{org_name}: you will get no more texts. Reply START to receive them again."),
]


def create(apps, schema_editor):
    template = apps.get_model("messaging", "MessageTemplate")
    now = timezone.now()
    for purpose, channel, category, subject, body in TEMPLATES:
        if not template.objects.filter(purpose=purpose, channel=channel, language="en").exists():
            template.objects.create(
                purpose=purpose, channel=channel, language="en", category=category,
                subject=subject, body=body, created_at=now,
            )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
