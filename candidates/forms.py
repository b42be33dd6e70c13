"""Forms for candidate pages. They turn text boxes into the model's JSON lists; the
services decide what may change."""

from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from .models import Candidate
from .resumes import MAX_RESUME_BYTES, resume_validate

# Social link type by host, using the types Ashby accepts; other hosts are "Website".
SOCIAL_LINK_TYPES = {
    "linkedin.com": "LinkedIn",
    "github.com": "GitHub",
    "twitter.com": "Twitter",
    "x.com": "Twitter",
    "medium.com": "Medium",
    "stackoverflow.com": "StackOverflow",
    "youtube.com": "YouTube",
    "codepen.io": "CodePen",
}
LINES_HELP = "One per line; the first is the primary one."


def _lines(text: str) -> list[str]:
    values = []
    for line in text.splitlines():
        line = line.strip()
        if line and line not in values:
            values.append(line)
    return values


def _social_link_type(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    for domain, link_type in SOCIAL_LINK_TYPES.items():
        if host == domain or host.endswith("." + domain):
            return link_type
    return "Website"


def contacts_from_lines(values: list[str], existing: list[dict]) -> list[dict]:
    """Build a contact list ({value, type, is_primary}) from entered values.

    Entries whose value already exists keep their type. The list is returned unchanged
    when the values and their order did not change, so an untouched box is no change.
    """
    if [entry.get("value") for entry in existing] == values:
        return existing
    by_value = {str(entry.get("value", "")).lower(): entry for entry in existing}
    contacts = []
    for index, value in enumerate(values):
        known = by_value.get(value.lower(), {})
        contacts.append(
            {"value": value, "type": known.get("type", "Personal"), "is_primary": index == 0}
        )
    return contacts


def social_links_from_lines(urls: list[str], existing: list[dict]) -> list[dict]:
    """Build a social link list ({type, url}); known URLs keep their type."""
    if [entry.get("url") for entry in existing] == urls:
        return existing
    by_url = {entry.get("url"): entry for entry in existing}
    return [
        {"type": by_url.get(url, {}).get("type") or _social_link_type(url), "url": url}
        for url in urls
    ]


class CandidateForm(forms.Form):
    """Create or edit a candidate.

    `locked_fields` maps field names to the note the ATS integration gives; those
    fields are shown disabled with the note. Browsers do not submit disabled fields, so
    a missing locked field keeps its current value, while a submitted one reaches the
    service unchanged, which rejects it if it differs.
    """

    name = forms.CharField(max_length=300)
    email_addresses = forms.CharField(
        label="Emails",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=LINES_HELP,
    )
    phone_numbers = forms.CharField(
        label="Phones",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=LINES_HELP,
    )
    title = forms.CharField(label="Job title", max_length=300, required=False)
    company = forms.CharField(max_length=300, required=False)
    location = forms.CharField(max_length=300, required=False)
    social_links = forms.CharField(
        label="Social links",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One URL per line, such as a LinkedIn or GitHub profile.",
    )
    resume = forms.FileField(
        required=False,
        help_text=f"PDF, DOC or DOCX, up to {MAX_RESUME_BYTES // (1024 * 1024)} MB.",
        widget=forms.FileInput(attrs={"accept": ".pdf,.doc,.docx"}),
    )
    role = forms.ModelChoiceField(
        label="Apply to role", queryset=None, required=False, empty_label="No role"
    )

    def __init__(
        self,
        *args,
        candidate: Candidate | None = None,
        locked_fields: dict[str, str] | None = None,
        roles=None,
        **kwargs,
    ):
        self.candidate = candidate
        self.locked_fields = dict(locked_fields or {})
        if candidate is not None:
            kwargs.setdefault("initial", self.initial_from(candidate))
        super().__init__(*args, **kwargs)

        if candidate is None and roles is not None:
            self.fields["role"].queryset = roles
        else:
            del self.fields["role"]
        if candidate is not None and candidate.resume:
            self.fields["resume"].help_text += " Uploading a file replaces the current resume."

        if self.is_bound and self.locked_fields:
            self.data = self.data.copy()
        for name, note in self.locked_fields.items():
            if name not in self.fields:
                continue
            field = self.fields[name]
            field.required = False
            field.widget.attrs["disabled"] = True
            field.help_text = note
            if self.is_bound and name not in self.data and name != "resume":
                self.data[name] = self.initial.get(name, "")

    @staticmethod
    def initial_from(candidate: Candidate) -> dict:
        return {
            "name": candidate.name,
            "email_addresses": "\n".join(e.get("value", "") for e in candidate.email_addresses),
            "phone_numbers": "\n".join(p.get("value", "") for p in candidate.phone_numbers),
            "social_links": "\n".join(s.get("url", "") for s in candidate.social_links),
            "title": candidate.title,
            "company": candidate.company,
            "location": candidate.location,
        }

    def _existing(self, name: str) -> list[dict]:
        return list(getattr(self.candidate, name, None) or [])

    def clean_email_addresses(self) -> list[dict]:
        values = _lines(self.cleaned_data["email_addresses"])
        for value in values:
            try:
                validate_email(value)
            except ValidationError:
                raise ValidationError(f"{value!r} is not a valid email address.") from None
        return contacts_from_lines(values, self._existing("email_addresses"))

    def clean_phone_numbers(self) -> list[dict]:
        values = _lines(self.cleaned_data["phone_numbers"])
        for value in values:
            if len(value) > 50:
                raise ValidationError(f"{value[:20]!r}… is too long for a phone number.")
        return contacts_from_lines(values, self._existing("phone_numbers"))

    def clean_social_links(self) -> list[dict]:
        urls = _lines(self.cleaned_data["social_links"])
        validate_url = URLValidator(schemes=["http", "https"])
        for url in urls:
            try:
                validate_url(url)
            except ValidationError:
                raise ValidationError(
                    f"{url!r} is not a valid web address. Enter it with http:// or https://."
                ) from None
        return social_links_from_lines(urls, self._existing("social_links"))

    def clean_resume(self):
        upload = self.cleaned_data.get("resume")
        if upload:
            resume_validate(upload)
        return upload or None

    def changes(self) -> dict:
        """Return the cleaned values of the editable fields, keyed by model field."""
        fields = (
            "name",
            "email_addresses",
            "phone_numbers",
            "social_links",
            "title",
            "company",
            "location",
        )
        return {name: self.cleaned_data[name] for name in fields}


class StageChangeForm(forms.Form):
    """Move an application to a stage; the service checks the stage and reason."""

    stage = forms.IntegerField(min_value=1)
    archive_reason = forms.CharField(max_length=128, required=False)
    next = forms.CharField(required=False)
