"""Endpoints for the API key and the organization's reference lists."""

from .keys import KEY_CREATED_AT
from .paging import paginate
from .validation import field


def api_key_info(state, body, ctx):
    config = ctx.key_config
    return {"success": True, "results": {"title": config["title"], "createdAt": KEY_CREATED_AT,
                                         "scopes": list(config["scopes"])}}


def _archived_filter(body, flag="includeArchived", archived_field="isArchived"):
    include = bool(field(body, flag, "boolean"))

    def keep(row, _filters=None):
        return include or not row[archived_field]

    return keep


def source_list(state, body, ctx):
    keep = _archived_filter(body)
    results = [{**s, "sourceType": dict(s["sourceType"])} for s in state.org.sources if keep(s)]
    return {"success": True, "results": results, "moreDataAvailable": False}


def archive_reason_list(state, body, ctx):
    keep = _archived_filter(body)
    return {"success": True, "results": [dict(r) for r in state.org.archive_reasons if keep(r)]}


def _paged_reference(state, body, kind, rows, keep):
    envelope = paginate(state.codec, body, kind, rows, state.seq, keep, {}, incremental=False)
    envelope["results"] = [dict(row) for row in envelope["results"]]
    return envelope


def department_list(state, body, ctx):
    return _paged_reference(state, body, "department", state.org.departments,
                            _archived_filter(body))


def location_list(state, body, ctx):
    field(body, "includeLocationHierarchy", "boolean")
    return _paged_reference(state, body, "location", state.org.locations, _archived_filter(body))


def user_list(state, body, ctx):
    include = bool(field(body, "includeDeactivated", "boolean"))

    def keep(user, _filters):
        return include or user["isEnabled"]

    return _paged_reference(state, body, "user", state.org.users, keep)


HANDLERS = {
    "apiKey.info": api_key_info,
    "source.list": source_list,
    "archiveReason.list": archive_reason_list,
    "department.list": department_list,
    "location.list": location_list,
    "user.list": user_list,
}
