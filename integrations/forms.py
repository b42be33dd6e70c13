from django import forms


class CredentialForm(forms.Form):
    credential = forms.CharField(
        label="API key",
        strip=False,  # services.clean_credential strips, so tests see what the user pasted
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        max_length=512,
    )
