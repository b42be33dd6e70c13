from django import forms

from .models import Role, WorkType


class RoleForm(forms.Form):
    """Edit a role. `locked_fields` works as in CandidateForm: locked fields are shown
    disabled with their note, and a submitted value reaches the service, which rejects
    a change."""

    title = forms.CharField(max_length=300)
    department = forms.CharField(max_length=200, required=False)
    location = forms.CharField(max_length=200, required=False)
    work_type = forms.ChoiceField(choices=[("", "Not set"), *WorkType.choices], required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False)

    def __init__(self, *args, role: Role, locked_fields: dict[str, str] | None = None, **kwargs):
        kwargs.setdefault("initial", {name: getattr(role, name) for name in self.base_fields})
        super().__init__(*args, **kwargs)
        self.locked_fields = dict(locked_fields or {})
        if self.is_bound and self.locked_fields:
            self.data = self.data.copy()
        for name, note in self.locked_fields.items():
            if name not in self.fields:
                continue
            field = self.fields[name]
            field.required = False
            field.widget.attrs["disabled"] = True
            field.help_text = note
            if self.is_bound and name not in self.data:
                self.data[name] = self.initial.get(name, "")

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class RoleFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "All statuses"), *Role.Status.choices], required=False)
