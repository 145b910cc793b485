"""Where walking beats gathering (issue 16): the figures behind WALK_WORDS in
overt/transcripts/search.py, and the sizes of the speech indexes.

For words said in a growing share of transcripts, the first 1,001 matches in the
listing's order (newest trigger first) two ways, on a seeded PostgreSQL database
(`bench/transcripts.py --seed-cache DIR` keeps one as a template):
- set: every match gathered from the index into one hashed set, the listing probing it;
- walk: the listing tests each recording's stored vector as it comes.

Run: .venv/bin/python bench/transcripts_walk_or_set.py postgresql://postgres@127.0.0.1/DB
"""

from __future__ import annotations

import sys
import time

import psycopg

ORDER = "ORDER BY trigger_on_at DESC, id DESC LIMIT 1001"
SET = (
    "SELECT id FROM evidence_recording WHERE CASE WHEN id IN (SELECT r FROM "
    "transcripts_speech_recordings(to_tsquery('simple', %s)) r) THEN true ELSE false END "
)
WALK = (
    "SELECT id FROM evidence_recording e WHERE CASE WHEN (SELECT true FROM "
    "transcripts_speechindex s WHERE s.recording_id = e.id AND s.tsv @@ "
    "to_tsquery('simple', %s) LIMIT 1) THEN true ELSE false END "
)


def timed(conn: psycopg.Connection, sql: str, query: str) -> float:
    t0 = time.perf_counter()
    conn.execute(sql + ORDER, [query]).fetchall()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    sys.path.insert(0, "bench")
    from transcripts_seed import VOCABULARY

    with psycopg.connect(sys.argv[1], autocommit=True) as conn:
        total = conn.execute("SELECT count(*) FROM transcripts_speechindex").fetchone()[0]
        print(f"{total:,} transcripts\n")
        print("| word | share | set ms (3 runs) | walk ms (3 runs) |")
        print("|---|---:|---|---|")
        for word in (VOCABULARY[0], VOCABULARY[19], VOCABULARY[50], VOCABULARY[100]):
            query = f"{word}:*"
            n = conn.execute(
                "SELECT count(*) FROM transcripts_speech_recordings(to_tsquery('simple', %s))",
                [query],
            ).fetchone()[0]
            sets = [timed(conn, SET, query) for _ in range(3)]
            walks = [timed(conn, WALK, query) for _ in range(3)]
            print(
                f"| {word} | {n / total:.2f} | {', '.join(f'{t:.0f}' for t in sets)} "
                f"| {', '.join(f'{t:.0f}' for t in walks)} |"
            )
        print("\n| index | size |")
        print("|---|---:|")
        for name in ("transcripts_speech_tsv_gin", "transcripts_speech_triples_gin"):
            size = conn.execute(
                "SELECT pg_size_pretty(pg_relation_size(%s::regclass))", [name]
            ).fetchone()[0]
            print(f"| {name} | {size} |")
        size = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('transcripts_speechindex'))"
        ).fetchone()[0]
        print(f"| the table with its vectors (all indexes included) | {size} |")


if __name__ == "__main__":
    main()
