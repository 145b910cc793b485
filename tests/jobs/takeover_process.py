"""A real overt worker process for the take-over test, run as a script on its own instance.

`worker`: the real `run_worker()`, with the real media.waveform handler wrapped so that its
first attempt, once the derivative is stored and logged, writes OVERT_TEST_PAUSE_FILE and
hangs, as a worker does when it is killed after the work but before the job is marked
done (the case that proves a re-sent job is safe). `report`: the instance's jobs,
derivatives and derivative-create entries as JSON, for the test to assert on.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path


def worker() -> None:
    from overt.jobs import registry
    from overt.jobs.worker import run_worker

    real = registry.handler_for("media.waveform")

    def hang_after_first_attempt(ctx: registry.JobContext) -> None:
        real(ctx)
        if ctx.attempt == 1:
            Path(os.environ["OVERT_TEST_PAUSE_FILE"]).write_text(str(os.getpid()))
            while True:  # until kill -9
                time.sleep(1)

    registry._HANDLERS["media.waveform"] = hang_after_first_attempt
    run_worker()


def report() -> None:
    from overt.custody.models import CustodyEntry
    from overt.evidence.models import Derivative
    from overt.jobs.models import Job

    entries = Counter(
        json.loads(e.entry)["details"]["kind"]
        for e in CustodyEntry.objects.filter(action="derivative-create")
    )
    print(
        json.dumps(
            {
                "jobs": {
                    j.kind: {
                        "status": j.status,
                        "attempts": j.attempts,
                        "worker": getattr(j, "worker", ""),
                        "last_error": j.last_error,
                        "message": j.message,
                    }
                    for j in Job.objects.all()
                },
                "derivatives": dict(Counter(Derivative.objects.values_list("kind", flat=True))),
                "derivative_entries": dict(entries),
            }
        )
    )


if __name__ == "__main__":
    from overt.cli.bootstrap import setup

    setup()
    {"worker": worker, "report": report}[sys.argv[1]]()
