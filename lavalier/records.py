"""Fields shared by every record that can come from an ATS."""

from django.db import models


class ExternalRecord(models.Model):
    """Provider, remote id and sync bookkeeping of a record mirrored from an ATS.

    Records created in Lavalier have an empty `provider` and a null `remote_id` until a
    write-back links them. `is_linked` turns false when the organization disconnects
    its ATS: the row stays for recruiters, and a reconnect to the same account links it
    again by remote id.
    """

    provider = models.CharField(max_length=32, blank=True, default="")
    # NULL, not "", for local rows: NULLs never collide in the unique constraint below.
    remote_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    is_linked = models.BooleanField(default=False)

    class Meta:
        abstract = True

    @property
    def is_from_ats(self) -> bool:
        return bool(self.provider and self.remote_id)


def remote_id_constraint(model_name: str) -> models.UniqueConstraint:
    """One row per (organization, provider, remote id).

    Local rows have a null remote id, and NULLs never collide in a unique index. The
    constraint is deliberately not partial: sync upserts name it as the conflict target
    of INSERT … ON CONFLICT, which PostgreSQL matches only against a full unique index.
    """
    return models.UniqueConstraint(
        fields=["organization", "provider", "remote_id"],
        name=f"{model_name}_unique_remote_id",
    )
