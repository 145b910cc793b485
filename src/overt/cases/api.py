"""The API for cases (outside shares: overt.cases.share_api). The views read the request
and shape the answer; the rules, the checks and the custody entries are the services'
(overt.cases.services, items, bundle), whose domain errors become problem+json by the one
mapping."""

from __future__ import annotations

from typing import Any

from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from overt import errors
from overt.web.client_address import client_of
from overt.web.problems import ProblemSerializer

from . import bundle, documents, items, services
from .models import Case, CaseDocument, CaseItem, CaseMember
from .web import download_response, zip_response

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")
ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM}


class CaseDocumentSerializer(serializers.ModelSerializer[CaseDocument]):
    class Meta:
        model = CaseDocument
        fields = ["filename", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]


class CaseItemSerializer(serializers.ModelSerializer[CaseItem]):
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    document_file = CaseDocumentSerializer(
        source="document",
        read_only=True,
        allow_null=True,
        help_text="A document item's file (its bytes are stored by this SHA-256); else null.",
    )

    class Meta:
        model = CaseItem
        fields = [
            "id",
            "kind",
            "recording",
            "derivative",
            "document",
            "document_file",
            "label",
            "do_not_disclose",
            "do_not_disclose_reason",
            "added_by",
            "added_at",
        ]


class CaseSerializer(serializers.ModelSerializer[Case]):
    officer_in_charge: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    disclosure_officer: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    items = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "title",
            "status",
            "officer_in_charge",
            "disclosure_officer",
            "created_by",
            "created_at",
            "closed_at",
            "items",
        ]

    def get_items(self, case: Case) -> list[dict[str, Any]]:
        request = self.context.get("request")
        user = request.user if request is not None else self.context["user"]
        rows, _hidden = services.items_shown_to(user, case)
        return list(CaseItemSerializer(rows, many=True).data)


class CaseInSerializer(serializers.Serializer[Any]):
    reference = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=200)
    officer_in_charge = serializers.CharField(max_length=150, required=False, allow_blank=True)
    disclosure_officer = serializers.CharField(max_length=150, required=False, allow_blank=True)


