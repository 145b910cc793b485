from django.urls import path

from .views import apidocs, basemap, custody, home

urlpatterns = [
    path("home/", home.home, name="home"),
    path("api/docs/", apidocs.api_docs, name="api-docs"),
    path("map/base.geojson", basemap.features, name="map-base"),
    path("custody/", custody.browser, name="custody-browser"),
    path("custody/entries/<int:index>/", custody.entry, name="custody-entry"),
    path("custody/checkpoints/", custody.checkpoints, name="custody-checkpoints"),
    path("custody/report", custody.report, name="custody-report"),
    path("custody/overt_verify.py", custody.verifier, name="custody-verifier"),
]
