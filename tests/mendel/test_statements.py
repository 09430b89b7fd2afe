"""common.statements: a queryset compiled once, run with new values."""

import pytest

from breeding import actions
from breeding.models import Creation, Visibility
from common.statements import NotAStatement, Statement

pytestmark = pytest.mark.django_db


def _listed(owner_id: int, below: int):
    return (Creation.objects.listed_for(owner_id).filter(pk__lt=below)
            .order_by("-id").values_list("public_id", "owner_id"))


LISTED = Statement(_listed)


@pytest.fixture
def works(django_user_model, monkeypatch):
    from breeding import images

    monkeypatch.setattr(images, "request", lambda *args, **kwargs: None)  # pictures unused
    space = actions.sync_spaces()[0]
    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    made = {}
    for user in (alice, bob):
        public, private = actions.do_random(user, space, 2, seed=user.pk)
        actions.do_update(public, visibility=Visibility.PUBLIC)
        made[user.username] = (public, private)
    return alice, bob, made


def test_a_statement_answers_as_its_queryset_does_for_every_value(works):
    alice, bob, made = works
    for user in (alice, bob):
        for below in (2**63 - 1, made["bob"][0].pk):
            assert LISTED.rows(user.pk, below) == list(_listed(user.pk, below))
    # Each reader gets their own private work and the other's public one only.
    assert {row[0] for row in LISTED.rows(alice.pk, 2**63 - 1)} == {
        made["alice"][0].public_id, made["alice"][1].public_id, made["bob"][0].public_id}


def test_it_is_built_and_compiled_once(works):
    alice, bob, _made = works
    built = []

    def build(owner_id: int, below: int):
        built.append(owner_id)
        return _listed(owner_id, below)

    statement = Statement(build)
    for user in (alice, bob, alice):
        assert statement.rows(user.pk, 2**63 - 1) == list(_listed(user.pk, 2**63 - 1))
    assert len(built) == 2 and alice.pk not in built and bob.pk not in built  # the two probes


def test_a_query_whose_sql_changes_with_its_values_is_refused(works):
    alice, _bob, _made = works
    sliced = Statement(lambda owner_id, size: _listed(owner_id, 2**63 - 1)[:abs(size)])
    with pytest.raises(NotAStatement, match="its SQL changes with its values"):
        sliced.rows(alice.pk, 3)
    named = Statement(lambda owner_id: Creation.objects.filter(title=f"Work {owner_id}").values_list("pk"))
    with pytest.raises(NotAStatement, match="a parameter follows no value"):
        named.rows(alice.pk)
    with pytest.raises(TypeError):
        LISTED.rows(float(alice.pk), 1)


def test_texts_are_values_too(works):
    alice, bob, made = works
    by_sha = Statement(lambda owner_id, sha: Creation.objects.filter(owner_id=owner_id, latent_sha=sha)
                       .values_list("public_id"))
    for work in (work for pair in made.values() for work in pair):
        assert by_sha.rows(work.owner_id, work.latent_sha) == [(work.public_id,)]
    alices = made["alice"][0]
    assert by_sha.rows(bob.pk, alices.latent_sha) == by_sha.rows(alice.pk, "~probe-1") == []
