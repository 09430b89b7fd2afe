"""Comments on public works (``/api/creations/<id>/comments/``, ``gallery.comments``), tested
as an attacker would use them: floods, HTML and script in the text, comments on hidden
works, and probing for private works through comments.

Alice owns the work; Bob comments on it; Carol is a third breeder; Dora is staff.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from breeding import actions
from breeding.models import Visibility
from gallery.comments import as_html
from gallery.models import Comment, CommentReport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_account_age(settings, one_minute):
    """Accounts made by a test are seconds old: the age rule is tested on its own. The
    hourly limits count in one window for the whole test (``one_minute``)."""
    settings.COMMENT_MIN_ACCOUNT_AGE_S = 0


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.org", "tide pools 3")


@pytest.fixture
def dora(django_user_model):
    return django_user_model.objects.create_user("dora", "dora@example.org", "sea glass 4", is_staff=True)


def client_for(user, address: str = "203.0.113.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def work(alice, space):
    made = actions.do_random(alice, space, 1, seed=1)[0]
    return actions.do_update(made, title="Tide", visibility=Visibility.PUBLIC)


def url(work, rest: str = "") -> str:
    return f"/api/creations/{work if isinstance(work, str) else work.public_id}/comments/{rest}"


def say(user, work, text: str, address: str = "203.0.113.1"):
    return client_for(user, address).post(url(work), {"text": text}, format="json")


def read(user, work) -> list[dict]:
    response = client_for(user).get(url(work))
    assert response.status_code == 200, response.content
    return response.json()["results"]


# -- writing, editing, deleting ---------------------------------------------------------


def test_a_breeder_comments_on_a_public_work_and_everyone_reads_it(bob, work):
    response = say(bob, work, "  Lovely tide.\r\n\r\n\r\n\r\nThe blue!  ")
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["author"] == "bob" and made["yours"] and not made["hidden"] and made["edited"] is None
    assert made["text"] == "Lovely tide.\n\nThe blue!"  # line ends made plain, one empty line at most
    assert [c["id"] for c in read(None, work)] == [made["id"]]
    assert read(None, work)[0]["yours"] is False


def test_a_visitor_reads_but_does_not_write(work):
    response = APIClient().post(url(work), {"text": "hi"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"error": "Log in first: this needs an account."}


def test_its_author_edits_and_deletes_it_and_nobody_else_can(alice, bob, carol, work):
    made = say(bob, work, "Nice").json()
    one = url(work, f"{made['id']}/")
    for someone in (alice, carol):
        edit = client_for(someone).patch(one, {"text": "Ugly"}, format="json")
        assert edit.status_code == 403
        assert edit.json() == {"error": "Only its author can change a comment."}
    assert client_for(carol).delete(one).json() == {"error": "Only its author can delete a comment."}
    assert client_for(alice).delete(one).json() == {
        "error": "Only its author can delete a comment; as the work's owner, you can hide it."}

    edited = client_for(bob).patch(one, {"text": "Very nice"}, format="json")
    assert edited.status_code == 200
    assert edited.json()["text"] == "Very nice" and edited.json()["edited"] is not None
    assert client_for(bob).delete(one).status_code == 204
    assert read(None, work) == [] and not Comment.objects.exists()
    assert client_for(bob).delete(one).status_code == 404


def test_the_works_owner_hides_a_comment_which_only_they_and_its_author_then_see(alice, bob, carol, work):
    made = say(bob, work, "Spam spam spam").json()
    hidden = url(work, f"{made['id']}/hidden/")
    refused = client_for(carol).put(hidden)
    assert refused.status_code == 403
    assert refused.json() == {"error": "Only the work's owner can hide comments on it."}
    assert client_for(bob).put(hidden).status_code == 403  # nor its author

    answer = client_for(alice).put(hidden)
    assert answer.status_code == 200 and answer.json()["hidden"] is True
    assert read(None, work) == [] and read(carol, work) == []
    assert [(c["id"], c["hidden"]) for c in read(alice, work)] == [(made["id"], True)]
    assert [(c["id"], c["hidden"]) for c in read(bob, work)] == [(made["id"], True)]
    # Hidden from Carol, it is not there for her at all (no way to act on it or learn of it).
    assert client_for(carol).post(url(work, f"{made['id']}/report/"), {"reason": "x"},
                                  format="json").status_code == 404

    assert client_for(alice).delete(hidden).json()["hidden"] is False
    assert [c["id"] for c in read(carol, work)] == [made["id"]]


def test_staff_remove_a_comment_for_everyone(alice, bob, carol, dora, work):
    made = say(bob, work, "Buy cheap pills").json()
    client_for(carol).post(url(work, f"{made['id']}/report/"), {"reason": "spam"}, format="json")
    assert client_for(dora).delete(url(work, f"{made['id']}/")).status_code == 204
    for someone in (None, alice, bob, carol, dora):
        assert read(someone, work) == []
    kept = Comment.objects.get(public_id=made["id"])  # kept, for the reports on it
    assert kept.staff_removed_at is not None and kept.staff_removed_by == dora
    assert CommentReport.objects.get().resolved_by == dora


# -- reports ----------------------------------------------------------------------------


def test_a_report_and_its_reason_are_listed_for_staff_in_the_admin(alice, bob, carol, dora, work):
    made = say(bob, work, "You all have no taste").json()
    report = url(work, f"{made['id']}/report/")
    own = client_for(bob).post(report, {"reason": "testing"}, format="json")
    assert own.status_code == 400
    assert own.json()["error"] == "This is your own comment: edit or delete it instead."
    assert client_for(carol).post(report, {"reason": ""}, format="json").status_code == 400
    for reason in ("rude", "Rude to everyone <b>here</b>"):  # a second report changes the reason
        assert client_for(carol).post(report, {"reason": reason}, format="json").status_code == 204
    found = CommentReport.objects.get()
    assert (found.reporter, found.reason, found.comment.public_id) == (carol, "Rude to everyone <b>here</b>", made["id"])

    staff = Client()
    staff.force_login(dora)  # staff, without any model permission: moderating is staff's
    page = staff.get("/admin/gallery/commentreport/")
    assert page.status_code == 200
    html = page.content.decode()
    for shown in ("Rude to everyone &lt;b&gt;here&lt;/b&gt;", "You all have no taste", "Tide",
                  f"/w/{work.public_id}/", "carol", "bob"):
        assert shown in html
    assert "<b>here</b>" not in html

    # The admin's action removes the reported comment and deals with the report.
    done = staff.post("/admin/gallery/commentreport/", {
        "action": "remove_comments", "_selected_action": [found.pk]})
    assert done.status_code == 302
    assert Comment.objects.get().staff_removed_at is not None
    assert CommentReport.objects.get().resolved_at is not None
    assert read(alice, work) == []

    breeder = Client()
    breeder.force_login(carol)
    assert breeder.get("/admin/gallery/commentreport/").status_code == 302  # to the admin's login


# -- floods -----------------------------------------------------------------------------


def test_one_account_writes_at_most_so_many_comments_an_hour(settings, bob, carol, work):
    settings.COMMENTS_PER_HOUR = 3
    made = [say(bob, work, f"flood {i}", address=f"203.0.113.{i + 1}") for i in range(3)]
    assert [r.status_code for r in made] == [201] * 3
    refused = say(bob, work, "flood 4", address="203.0.113.9")  # a new address does not help
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"].startswith("You have written 3 comments this hour, as many as one account may. Try again in ")
    assert body["retry_after"] > 0 and refused["Retry-After"] == str(body["retry_after"])
    # Editing is writing too.
    edit = client_for(bob).patch(url(work, f"{made[0].json()['id']}/"), {"text": "changed"}, format="json")
    assert edit.status_code == 429
    assert say(carol, work, "I may").status_code == 201
    assert Comment.objects.filter(author=bob).count() == 3


def test_accounts_behind_one_address_write_at_most_so_many_together(settings, django_user_model, work):
    settings.COMMENTS_PER_HOUR_PER_ADDRESS = 3
    sock = [django_user_model.objects.create_user(f"sock{i}", password="p") for i in range(4)]
    # IPv6: the whole /64 is one address.
    addresses = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"]
    assert [say(sock[i], work, "me too", addresses[i]).status_code for i in range(3)] == [201] * 3
    refused = say(sock[3], work, "me too", "2001:db8:1:2::77")
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("Many comments have come from your address this hour.")
    assert say(sock[3], work, "from elsewhere", "2001:db8:1:3::1").status_code == 201
    # The refusal at the address did not spend the account's own allowance: one written, one left.
    settings.COMMENTS_PER_HOUR = 2
    assert say(sock[3], work, "once more", "198.51.100.1").status_code == 201
    assert say(sock[3], work, "and again", "198.51.100.2").status_code == 429
    assert Comment.objects.count() == 5


def test_an_account_a_moment_old_may_not_comment_nor_report(settings, bob, carol, work):
    settings.COMMENT_MIN_ACCOUNT_AGE_S = 300
    type(carol).objects.filter(pk=carol.pk).update(date_joined=timezone.now() - timedelta(hours=1))
    made = say(carol, work, "old hand").json()
    refused = say(bob, work, "fresh account")
    assert refused.status_code == 403
    assert re.fullmatch(r"New accounts may comment a few minutes after they are made\. "
                        r"Try again in (\d+ seconds|5 minutes)\.", refused.json()["error"])
    report = client_for(bob).post(url(work, f"{made['id']}/report/"), {"reason": "x"}, format="json")
    assert report.status_code == 403
    page = Client()
    page.force_login(bob)
    html = page.get(f"/w/{work.public_id}/").content.decode()
    assert "New accounts may comment a few minutes after they are made." in html
    assert "data-comment-form" not in html

    type(bob).objects.filter(pk=bob.pk).update(date_joined=timezone.now() - timedelta(minutes=6))
    assert say(bob, work, "now I may").status_code == 201


# -- HTML, script and other text --------------------------------------------------------

ATTACK = ('<script>alert(1)</script><img src=x onerror="alert(2)"> '
          'see https://example.org/a?b=1&c=2 and javascript:alert(3) '
          '"><svg onload=alert(4)> http://evil.example/"onmouseover="alert(5)')


def test_html_and_script_are_kept_as_text_and_shown_escaped_with_safe_links(bob, work):
    made = say(bob, work, ATTACK).json()
    assert made["text"] == ATTACK == Comment.objects.get().text
    html = made["html"]
    assert re.findall(r"<[^>]*>", html) == [
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener noreferrer" target="_blank">',
        "</a>",
        '<a href="http://evil.example/" rel="nofollow ugc noopener noreferrer" target="_blank">',
        "</a>",
    ]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:alert(3)" in html and 'href="javascript' not in html

    page = Client().get(f"/w/{work.public_id}/").content.decode()
    assert html in page
    for raw in ("<script>alert", "<img src=x", "<svg onload", 'onmouseover="alert'):
        assert raw not in page


def test_only_web_addresses_become_links():
    assert as_html("mail me@example.org or see example.com") == "mail me@example.org or see example.com"
    assert as_html("(see https://a.org/x). Done.") == (
        '(see <a href="https://a.org/x" rel="nofollow ugc noopener noreferrer" target="_blank">'
        "https://a.org/x</a>). Done.")  # the full stop stays (Django 5.2.19 dropped it)
    long = as_html("https://a.org/" + "x" * 200)
    assert long.endswith("…</a>") and "x" * 200 in long  # the address whole, its text shortened


@given(st.text(alphabet=st.sampled_from(list('<>"\'&=/:.() \nahjtpsvwx')) | st.characters(), max_size=200))
def test_no_text_becomes_markup_but_a_link(text):
    html = as_html(text)
    for tag in re.findall(r"<[^>]*>", html):
        assert tag == "</a>" or re.fullmatch(
            r'<a href="(https?://[^"<>]*)" rel="nofollow ugc noopener noreferrer" target="_blank">', tag), tag
    assert "<" not in re.sub(r"<a [^>]*>|</a>", "", html)


@pytest.mark.parametrize("text,error", [
    ("nul\x00byte", None),  # refused before it reaches the database, whichever layer says so
    ("bell\x07", "Write plain text: it holds control characters"),
    ("right\u202eleft", "Write plain text: it holds control characters"),
    ("   \n  ", "text: This field may not be blank."),
    ("x" * 2001, "text: Ensure this field has no more than 2000 characters."),
])
def test_control_characters_empty_and_long_texts_are_refused_with_a_sentence(bob, work, text, error):
    response = say(bob, work, text)
    assert response.status_code == 400
    assert response.json()["fields"]["text"]
    if error:
        assert response.json()["error"].startswith(error)
    assert not Comment.objects.exists()


# -- hidden works -----------------------------------------------------------------------


def hidden_works(alice, space) -> dict:
    works = {}
    for seed, visibility in enumerate((Visibility.PRIVATE, Visibility.UNLISTED, Visibility.DRAFT), start=10):
        works[visibility] = actions.do_random(alice, space, 1, seed=seed)[0]
        actions.do_update(works[visibility], visibility=visibility)
    removed = actions.do_update(actions.do_random(alice, space, 1, seed=20)[0], visibility=Visibility.PUBLIC)
    actions.do_remove(removed)
    works["removed"] = removed
    return works


def test_a_hidden_work_and_an_unknown_one_answer_the_same_404(alice, bob, space):
    works = {**hidden_works(alice, space), "unknown": "zzzzzzzzzz"}
    for name, work in works.items():
        public_id = work if isinstance(work, str) else work.public_id
        sentence = f"There is no public work '{public_id}' to comment on."
        for someone in (None, bob, alice):  # its owner too: comments are for public works
            client = client_for(someone)
            answers = [client.get(url(public_id))]
            if someone is not None:  # (a visitor is told to log in first, whatever the work)
                answers += [client.post(url(public_id), {"text": "hello"}, format="json"),
                            client.patch(url(public_id, "abc/"), {"text": "x"}, format="json"),
                            client.delete(url(public_id, "abc/")),
                            client.put(url(public_id, "abc/hidden/")),
                            client.post(url(public_id, "abc/report/"), {"reason": "x"}, format="json")]
            for answer in answers:
                assert (answer.status_code, answer.json()) == (404, {"error": sentence}), (name, someone)
    assert not Comment.objects.exists()


def test_comments_vanish_with_the_works_visibility_and_come_back(alice, bob, carol, dora, work):
    made = say(bob, work, "Remember me").json()
    one = url(work, f"{made['id']}/")
    page = f"/w/{work.public_id}/"
    owner = Client()
    owner.force_login(alice)
    hide = [lambda: actions.do_update(work, visibility=Visibility.PRIVATE),
            lambda: actions.do_update(work, visibility=Visibility.UNLISTED),
            lambda: actions.do_remove(work)]
    show = [lambda: actions.do_update(work, visibility=Visibility.PUBLIC)] * 2 + [lambda: actions.do_restore(work)]
    for hiding, showing in zip(hide, show, strict=True):
        hiding()
        gone = {"error": f"There is no public work '{work.public_id}' to comment on."}
        for someone in (None, alice, bob, carol, dora):
            client = client_for(someone)
            answers = [client.get(url(work))]
            if someone is not None:  # no comment can be reached, by its author neither
                answers += [client.patch(one, {"text": "x"}, format="json"), client.delete(one),
                            client.post(one + "report/", {"reason": "x"}, format="json")]
            # the very answer a work that never was gets: the comment tells nothing
            assert [(a.status_code, a.json()) for a in answers] == [(404, gone)] * len(answers)
        if not work.is_removed:
            assert "Remember me" not in owner.get(page).content.decode()
        showing()
        assert [c["id"] for c in read(carol, work)] == [made["id"]]
        assert "Remember me" in Client().get(page).content.decode()


def test_a_comment_is_reached_only_through_its_own_work(alice, bob, space, work):
    other = actions.do_update(actions.do_random(alice, space, 1, seed=2)[0], visibility=Visibility.PUBLIC)
    made = say(bob, work, "here").json()
    for answer in (client_for(bob).patch(url(other, f"{made['id']}/"), {"text": "x"}, format="json"),
                   client_for(alice).put(url(other, f"{made['id']}/hidden/")),
                   client_for(bob).delete(url(other, f"{made['id']}/"))):
        assert answer.status_code == 404
        assert answer.json() == {"error": f"There is no comment '{made['id']}' on this work."}
    assert Comment.objects.get().text == "here"


# -- the work page ----------------------------------------------------------------------


def test_the_work_page_shows_hidden_comments_greyed_to_the_owner_alone(alice, bob, carol, work):
    kept = say(carol, work, "Kept for all").json()
    hidden = say(bob, work, "Hide me").json()
    client_for(alice).put(url(work, f"{hidden['id']}/hidden/"))
    page = f"/w/{work.public_id}/"

    visitor = Client().get(page).content.decode()
    assert "Kept for all" in visitor and "Hide me" not in visitor
    assert "Log in to comment" in visitor and f'data-comment="{kept["id"]}"' in visitor

    owner = Client()
    owner.force_login(alice)
    html = owner.get(page).content.decode()
    item = re.search(rf'<li class="comment is-hidden" id="comment-{hidden["id"]}".*?</li>', html, re.S)
    assert item and "Hide me" in item.group(0)
    assert 'data-comment-hide aria-pressed="true">Show<' in item.group(0)
    author = Client()
    author.force_login(bob)
    assert "Hide me" in author.get(page).content.decode()


def test_a_page_of_comments_at_a_time_and_a_cursor_made_by_hand_is_a_404(bob, work):
    for i in range(3):
        say(bob, work, f"number {i}")
    first = client_for(None).get(url(work) + "?limit=2").json()
    assert [c["text"] for c in first["results"]] == ["number 0", "number 1"]
    second = client_for(None).get(first["next"]).json()
    assert [c["text"] for c in second["results"]] == ["number 2"]
    made_up = client_for(None).get(url(work) + "?cursor=cD1uYW4%3D")  # p=nan
    assert made_up.status_code == 404 and "cursor" in made_up.json()["error"]
