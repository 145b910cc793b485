# PostgreSQL: every word said in a recording, over all its clips, in one vector with a
# GIN index, so that "which recordings said a and b" is one index look-up.
#
# The words index (transcripts_speechindex.tsv) has a row per clip, and a recording's
# words may be spread over its clips, so several words were looked up one by one and
# their sets intersected: two words in 47,000 and 15,000 of 100,000 transcripts cost
# their two sets (25 ms) and a walk of the listing. Here each recording's clips' vectors
# are merged and kept current by a trigger on the clips' index. Only words are looked
# up here, never phrases: merging shifts each clip's positions after the last, so one
# clip's last word would sit beside the next clip's first (phrases use the clips' own
# index). The positions are kept though unused: they make a vector big enough
# to be stored out of line, so the rows a match visits for its id are small (stripped,
# 300 words' vector stayed in the row: a look-up of 7,000 matches visited 5,338 pages,
# 19-36 ms; with positions, 735 pages, 9 ms). A merged vector too big for a tsvector
# (1 MB; an hour of speech is about 100 KB) is stored as NULL, and the search looks for
# each word in that recording's clips instead.

from django.db import migrations

TABLE = "transcripts_recording_words"
CLIPS = "transcripts_speechindex"
UNION = "transcripts_words_union"
REFRESH = "transcripts_recording_words_refresh"
SYNC = "transcripts_recording_words_sync"

FORWARD = [
    f"CREATE AGGREGATE {UNION}(tsvector) "
    "(SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '')",
    f"""CREATE TABLE {TABLE} (
        recording_id bigint PRIMARY KEY,  -- kept by the trigger, as the clips' rows come and go
        words tsvector
    )""",
    # the vectors out of line, so the rows a match visits for its id are small
    f"ALTER TABLE {TABLE} SET (toast_tuple_target = 128)",
    # Two clips of one recording saved at once (two workers, a correction): each
    # transaction would merge what it sees and the later write would drop the other's
    # words. So the recording's row is locked first (made if new); a transaction that
    # waited for it then merges in a new snapshot, which holds the other's clip.
    f"""CREATE FUNCTION {REFRESH}(rid bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    merged tsvector;
BEGIN
    INSERT INTO {TABLE} (recording_id, words) VALUES (rid, NULL) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM {TABLE} WHERE recording_id = rid FOR UPDATE;
    IF NOT EXISTS (SELECT 1 FROM {CLIPS} WHERE recording_id = rid) THEN
        DELETE FROM {TABLE} WHERE recording_id = rid;
        RETURN;
    END IF;
    BEGIN
        SELECT {UNION}(tsv) INTO merged FROM {CLIPS} WHERE recording_id = rid;
    EXCEPTION WHEN program_limit_exceeded THEN
        merged := NULL;  -- too many words for one vector: searched clip by clip
    END;
    UPDATE {TABLE} SET words = merged WHERE recording_id = rid;
END $$""",
    f"""CREATE FUNCTION {SYNC}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.recording_id <> OLD.recording_id) THEN
        PERFORM {REFRESH}(OLD.recording_id);
    END IF;
    IF TG_OP = 'INSERT' OR NEW.recording_id <> OLD.recording_id OR NEW.tsv <> OLD.tsv THEN
        PERFORM {REFRESH}(NEW.recording_id);
    END IF;
    RETURN NULL;
END $$""",
    f"CREATE TRIGGER {SYNC} AFTER INSERT OR UPDATE OR DELETE ON {CLIPS} "
    f"FOR EACH ROW EXECUTE FUNCTION {SYNC}()",
    f"""CREATE FUNCTION {SYNC}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE {TABLE};
    RETURN NULL;
END $$""",
    f"CREATE TRIGGER {SYNC}_truncate AFTER TRUNCATE ON {CLIPS} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {SYNC}_truncate()",
    f"SELECT {REFRESH}(recording_id) FROM (SELECT DISTINCT recording_id FROM {CLIPS}) AS r",
    f"CREATE INDEX {TABLE}_gin ON {TABLE} USING gin (words)",
    f"CREATE INDEX {TABLE}_whole ON {TABLE} (recording_id) WHERE words IS NULL",
]
BACKWARD = [
    f"DROP TRIGGER IF EXISTS {SYNC}_truncate ON {CLIPS}",
    f"DROP FUNCTION IF EXISTS {SYNC}_truncate()",
    f"DROP TRIGGER IF EXISTS {SYNC} ON {CLIPS}",
    f"DROP FUNCTION IF EXISTS {SYNC}()",
    f"DROP FUNCTION IF EXISTS {REFRESH}(bigint)",
    f"DROP TABLE IF EXISTS {TABLE}",
    f"DROP AGGREGATE IF EXISTS {UNION}(tsvector)",
]


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("transcripts", "0007_phrase_said_in_tokens")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
