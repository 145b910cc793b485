"""Custody URLs: the public verifier key and the (signed-in) custody API.

They keep the `custody` namespace (custody:report, ...) they had when they lived in the
custody app; the views are in overt.api.custody, at the edge."""

from django.urls import path, re_path

from . import custody as api

app_name = "custody"

urlpatterns = [
    path(".well-known/overt/custody-verifier-key", api.verifier_key, name="verifier-key"),
    path("api/custody/proofs/inclusion", api.inclusion, name="inclusion"),
    path("api/custody/proofs/consistency", api.consistency, name="consistency"),
    path("api/custody/checkpoints/latest", api.checkpoint_latest, name="checkpoint-latest"),
    path("api/custody/entries", api.entries, name="entries"),
    path("api/custody/verify/latest", api.verify_latest, name="verify-latest"),
    re_path(
        r"^api/custody/reports/(?P<recording_id>[0-9]+)\.(?P<fmt>zip|json)$",
        api.report,
        name="report",
    ),
]
