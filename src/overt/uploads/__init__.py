"""Uploads from cameras, docks and vendor systems: a tus 1.0 server at /files/ and an Axis
Body Worn Integration API (Swift subset) content destination. Both describe each file in
an `overt.ingest.request.IngestRequest` and end in `overt.ingest.services.ingest`."""
