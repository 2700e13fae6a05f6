"""A dispatcher as its own process, for the crash tests and the benchmark:
``python -m careline.messaging.tests.dispatch_process`` runs the loop until killed."""

from __future__ import annotations

import os
import threading

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.config.settings")
    django.setup()
    from careline.messaging.recovery import run_dispatcher

    run_dispatcher(stop=threading.Event(), interval=0.05)


if __name__ == "__main__":
    main()
