"""Accounts under attack: password guessing on the login form and the token API, sign-ups
in bulk, and tokens that outlive a logout."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse 1"  # alice's (tests/conftest.py)
LOCKOUT = "Too many failed logins for this account from your address. Try again in 15 minutes."


@pytest.fixture(autouse=True)
def _fresh_counts(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # many tries, fast
    cache.clear()
    yield
    cache.clear()


def log_in(client, username="alice", password="wrong guess"):
    return client.post("/accounts/login/", {"username": username, "password": password})


def ask_token(client, username="alice", password="wrong guess"):
    return client.post("/api/token/", {"username": username, "password": password}, format="json")


def test_the_login_form_locks_an_account_and_address_pair_after_five_failures(alice, bob, settings):
    guesser = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(4):
        response = log_in(guesser)
        assert response.status_code == 200 and b"Please enter a correct username" in response.content
    locked = log_in(guesser)  # the fifth failure
    assert locked.status_code == 429
    assert LOCKOUT in locked.content.decode()
    # now even the right password is refused from there, with the same page
    right = log_in(guesser, password=PASSWORD)
    assert right.status_code == 429 and LOCKOUT in right.content.decode()
    assert "_auth_user_id" not in guesser.session
    # Alice at home, and Bob from the guesser's address, log in as usual.
    assert log_in(Client(REMOTE_ADDR="198.51.100.20"), password=PASSWORD).status_code == 302
    assert log_in(guesser, "bob", "battery staple 2").status_code == 302


def test_the_token_api_counts_failures_with_the_form_and_answers_a_lockout_in_json(alice):
    guesser = APIClient(REMOTE_ADDR="203.0.113.6")
    for _ in range(2):
        assert log_in(guesser).status_code == 200
    for _ in range(2):
        wrong = ask_token(guesser)
        assert wrong.status_code == 400
        assert wrong.json()["error"] == "Unable to log in with provided credentials."
    for password in ("wrong guess", PASSWORD):  # the fifth failure; then the right one, refused
        locked = ask_token(guesser, password=password)
        assert locked.status_code == 429
        assert locked.json() == {"error": LOCKOUT, "retry_after": 900}
        assert locked["Retry-After"] == "900"
    assert not Token.objects.filter(user=alice).exists()
    assert ask_token(APIClient(REMOTE_ADDR="198.51.100.21"), password=PASSWORD).status_code == 200


def test_a_success_clears_the_failures_of_its_pair(alice):
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(4):
        log_in(client)
    assert log_in(client, password=PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert log_in(client).status_code == 200  # counting from zero again


def sign_up(client, name):
    return client.post("/accounts/signup/", {"username": name, "password1": "a long passphrase 7",
                                              "password2": "a long passphrase 7"})


def test_sign_ups_are_limited_per_address(settings):
    settings.SIGNUP_RATE_PER_HOUR = 3
    for i in range(3):
        assert sign_up(Client(REMOTE_ADDR="203.0.113.9"), f"maker{i}").status_code == 302
    refused = sign_up(Client(REMOTE_ADDR="203.0.113.9"), "maker3")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many accounts have been made from your address this hour. Try again in " in page
    assert not get_user_model().objects.filter(username="maker3").exists()
    # a form with a mistake is answered as before and counts for nothing
    mistake = Client(REMOTE_ADDR="203.0.113.9").post("/accounts/signup/", {"username": "x"})
    assert mistake.status_code == 200
    assert sign_up(Client(REMOTE_ADDR="198.51.100.22"), "maker3").status_code == 302


def test_a_breeder_revokes_their_token_through_the_api(alice):
    client = APIClient()
    key = ask_token(client, password=PASSWORD).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/creations/").status_code == 200
    assert client.delete("/api/token/").status_code == 204
    assert not Token.objects.filter(user=alice).exists()
    assert client.get("/api/creations/").json() == {"error": "Invalid token."}
    assert APIClient().delete("/api/token/").status_code in (401, 403)


def test_logging_out_of_the_site_revokes_the_api_token(alice):
    api = APIClient()
    key = ask_token(api, password=PASSWORD).json()["token"]
    browser = Client()
    assert log_in(browser, password=PASSWORD).status_code == 302
    assert browser.post("/accounts/logout/").status_code == 302
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/creations/").json() == {"error": "Invalid token."}
    assert not Token.objects.filter(key=key).exists()


@pytest.mark.parametrize("length", [255, 256, 5000])
def test_a_made_up_name_of_any_length_is_a_failed_login_not_a_failed_request(length):
    name = "z" * length
    token = ask_token(APIClient(REMOTE_ADDR="203.0.113.9"), username=name)
    assert token.status_code == 400 and token.json()["error"] == "Unable to log in with provided credentials."
    form = log_in(Client(REMOTE_ADDR="203.0.113.9"), username=name)
    assert form.status_code == 200  # the form again, with its message
    admin = Client(REMOTE_ADDR="203.0.113.9").post("/admin/login/", {"username": name, "password": "x"})
    assert admin.status_code == 200


@pytest.mark.parametrize("follow", ["-1", "studio-start", "frontend:studio-start", "http:-1",
                                    "http://[::1", "javascript:alert(1)", "%00", "ab/../c"])
def test_a_next_that_is_no_page_of_the_site_leads_to_the_studio(alice, follow):
    signed_in = Client()
    signed_in.force_login(alice)
    assert signed_in.get("/accounts/signup/", {"next": follow})["Location"] == "/studio/"
    form = {"username": "newcomer", "password1": "a long passphrase 7",
            "password2": "a long passphrase 7", "next": follow}
    assert Client().post("/accounts/signup/", form)["Location"] == "/studio/"


def test_a_next_on_this_site_is_followed_after_signing_up(alice):
    signed_in = Client()
    signed_in.force_login(alice)
    assert signed_in.get("/accounts/signup/?next=/gallery/")["Location"] == "/gallery/"
    assert signed_in.get("/accounts/signup/?next=http://testserver/gallery/")["Location"] == (
        "http://testserver/gallery/")


def test_changing_the_password_revokes_the_api_token(alice):
    api = APIClient()
    key = ask_token(api, password=PASSWORD).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/creations/").status_code == 200
    alice.is_staff = True  # the password-change view Mendel has is the admin's
    alice.save(update_fields=["is_staff"])
    assert api.get("/api/creations/").status_code == 200  # other changes keep it
    browser = Client()
    assert log_in(browser, password=PASSWORD).status_code == 302
    changed = browser.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": "a new long passphrase 8",
        "new_password2": "a new long passphrase 8"})
    assert changed.status_code == 302 and changed["Location"] == "/admin/password_change/done/"
    assert api.get("/api/creations/").json() == {"error": "Invalid token."}
    assert not Token.objects.filter(user=alice).exists()
    # Set any other way (manage.py changepassword does this), it is the same.
    fresh = APIClient()
    key = ask_token(fresh, password="a new long passphrase 8").json()["token"]
    alice.refresh_from_db()
    alice.set_password("a third long passphrase 9")
    alice.save()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert fresh.get("/api/creations/").json() == {"error": "Invalid token."}


def test_a_token_for_the_right_password_clears_the_failures_of_its_pair(alice):
    client = APIClient(REMOTE_ADDR="203.0.113.10")
    for _ in range(4):
        assert ask_token(client).status_code == 400
    assert ask_token(client, password=PASSWORD).status_code == 200
    for _ in range(4):
        assert ask_token(client).status_code == 400  # counting from zero again
    assert ask_token(client, password=PASSWORD).status_code == 200


def test_x_forwarded_for_is_believed_only_from_trusted_proxies(alice, settings):
    import ipaddress

    def guess(forwarded_for, peer="127.0.0.1"):
        return ask_token(APIClient(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for))

    # No proxy is trusted by default: a local client naming a new address each time is
    # still one address, locked out after five failures.
    for i in range(4):
        assert guess(f"198.51.100.{i}").status_code == 400
    assert guess("198.51.100.99").status_code == 429
    # Behind a trusted proxy, the address the proxy adds counts, not what the client wrote.
    cache.clear()
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    for i in range(4):
        assert guess(f"{i}.{i}.{i}.{i}, 203.0.113.50", peer="10.1.2.3").status_code == 400
    assert guess("203.0.113.50, 10.9.9.9", peer="::ffff:10.1.2.3").status_code == 429
    assert guess("203.0.113.51", peer="10.1.2.3").status_code == 400  # another client
