from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the heartbeat task that Celery beat queues.

    One row per `name`; `/healthz/worker` reads the default row, so a stopped beat or a
    stopped worker both show up as an old `beat_at`.
    """

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
