"""Retention: policies on categories, holds, the daily recycle/recover/purge job,
deletion certificates and tombstones. docs/retention.md explains it to an information
manager; nothing outside this app deletes evidence."""
