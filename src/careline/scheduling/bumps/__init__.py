"""The provider-bump workflow: visits booked before a set-up change (leave, a closure, hours
removed or shortened) that are no longer inside their provider's availability are flagged
(``detection``), and staff resolve each flag — bump, keep or reschedule (``services``)."""
