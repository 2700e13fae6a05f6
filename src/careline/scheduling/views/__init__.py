"""Staff pages of scheduling: booking (``booking``), the front desk's day list and one
appointment (``appointments``), the administrators' set-up (``configuration``), and the
Appointments card of the 360 page (``patient_card``).

Each view parses with a Form, calls one ``scheduling`` service or selector and renders;
``careline.platform.http.staff_view`` turns a Careline error into a 4xx page or fragment.
"""
