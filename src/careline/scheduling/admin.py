"""The admin for scheduling's configuration that holds no patient data: the portal's
booking questionnaire (a decision tree as data) and the red-flag lists it may lead to.

Rows holding patient data (appointments, tickets, requests) are not here: they are written
through the services, which check access and audit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from careline.platform.errors import ValidationFailed
from careline.scheduling.models import BookingQuestion, RedFlagList
from careline.scheduling.patient_booking import check_question_answers


class BookingQuestionForm(forms.ModelForm[BookingQuestion]):
    class Meta:
        model = BookingQuestion
        fields = ("code", "text", "help_text", "answers", "is_start", "is_active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        codes = set(BookingQuestion.objects.values_list("code", flat=True))
        codes.add(str(data.get("code", "")))
        try:
            check_question_answers(data.get("answers"), known_codes=codes)
        except ValidationFailed as error:
            self.add_error("answers", error.message)
        return data


@admin.register(BookingQuestion)
class BookingQuestionAdmin(admin.ModelAdmin[BookingQuestion]):
    form = BookingQuestionForm
    list_display = ("code", "text", "is_start", "is_active")
    list_filter = ("is_active", "is_start")
    search_fields = ("code", "text")


@admin.register(RedFlagList)
class RedFlagListAdmin(admin.ModelAdmin[RedFlagList]):
    list_display = ("code", "name", "is_active")
    search_fields = ("code", "name")
