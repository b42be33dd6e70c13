from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Organization


class Integration(models.Model):
    """An organization's connection to one ATS.

    A disconnect keeps the row (and its run history) with `is_active` false and the
    credential erased; a partial unique constraint allows one active row per organization,
    whatever the provider.
    """

    class State(models.TextChoices):
        SYNCING = "syncing", "Syncing"
        CONNECTED = "connected", "Connected"
        ERROR = "error", "Needs attention"
        DISCONNECTED = "disconnected", "Disconnected"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="integrations"
    )
    provider = models.CharField(max_length=32)
    is_active = models.BooleanField(default=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.SYNCING)
    # Fernet token of the credential (see integrations.crypto); empty once disconnected.
    encrypted_credential = models.TextField(blank=True, default="", editable=False)
    credential_last4 = models.CharField(max_length=4, blank=True, default="")
    # Name the ATS gives the credential, such as the API key's title in Ashby.
    credential_title = models.CharField(max_length=200, blank=True, default="")
    # Provider options an Owner sets, such as the default source for new applications.
    options = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(auto_now_add=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_full_sync_at = models.DateTimeField(null=True, blank=True)
    # Per-organization sync lock: a run holds it until `sync_lock_expires_at`, renewing
    # it while it works, so a worker killed mid-run blocks the next one only briefly.
    sync_lock_token = models.CharField(max_length=64, blank=True, default="")
    sync_lock_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "-connected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_active=True),
                name="integration_one_active_per_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} for {self.organization}"


class SyncCursor(models.Model):
    """The last incremental-sync token an ATS returned for one list of one integration."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="cursors")
    list_name = models.CharField(max_length=64)
    sync_token = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "list_name"], name="synccursor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.integration_id}:{self.list_name}"


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        CONNECT = "connect", "First sync after connect"
        SCHEDULE = "schedule", "Scheduled"
        MANUAL = "manual", "Sync now"
        RECONCILE = "reconcile", "Daily reconciliation"
        COMMAND = "command", "Management command"

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        HALTED = "halted", "Halted"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    is_full = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"entity": str, "records": int} while running, for the live card.
    progress = models.JSONField(default=dict, blank=True)
    # {entity: {"created": n, "updated": n, "hidden": n, "unchanged": n}}
    counts = models.JSONField(default=dict, blank=True)
    # Lists synced in full because their token expired or was invalid.
    notes = models.JSONField(default=list, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["integration", "-started_at"])]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.outcome})"

    @property
    def duration_seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class OutboxEvent(models.Model):
    """A local change waiting to be pushed to the ATS, written with the change itself."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="outbox_events"
    )
    kind = models.CharField(max_length=64)
    # The local record the change belongs to; rows of one record are delivered in order.
    record_type = models.CharField(max_length=32)
    record_id = models.BigIntegerField()
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["record_type", "record_id", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_type}:{self.record_id} ({self.state})"
