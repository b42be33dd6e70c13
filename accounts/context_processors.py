def membership(request):
    return {
        "membership": getattr(request, "membership", None),
        "organization": getattr(request, "organization", None),
    }
