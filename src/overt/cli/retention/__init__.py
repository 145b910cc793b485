"""Evidence managers' commands: recordings and categories, holds, the retention run,
early deletion with two people, deletion certificates.

Exit status for all of them: 0 on success; 1 when the rules refuse the action (a hold,
the two-person rule, a date in the future, ...) or it failed, with the reason on stderr;
2 for a bad argument, such as a recording, category or user that does not exist.

Who acts: commands that change something take ``--as USERNAME``, a Django user of this
instance, which the custody log records as the actor. Without it, the actor is the
operating-system account (``system:cli:NAME``). Early deletion always needs ``--as``:
the two-person rule is about people, and both need the permission
``retention.approve_deletion``.
"""
