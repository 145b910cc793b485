# Where each recording was, for the library's place filter (box or radius): the bounds
# of its GPS track's fixes (south, west, north, east), or its start point when the track
# has no fix, in `evidence_track_bounds` (one row per recording that has either).
#
# Triggers on evidence_recording keep it current on both engines, so every writer (ORM,
# bulk_create, raw SQL) does. A place query reads these bounds and checks the fixes
# themselves only where the bounds are partly inside (evidence.places), so a track that
# enters the place is found however far away it starts, or with no start point at all.
#
# A fix is a JSON object whose "lat" and "lon" are numbers in range; anything else in a
# track is skipped, never an error. On SQLite, a later migration that remakes
# evidence_recording drops these triggers with the old table: it must make them again
# (as 0004 does for the free-text ones); tests/transcripts/test_search.py would fail.

from django.db import migrations

TABLE = "evidence_track_bounds"

# CASE, not AND: json_type(value, '$.lat') on an element that is a bare string would be
# malformed JSON, and SQL does not promise to test the element's own type first.
_SQLITE_NUMBER = (
    "CASE WHEN type = 'object' THEN CASE WHEN json_type(value, '$.{key}') IN ('integer', 'real') "
    "THEN json_extract(value, '$.{key}') END END"
)
SQLITE_FIXES = (
    "SELECT lat, lon FROM (SELECT "
    + _SQLITE_NUMBER.format(key="lat")
    + " AS lat, "
    + _SQLITE_NUMBER.format(key="lon")
    + " AS lon FROM json_each(CASE WHEN json_valid(NEW.gps_track) "
    "AND json_type(NEW.gps_track) = 'array' THEN NEW.gps_track ELSE '[]' END)) "
    "WHERE lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180"
)
SQLITE_REFRESH = (
    f"DELETE FROM {TABLE} WHERE recording_id = NEW.id; "
    f"INSERT INTO {TABLE} (recording_id, south, west, north, east) "
    f"SELECT NEW.id, min(lat), min(lon), max(lat), max(lon) FROM ({SQLITE_FIXES}) "
    "HAVING count(*) > 0; "
    f"INSERT OR IGNORE INTO {TABLE} (recording_id, south, west, north, east) "
    "SELECT NEW.id, NEW.start_latitude, NEW.start_longitude, NEW.start_latitude, "
    "NEW.start_longitude WHERE NEW.start_latitude BETWEEN -90 AND 90 "
    "AND NEW.start_longitude BETWEEN -180 AND 180;"
)
SQLITE_FORWARD = [
    f"CREATE TABLE {TABLE} (recording_id integer NOT NULL PRIMARY KEY, south real NOT NULL, "
    "west real NOT NULL, north real NOT NULL, east real NOT NULL)",
    f"CREATE INDEX {TABLE}_south ON {TABLE} (south, north)",
    f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON evidence_recording BEGIN {SQLITE_REFRESH} END",
    f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF gps_track, start_latitude, start_longitude "
    f"ON evidence_recording BEGIN {SQLITE_REFRESH} END",
    f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON evidence_recording BEGIN "
    f"DELETE FROM {TABLE} WHERE recording_id = OLD.id; END",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {TABLE}_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete",
    f"DROP TABLE IF EXISTS {TABLE}",
]

# No foreign key: a test database's flush truncates Django's tables only, and a key to
# evidence_recording would refuse that. A row whose recording is gone matches nothing
# (the catalogue joins on recording ids); a new recording replaces its id's row.
POSTGRES_FORWARD = [
    f"CREATE TABLE IF NOT EXISTS {TABLE} (recording_id bigint PRIMARY KEY, "
    "south double precision NOT NULL, west double precision NOT NULL, "
    "north double precision NOT NULL, east double precision NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_south ON {TABLE} (south, north)",
    f"""CREATE OR REPLACE FUNCTION {TABLE}_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM {TABLE} WHERE recording_id = OLD.id;
    RETURN NULL;
  END IF;
  DELETE FROM {TABLE} WHERE recording_id = NEW.id;
  INSERT INTO {TABLE} (recording_id, south, west, north, east)
  SELECT NEW.id, min(lat)::double precision, min(lon)::double precision,
         max(lat)::double precision, max(lon)::double precision
  FROM (
    SELECT CASE WHEN jsonb_typeof(p->'lat') = 'number' THEN (p->>'lat')::numeric END AS lat,
           CASE WHEN jsonb_typeof(p->'lon') = 'number' THEN (p->>'lon')::numeric END AS lon
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(NEW.gps_track) = 'array'
                                   THEN NEW.gps_track ELSE '[]'::jsonb END) AS p
  ) AS points WHERE lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180
  HAVING count(*) > 0;
  IF NOT FOUND AND NEW.start_latitude BETWEEN -90 AND 90
     AND NEW.start_longitude BETWEEN -180 AND 180 THEN
    INSERT INTO {TABLE} (recording_id, south, west, north, east)
    VALUES (NEW.id, NEW.start_latitude, NEW.start_longitude,
            NEW.start_latitude, NEW.start_longitude);
  END IF;
  RETURN NULL;
END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_write ON evidence_recording",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete ON evidence_recording",
    f"CREATE TRIGGER {TABLE}_write AFTER INSERT OR UPDATE OF gps_track, start_latitude, "
    f"start_longitude ON evidence_recording FOR EACH ROW EXECUTE FUNCTION {TABLE}_refresh()",
    f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON evidence_recording "
    f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_refresh()",
]
POSTGRES_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_write ON evidence_recording",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete ON evidence_recording",
    f"DROP FUNCTION IF EXISTS {TABLE}_refresh()",
    f"DROP TABLE IF EXISTS {TABLE}",
]
# The recordings there already: an update that changes nothing fires the triggers.
BACKFILL = "UPDATE evidence_recording SET gps_track = gps_track"


def forward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)
    if statements:
        schema_editor.execute(BACKFILL)


def backward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0006_assignment_no_overlap")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
