from urllib.parse import urlsplit

from django.urls import reverse


def test_home_redirects_to_candidates(recruiter_client):
    response = recruiter_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("candidates:list")


def test_login_form_signs_in(client, recruiter, password):
    page = client.get(reverse("login"))
    response = client.post(reverse("login"), {"username": recruiter.username, "password": password})

    assert page.status_code == 200
    assert "Sign in" in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home"))["Location"] == reverse("candidates:list")


def test_home_sends_staff_to_ops(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse("home"))["Location"] == reverse("ops:dashboard")


def test_login_rejects_wrong_password(client, recruiter):
    response = client.post(reverse("login"), {"username": recruiter.username, "password": "nope"})

    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()


def test_login_ignores_external_next(client, recruiter, password):
    response = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": recruiter.username, "password": password, "next": "https://evil.example/"},
    )

    assert urlsplit(response["Location"]).netloc == ""


def test_logout_needs_post_and_signs_out(recruiter_client):
    response = recruiter_client.post(reverse("logout"))
    after = recruiter_client.get(reverse("candidates:list"))

    assert response.status_code == 302
    assert urlsplit(after["Location"]).path == reverse("login")


def test_nav_links_and_no_inline_script(recruiter_client):
    text = recruiter_client.get(reverse("candidates:list")).content.decode()

    assert reverse("roles:list") in text
    assert "Settings · Integrations" in text
    assert "<script>" not in text
    assert " onclick=" not in text
