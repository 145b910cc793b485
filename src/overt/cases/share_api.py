"""The API for outside shares: make one (the contract outside tools rely on: issue 17),
list them, revoke one, read its receipt. The rules, checks and custody entries are
overt.cases.sharing's and receipts'; their domain errors become problem+json."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from overt.web.client_address import client_of

from . import inbox, receipts, sharing
from .api import ERRORS, PROBLEM
from .models import ExternalShare


class ShareInSerializer(serializers.Serializer[Any]):
    case = serializers.IntegerField(required=False)
    recording = serializers.IntegerField(required=False)
    recipient_name = serializers.CharField(max_length=200)
    recipient_email = serializers.EmailField()
    recipient_organisation = serializers.CharField(max_length=200, required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(help_text="At most 90 days ahead.")
    allow_download = serializers.BooleanField(default=False)
    items = serializers.ListField(child=serializers.IntegerField(), required=False)
    send_email = serializers.BooleanField(default=False, help_text="Mail the link and code.")


class ShareOutSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    url = serializers.CharField()
    code = serializers.CharField(help_text="Shown once: only its hash is kept.")
    expires_at = serializers.DateTimeField()
    withheld = serializers.ListField(child=serializers.CharField())
    emailed = serializers.BooleanField()
    mail_problem = serializers.CharField()


class ShareSerializer(serializers.ModelSerializer[ExternalShare]):
    class Meta:
        model = ExternalShare
        fields = [
            "id",
            "case",
            "recording",
            "recipient_name",
            "recipient_organisation",
            "recipient_email",
            "expires_at",
            "allow_download",
            "emailed",
            "created_by",
            "created_at",
            "revoked_at",
            "revoked_by",
        ]


class ShareList(APIView):
    @extend_schema(tags=["shares"], responses={200: ShareSerializer(many=True), 403: PROBLEM})
    def get(self, request: Request) -> Response:
        """Outside shares, newest first (capability `share-outside`); never their codes."""
        shares = sharing.visible_shares(request.user).order_by("-created_at")[:500]
        return Response(ShareSerializer(shares, many=True).data)

    @extend_schema(
        tags=["shares"], request=ShareInSerializer, responses={201: ShareOutSerializer, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        """Share a case or a recording with someone outside overt (custody action `share`)."""
        body = ShareInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        made = sharing.create_share(
            request.user,
            case=d.get("case"),
            recording=d.get("recording"),
            recipient_name=d["recipient_name"],
            recipient_email=d["recipient_email"],
            recipient_organisation=d.get("recipient_organisation", ""),
            expires_at=d["expires_at"],
            allow_download=d["allow_download"],
            items=d.get("items"),
            send_mail=d["send_email"],
            client=client_of(request),
        )
        return Response(
            {
                "id": made.share.pk,
                "url": made.url,
                "code": made.code,
                "expires_at": made.share.expires_at,
                "withheld": made.withheld,
                "emailed": made.share.emailed,
                "mail_problem": made.mail_problem,
            },
            status=201,
        )


class RevokeSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ShareRevoke(APIView):
    @extend_schema(
        tags=["shares"], request=RevokeSerializer, responses={200: OpenApiTypes.OBJECT, **ERRORS}
    )
    def post(self, request: Request, pk: str) -> Response:
        """Revoke a share: its link answers 410 at once."""
        body = request.data if isinstance(request.data, dict) else {}
        share = sharing.revoke_share(
            request.user, pk, reason=str(body.get("reason") or ""), client=client_of(request)
        )
        return Response({"id": share.pk, "revoked_at": share.revoked_at})


class ShareReceipt(APIView):
    @extend_schema(tags=["shares"], responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request, pk: str) -> Response:
        """The share's receipt (JSON): what, with whom, by whom, what they did, with proofs."""
        made = receipts.issue_receipt(request.user, pk, client=client_of(request))
        return Response(made)


class ShareReceiptPdf(APIView):
    @extend_schema(
        tags=["shares"],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 403: PROBLEM, 404: PROBLEM},
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        """The share's receipt as a PDF: the JSON receipt's content, for people."""
        made = receipts.receipt_file(request.user, pk, "pdf", client_of(request))
        response = HttpResponse(made.body, content_type=made.content_type)
        response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
        response["Cache-Control"] = "no-store"
        return response


class SharedCaseSerializer(serializers.Serializer[Any]):
    case = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    part = serializers.CharField(help_text="What the person is on the case as.")
    shared_by = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(allow_null=True, help_text="null: no expiry.")
    first_time = serializers.BooleanField(help_text="Never opened since it was shared.")
    new_items = serializers.IntegerField(help_text="Items added since last opened.")


class SharedRecordingSerializer(serializers.Serializer[Any]):
    recording = serializers.IntegerField()
    shared_by = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    reason = serializers.CharField()


class SharedWithMeSerializer(serializers.Serializer[Any]):
    cases = SharedCaseSerializer(many=True)
    recordings = SharedRecordingSerializer(many=True)


class SharedWithMe(APIView):
    @extend_schema(tags=["shares"], responses={200: SharedWithMeSerializer, 403: PROBLEM})
    def get(self, request: Request) -> Response:
        """What is shared with you: the cases you are on and the recordings shared with your
        account, by whom, until when and what is new (as the "Shared with me" page)."""
        found = inbox.shared_with(request.user)
        cases = [
            {
                "case": row.member.case.pk,
                "reference": row.member.case.reference,
                "title": row.member.case.title,
                "part": row.member.part,
                "shared_by": row.member.added_by,
                "since": row.member.added_at,
                "until": row.member.expires_at,
                "first_time": row.first_time,
                "new_items": row.new,
            }
            for row in found.cases
        ]
        recordings = [
            {
                "recording": s.recording_id,
                "shared_by": s.created_by,
                "since": s.created_at,
                "until": s.expires_at,
                "reason": s.reason,
            }
            for s in found.recordings
        ]
        return Response(SharedWithMeSerializer({"cases": cases, "recordings": recordings}).data)
