"""User names: no impersonation, no broken profile links, one set of rules everywhere
(sign-up, the admin, createsuperuser)."""

from __future__ import annotations

from html import unescape

import pytest
from django.core.management import CommandError, call_command

from common.names import lookalike_keys, skeleton

pytestmark = pytest.mark.django_db

PASSWORD = "a long and fine passphrase 7"


def sign_up(client, name: str):
    return client.post("/accounts/signup/", {"username": name, "password1": PASSWORD, "password2": PASSWORD})


def refusal(response) -> str:
    """The sign-up page came back (no redirect) with this text in it."""
    assert response.status_code == 200, "the name was accepted"
    return unescape(response.content.decode())


def test_the_skeleton_follows_unicode_tr39():
    assert skeleton("раураl") == skeleton("paypal")  # Cyrillic р, а, у
    assert skeleton("modern") == skeleton("rnodern")
    assert skeleton("I") == skeleton("l") == skeleton("1")
    assert skeleton("alice") != skeleton("bob")
    assert lookalike_keys("AIice") & lookalike_keys("alice")  # a capital i for an l
    assert not lookalike_keys("aiice") & lookalike_keys("alice")


def test_a_plain_name_signs_up_and_its_profile_link_works(client):
    response = sign_up(client, "ada.lovelace")
    assert response.status_code == 302
    assert client.get("/u/ada.lovelace/").status_code == 200


@pytest.mark.parametrize("name", ["Alice", "ALICE", "aIice", "ａｌｉｃｅ", "alicé", "alice_ś", "alice.",
                                  ".alice", "_alice", "a.lice", "al-ice", "alices"])
def test_a_name_that_looks_like_a_taken_one_is_refused(client, alice, django_user_model, name):
    django_user_model.objects.create_user("alice_s")
    html = refusal(sign_up(client, name))
    assert "looks too much like" in html or "already" in html
    assert not django_user_model.objects.exclude(username__in=["alice", "alice_s"]).exists()


def test_the_refusal_names_the_lookalike(client, alice):
    html = refusal(sign_up(client, "aIice"))
    assert "“aIice” looks too much like “alice”, who is already here: letters that look alike" in html


def test_a_name_mixing_scripts_is_refused_even_when_nobody_has_its_lookalike(client):
    html = refusal(sign_up(client, "аlice"))  # a Cyrillic а, then Latin
    assert "“аlice” mixes Cyrillic and Latin letters: use the letters of one script." in html


def test_one_script_or_a_mix_that_tr39_allows_is_fine(client):
    assert sign_up(client, "Хорошо").status_code == 302
    client.logout()
    assert sign_up(client, "Taro太郎たろう").status_code == 302


@pytest.mark.parametrize("name", [".", "..", "...", "_", "-.-"])
def test_a_name_without_a_letter_or_digit_is_refused(client, name):
    assert "A name needs at least one letter or digit." in refusal(sign_up(client, name))


@pytest.mark.parametrize("name", ["admin", "Admin", "ADMlN", "support_", "Mendel", "ｍｅｎｄｅｌ", "api", "static"])
def test_reserved_words_are_refused_whatever_their_spelling(client, name):
    assert "is reserved for the site. Pick another name." in refusal(sign_up(client, name))


def test_the_sign_up_form_states_the_rules(client):
    assert "all in one script" in client.get("/accounts/signup/").content.decode()


@pytest.fixture
def admin_client_(client, django_user_model):
    root = django_user_model.objects.create_superuser("operator", "op@example.org", PASSWORD)
    client.force_login(root)
    return client


def test_the_admin_applies_the_same_rules(admin_client_, alice, django_user_model):
    form = {"username": "aIice", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"}
    html = unescape(admin_client_.post("/admin/auth/user/add/", form).content.decode())
    assert "looks too much like “alice”" in html
    assert not django_user_model.objects.filter(username="aIice").exists()


def test_the_admin_can_still_edit_a_user_whose_name_predates_the_rules(admin_client_, django_user_model):
    legacy = django_user_model.objects.create_user("mendel")  # the demo artist: a reserved word
    page = admin_client_.get(f"/admin/auth/user/{legacy.pk}/change/")
    assert page.status_code == 200
    form = {"username": "mendel", "first_name": "The demo", "last_name": "", "email": "",
            "is_active": "on", "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2025-01-01", "initial-date_joined_1": "00:00:00"}
    response = admin_client_.post(f"/admin/auth/user/{legacy.pk}/change/", form)
    assert response.status_code == 302, unescape(response.content.decode())
    legacy.refresh_from_db()
    assert legacy.first_name == "The demo"


@pytest.mark.parametrize("name,message", [
    ("Alice", "Someone is already called “alice”"),
    ("root", "is reserved for the site"),
    ("..", "at least one letter or digit"),
])
def test_createsuperuser_applies_the_same_rules(alice, monkeypatch, name, message):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match=message):
        call_command("createsuperuser", interactive=False, username=name, email="root@example.org")


def test_the_rules_need_no_migration_of_django_auth():
    call_command("makemigrations", "auth", check=True, dry_run=True, verbosity=0)
