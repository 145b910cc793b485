"""An Axis Body Worn System content destination: the Swift subset that the Body Worn
Integration API uses, mapped onto overt's officers, devices and recordings.

- `GET /auth/v1.0` with X-Auth-User and X-Auth-Key gives a token and the storage URL,
  `/swift/v1/AUTH_<user>`.
- `System` holds `Capabilities.json` (served by overt, with an MD5 ETag) and one object per
  connected system. `Users` and `Devices` hold one object per user and camera; each is
  linked to an overt officer or device, created when `OVERT_AXIS_REGISTER_PEOPLE` is on.
- Every other container is one recording, `<UserID>_<BWCSerialNumber>_<TriggerOnTime>`.
  Clips are staged as files as they arrive; bookmarks and the GNSS track are kept in the
  database. When the container's Status becomes Complete, every clip goes through the
  ingest service (byte for byte) into one Recording, with the bookmarks as markers and
  the track as its location track.

Metadata header keys are matched without regard to case (a Body Worn System sends them
canonicalised, e.g. `X-Container-Meta-Bwcserialnumber`); values are URL-encoded UTF-8.

The modules, each importing only those above it:

- `protocol`: credentials and tokens, names, the published capabilities, response shapes;
- `metadata`: metadata headers, times, and the contents of bookmarks and GNSS tracks;
- `people`: the `Users` and `Devices` objects, linked to overt's officers and devices;
- `handoff`: a complete recording container, handed to the ingest service;
- `containers` and `objects`: the Swift containers and objects themselves.

The HTTP edges are beside this package: `swift_views` (Django), `swift_put` (the streaming
object PUT), `swift_read` (an accountable GET of a clip), `swift_names`.
"""
