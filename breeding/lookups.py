"""What the breeding API's views look up for a request: the work the requester may see or
change, whether it can be bred from, a space ready to breed in, the genes asked for; or the
API error that says why not."""

from __future__ import annotations

from contextlib import contextmanager

from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError

from breeding import actions, spaces
from breeding.models import Creation, Gene, Space


class SpaceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "space_unavailable"


def usable(space: Space) -> Space:
    """``space``, if it can be bred in now; otherwise a 503 that says why."""
    found = spaces.availability(space)
    if not found.available:
        raise SpaceUnavailable(_("The %(space)s space is unavailable. %(reason)s")
                               % {"space": spaces.title_of(space), "reason": found.reason})
    return space


def visible_creation(request, public_id: str, queryset=None) -> Creation:
    """The creation if the requester may see it, else 404. Breeding endpoints need only the
    row; pass ``creation_queryset()`` where its parents are shown."""
    queryset = queryset if queryset is not None else Creation.objects.select_related("space", "owner")
    creation = queryset.visible_to(request.user).filter(public_id=public_id).first()
    if creation is None:
        raise NotFound(_("No creation with id %(id)s.") % {"id": repr(public_id)})
    return creation


def breedable(creation: Creation, field: str | None = None) -> Creation:
    """The creation, if it can be bred from (not a video), else a 400 with the reason."""
    try:
        actions.check_breedable(creation)
    except actions.NotBreedable as refused:
        raise ValidationError({field: [str(refused)]} if field else [str(refused)]) from None
    return creation


@contextmanager
def refused_as_400(field: str | None = None):
    """An action refused for a reason people can act on: a 400 with its sentence."""
    try:
        yield
    except (actions.NotBreedable, actions.NotShareable, actions.NotRestorable) as refused:
        raise ValidationError({field: [str(refused)]} if field else [str(refused)]) from None


def owned_creation(request, public_id: str) -> Creation:
    creation = visible_creation(request, public_id)
    if creation.owner_id != request.user.pk:
        raise PermissionDenied(_("Only the owner can change this creation."))
    return creation


def checked_genes(space: Space, amounts: dict[str, float]) -> dict[str, Gene]:
    genes = {g.slug: g for g in Gene.objects.filter(space=space, slug__in=list(amounts))}
    for slug, amount in amounts.items():
        if slug not in genes:
            raise ValidationError({"genes": [_("unknown gene %(gene)s in space %(space)s.")
                                             % {"gene": repr(slug), "space": space.slug}]})
        gene = genes[slug]
        # The slider's range: where a gene was checked to do what its name says.
        if not gene.low <= amount <= gene.high:
            raise ValidationError({"genes": [
                _("%(gene)s must be between %(low)s and %(high)s, got %(amount)s.")
                % {"gene": slug, "low": f"{gene.low:g}", "high": f"{gene.high:g}",
                   "amount": f"{amount:g}"}
            ]})
    return genes
