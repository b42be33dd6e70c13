"""KeyValueFormatter prints extra fields and hides fields named like secrets."""

import logging

from ops.log_format import KeyValueFormatter


def format_record(message, **extra):
    logger = logging.getLogger("ops.tests.format")
    record = logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, message, None, None, extra=extra
    )
    return KeyValueFormatter("%(levelname)s %(message)s").format(record)


def test_extras_appended_sorted():
    line = format_record(
        "sync run finished",
        run_id=7,
        organization_id=3,
        counts={"candidates": {"created": 2}},
        duration_s=1.5,
    )

    assert line == (
        'INFO sync run finished counts={"candidates":{"created":2}} duration_s=1.5 '
        "organization_id=3 run_id=7"
    )


def test_secret_named_fields_redacted():
    line = format_record("connect", api_key="abc123", credential="xyz", sync_token="t")

    assert "abc123" not in line
    assert "xyz" not in line
    assert "api_key=[redacted]" in line


def test_values_with_spaces_or_newlines_quoted():
    line = format_record("event", error="two words\nand a line break")

    assert line == 'INFO event error="two words\\nand a line break"'


def test_record_without_extras_unchanged():
    assert format_record("plain") == "INFO plain"
