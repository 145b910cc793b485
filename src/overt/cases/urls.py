from django.urls import path, re_path

from . import api, share_api
from .views import cases, recipient, shares

urlpatterns = [
    path("cases/", cases.case_list, name="cases"),
    path("cases/<int:case_id>/", cases.case_page, name="case"),
    path("cases/<int:case_id>/share", shares.case_share, name="case-share"),
    path(
        "cases/<int:case_id>/documents/<int:item_id>",
        cases.case_document,
        name="case-document",
    ),
    path("cases/<int:case_id>/bundle", cases.case_bundle, name="case-bundle"),
    path("library/bulk", cases.library_bulk, name="library-bulk"),
    path("shares/", shares.share_list, name="shares"),
    path("shares/<str:share_id>/", shares.share_page, name="share"),
    re_path(
        r"^shares/(?P<share_id>[0-9a-f]{1,32})/receipt\.(?P<fmt>json|pdf)$",
        shares.share_receipt,
        name="share-receipt",
    ),
    path("shared-with-me/", shares.shared_with_me, name="shared-with-me"),
    # The outside recipient's pages: no account.
    path("s/<str:share_id>", recipient.share_home, name="recipient"),
    path("s/<str:share_id>/items/<int:item_id>/", recipient.share_watch, name="recipient-watch"),
    path(
        "s/<str:share_id>/items/<int:item_id>/stream",
        recipient.share_stream,
        name="recipient-stream",
    ),
    path(
        "s/<str:share_id>/items/<int:item_id>/download",
        recipient.share_download,
        name="recipient-download",
    ),
    path("api/cases/", api.CaseList.as_view(), name="api-cases"),
    path("api/cases/<int:pk>/", api.CaseDetail.as_view(), name="api-case"),
    path("api/cases/<int:pk>/items/", api.CaseItems.as_view(), name="api-case-items"),
    path(
        "api/cases/<int:pk>/items/<int:item>/", api.CaseItemDetail.as_view(), name="api-case-item"
    ),
    path("api/cases/<int:pk>/documents/", api.CaseDocuments.as_view(), name="api-case-documents"),
    path(
        "api/cases/<int:pk>/documents/<int:item>/content/",
        api.CaseDocumentContent.as_view(),
        name="api-case-document-content",
    ),
    path("api/cases/<int:pk>/close/", api.CaseClose.as_view(), name="api-case-close"),
    path("api/cases/<int:pk>/members/", api.CaseMembers.as_view(), name="api-case-members"),
    path(
        "api/cases/<int:pk>/members/<int:member>/",
        api.CaseMemberEnd.as_view(),
        name="api-case-member",
    ),
    path("api/cases/<int:pk>/bundle/", api.CaseBundle.as_view(), name="api-case-bundle"),
    path("api/shares/", share_api.ShareList.as_view(), name="api-shares"),
    path("api/shares/<str:pk>/revoke/", share_api.ShareRevoke.as_view(), name="api-share-revoke"),
    path(
        "api/shares/<str:pk>/receipt/", share_api.ShareReceipt.as_view(), name="api-share-receipt"
    ),
    path(
        "api/shares/<str:pk>/receipt.pdf",
        share_api.ShareReceiptPdf.as_view(),
        name="api-share-receipt-pdf",
    ),
    path("api/shared-with-me/", share_api.SharedWithMe.as_view(), name="api-shared-with-me"),
]