class CaseList(APIView):
    @extend_schema(tags=["cases"], responses={200: CaseSerializer(many=True)})
    def get(self, request: Request) -> Response:
        """The cases you may see (every case, for evidence managers)."""
        cases = services.visible_cases(request.user)[:500]
        return Response(CaseSerializer(cases, many=True, context={"request": request}).data)

    @extend_schema(
        tags=["cases"], request=CaseInSerializer, responses={201: CaseSerializer, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        """Open a case (custody action `case-change`); capability `manage-cases`."""
        body = CaseInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = services.create_case(
            request.user,
            data["reference"],
            data["title"],
            officer_in_charge=data.get("officer_in_charge") or None,
            disclosure_officer=data.get("disclosure_officer") or None,
            client=client_of(request),
        )
        return Response(CaseSerializer(case, context={"request": request}).data, status=201)


class CaseDetail(APIView):
    @extend_schema(tags=["cases"], responses={200: CaseSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """One case with the items whose footage you may know of."""
        case = services.case_for(request.user, pk)
        return Response(CaseSerializer(case, context={"request": request}).data)


class ItemInSerializer(serializers.Serializer[Any]):
    recording = serializers.IntegerField(required=False, help_text="A recording's id.")
    derivative = serializers.IntegerField(
        required=False, help_text="Or: a clip, still or redacted copy's id."
    )


class CaseItems(APIView):
    @extend_schema(
        tags=["cases"], request=ItemInSerializer, responses={201: CaseItemSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        """Add a recording (its footage is held while the case is open), or a derivative."""
        case = services.case_for(request.user, pk)
        body = ItemInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if ("recording" in data) == ("derivative" in data):
            raise errors.Invalid("give one of recording or derivative", field="recording")
        if "recording" in data:
            item = items.add_recording(
                request.user, case, data["recording"], client=client_of(request)
            )
        else:
            item = items.add_derivative(
                request.user, case, data["derivative"], client=client_of(request)
            )
        return Response(CaseItemSerializer(item).data, status=201)


class DocumentInSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text="A PDF, JPEG, PNG or TIFF file (told by its bytes, not its name or type)."
    )


class CaseDocuments(APIView):
    # A file comes as multipart/form-data; a form with no file is told so (400).
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(tags=["cases"], responses={200: CaseItemSerializer(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """The documents uploaded to a case you may see."""
        case = services.case_for(request.user, pk)
        rows, _hidden = services.items_shown_to(request.user, case)
        shown = [row for row in rows if row.kind == CaseItem.Kind.DOCUMENT]
        return Response(CaseItemSerializer(shown, many=True).data)

    @extend_schema(
        tags=["cases"],
        request={"multipart/form-data": DocumentInSerializer},
        responses={201: CaseItemSerializer, 413: PROBLEM, 415: PROBLEM, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Upload a document (PDF or picture) to a case, as the case page does: kept
        write-once in the evidence store by its SHA-256, with a `case-change` custody entry
        (`document-added`). At most 200 MiB."""
        case = services.case_for(request.user, pk)  # before the body: no existence oracle
        services.require_change(request.user, case)
        _refuse_oversized(request)
        body = DocumentInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        item = items.add_document(
            request.user, case, upload.name or "document", upload, client=client_of(request)
        )
        return Response(CaseItemSerializer(item).data, status=201)


def _refuse_oversized(request: Request) -> None:
    """A body that cannot hold an allowed document is refused before it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise errors.Invalid("Content-Length is not a number") from None
    if length > items.MAX_DOCUMENT_BYTES + 64 * 1024:  # room for the multipart framing
        raise errors.TooLarge(f"a document may be at most {items.MAX_DOCUMENT_BYTES} bytes")


class CaseDocumentContent(APIView):
    # No HEAD: each GET is a logged download, and a HEAD would log one that sent nothing.
    http_method_names = ["get", "options"]

    @extend_schema(
        tags=["cases"],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: PROBLEM,
            410: PROBLEM,
        },
    )
    def get(self, request: Request, pk: int, item: int) -> HttpResponseBase:
        """A document item's stored bytes, byte for byte (custody action `download`, logged
        before the first byte; its index is in `X-Overt-Custody-Entries`)."""
        got = documents.download_document(request.user, pk, item, client=client_of(request))
        return download_response(request, got)


class CaseCloseSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class CaseClose(APIView):
    @extend_schema(
        tags=["cases"], request=CaseCloseSerializer, responses={200: CaseSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        """Close a case, with a reason: its holds are released (retention applies again),
        access stays (custody action `case-change`, `case-closed`)."""
        case = services.case_for(request.user, pk)
        body = CaseCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        closed = services.close_case(
            request.user, case, reason=body.validated_data["reason"], client=client_of(request)
        )
        return Response(CaseSerializer(closed, context={"request": request}).data)


class ItemEditSerializer(serializers.Serializer[Any]):
    do_not_disclose = serializers.BooleanField(required=False)
    remove = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=2000)


class CaseItemDetail(APIView):
    @extend_schema(
        tags=["cases"], request=ItemEditSerializer, responses={200: CaseItemSerializer, **ERRORS}
    )
    def patch(self, request: Request, pk: int, item: int) -> Response:
        """Mark or clear do-not-disclose, or remove the item (`"remove": true`), with a reason."""
        case = services.case_for(request.user, pk)
        body = ItemEditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data, client = body.validated_data, client_of(request)
        if data["remove"]:
            row = items.remove_item(request.user, case, item, reason=data["reason"], client=client)
        elif "do_not_disclose" in data:
            row = items.set_do_not_disclose(
                request.user,
                case,
                item,
                data["do_not_disclose"],
                reason=data["reason"],
                client=client,
            )
        else:
            raise errors.Invalid("nothing to change", field="do_not_disclose")
        return Response(CaseItemSerializer(row).data)


class MemberInSerializer(serializers.Serializer[Any]):
    user = serializers.CharField(max_length=150)
    part = serializers.ChoiceField(choices=CaseMember.Part.values)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class MemberSerializer(serializers.ModelSerializer[CaseMember]):
    user: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = CaseMember
        fields = ["id", "user", "part", "added_by", "added_at", "expires_at"]


class CaseMembers(APIView):
    @extend_schema(tags=["cases"], responses={200: MemberSerializer(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """The people on a case you may see, with the membership ids that end them."""
        case = services.case_for(request.user, pk)
        rows = CaseMember.active().filter(case=case).select_related("user").order_by("added_at")
        return Response(MemberSerializer(rows, many=True).data)

    @extend_schema(
        tags=["cases"], request=MemberInSerializer, responses={201: OpenApiTypes.OBJECT, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        """Put someone on the case (custody action `permission-change`)."""
        case = services.case_for(request.user, pk)
        body = MemberInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        member = services.add_member(
            request.user,
            case,
            data["user"],
            data["part"],
            expires_at=data.get("expires_at"),
            client=client_of(request),
        )
        return Response(
            {
                "id": member.pk,
                "user": data["user"],
                "part": member.part,
                "expires_at": member.expires_at,
            },
            status=201,
        )


class CaseMemberEnd(APIView):
    @extend_schema(tags=["cases"], request=None, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def delete(self, request: Request, pk: int, member: int) -> Response:
        """Take someone off the case (custody action `permission-change`,
        `case-member-ended`); the membership's id is in the case's member list."""
        case = services.case_for(request.user, pk)
        ended = services.end_member(request.user, case, member, client=client_of(request))
        return Response(
            {
                "id": ended.pk,
                "user": ended.user.get_username(),
                "part": ended.part,
                "ended_at": ended.ended_at,
            }
        )


class BundleReasonSerializer(serializers.Serializer[Any]):
    category = serializers.CharField()
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class CaseBundle(APIView):
    @extend_schema(
        tags=["cases"],
        request=BundleReasonSerializer,
        responses={200: OpenApiTypes.BINARY, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> HttpResponseBase:
        """The case's disclosure bundle as one streamed zip (custody action `export`)."""
        body = request.data if isinstance(request.data, dict) else {}
        made = bundle.case_bundle(
            request.user,
            pk,
            category=body.get("category"),
            text=body.get("text"),
            client=client_of(request),
        )
        return zip_response(request, made.filename, made.chunks, made.custody_indices)
