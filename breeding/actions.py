"""Everything that creates or changes creations goes through here.

``do_*`` functions write, in one transaction, and start the new pictures rendering once it
commits; callers validate first (serializers) and pass model instances.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import torch
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from procrastinate.contrib.django import app

from breeding import budget, genetics, images, looks, spaces, words
from breeding.jobs import DECODING, busy, release_connection
from breeding.models import (
    Creation,
    Gene,
    Medium,
    Origin,
    Parentage,
    SeedKey,
    Space,
    Upload,
    Visibility,
    latent_sha,
    opens_to_anyone,
)
from breeding.signals import listing_changed, works_made
from breeding.uploads import UploadRefused, check_files, decode, read_limited
from common.errors import Refused

PREVIEW_TTL_S = 15 * 60


class NotBreedable(ValueError):
    """A work that cannot be bred from; the message is for people."""


class NotShareable(ValueError):
    """A work that cannot be shared as it is; the message is for people."""


class NotRestorable(ValueError):
    """A removed work that cannot come back; the message is for people."""


#: Origins whose latent is made from other works': one of these equal to someone else's work
#: is a copy of that work, not a new one.
DERIVED = (Origin.CHILDREN, Origin.CROSS, Origin.EDIT)


def copied_work(space_id: int, shas: Sequence[str], owner_id: int, before=None) -> Creation | None:
    """The first work of someone other than ``owner_id`` whose latent is one of ``shas``
    (made before ``before``, when given), whoever may see it now: a work that is public
    today may be made private tomorrow, and a copy of it must not keep its picture served.
    Not a visibility question, so not ``visible_to``: it asks whose picture this is."""
    found = Creation.objects.filter(space_id=space_id, latent_sha__in=list(shas)).exclude(owner_id=owner_id)
    if before is not None:
        found = found.filter(created__lt=before)
    return found.order_by("created", "id").first()


def check_breedable(creation: Creation) -> None:
    """A video carries its first keyframe's latent only to find its place in the space: it
    is not a picture, and breeding from it would hand anyone who can see the video the
    latent of a keyframe they may not see."""
    if creation.origin == Origin.VIDEO:
        raise NotBreedable(_("A video cannot be bred from. Open one of its keyframes instead."))
    if creation.origin == Origin.MEDIA:
        raise NotBreedable(_("A published work has no place in a space, so it cannot be bred "
                             "from."))


def latent_of(creation: Creation) -> torch.Tensor:
    """The latent to breed from (``check_breedable`` first)."""
    check_breedable(creation)
    return creation.tensor()


def new_seed() -> int:
    return secrets.randbits(31)


def stream(owner, seed: int) -> int:
    """The random stream of ``owner``'s ``seed``: an HMAC of the seed under the breeder's
    own secret (``SeedKey``), so that a public seed reproduces its breeder's results and
    nobody else's. The recorded seed stays the one the breeder chose or was given."""
    key = getattr(owner, "_seed_key", None)
    if key is None:
        key = SeedKey.objects.get_or_create(user_id=owner.pk)[0].key
        owner._seed_key = key
    digest = hmac.new(bytes.fromhex(key), int(seed).to_bytes(8, "big"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # 63 bits: any torch seed


def sync_spaces() -> list[Space]:
    """Create or update a Space row for every space in the inference registry."""
    from inference import get_space, space_slugs

    rows = []
    for slug in space_slugs():
        space = get_space(slug)
        # Coarse, middle and fine rows (StyleGAN spaces): crosses can weigh each.
        groups = getattr(space, "groups", None)
        row, _ = Space.objects.update_or_create(
            slug=slug,
            defaults={
                "kind": type(space).__name__,
                "version": space.version,
                "layers": space.layers,
                "dim": space.dim,
                "coarse_layers": space.coarse_layers,
                "gaussian": space.prior == "gaussian",
                "settings": {"groups": {name: list(rows) for name, rows in groups.items()}} if groups else {},
            },
        )
        rows.append(row)
    return rows


def _create(owner, space: Space, latents: torch.Tensor, origin: str, seed: int | None,
            parents: Sequence[tuple[Creation, float, float]] = (), genes: dict | None = None,
            title: str = "", visibility: str = Visibility.DRAFT, copy: bool = False,
            phrase: str = "") -> list[Creation]:
    depth = 1 + max((p.depth for p, _, _ in parents), default=-1)
    shas = [latent_sha(space.slug, space.version, latent) for latent in latents]
    # Children at chaos 0, an edit that moves no gene, a cross with all the weight on one
    # parent: the same latent as someone else's work, whose picture would then be served
    # through this one after its owner hid it. Asked for a change, that is no change.
    if origin in DERIVED and not copy and copied_work(space.pk, shas, owner.pk) is not None:
        raise NotBreedable(_("That would be an exact copy of someone else's work, not a new one: "
                             "raise the chaos, move a gene, or give another parent some weight."))
    # Start rendering now, before the rows are even written: pictures are a cache keyed by
    # content, served only once a visible creation points at them, so a rolled-back
    # transaction costs a wasted render and nothing else. They are rendered in the owner's
    # turn, and what they measure to cost is settled on the owner's render budget.
    who = budget.payer(owner.pk, None)
    for sha, latent in zip(shas, latents, strict=True):
        for size in images.EAGER_SIZES:
            images.request(space.slug, sha, latent, size, who=who,
                           on_cost=budget.settler(owner.pk, None, budget.picture(size, space.slug)))
    now = timezone.now()
    with transaction.atomic():
        works = [
            Creation(
                created=now,
                owner=owner,
                space=space,
                latent=latent.flatten().tolist(),
                latent_sha=sha,
                version=space.version,
                origin=origin,
                medium=Medium.VIDEO if origin == Origin.VIDEO else Medium.PICTURE,
                seed=seed,
                genes=genes or {},
                depth=depth,
                title=title,
                phrase=phrase,
                visibility=visibility,
                kept_at=None if visibility == Visibility.DRAFT else now,
            )
            for sha, latent in zip(shas, latents, strict=True)
        ]
        works_made.send(sender=Creation, works=works, parents=[p for p, _, _ in parents])
        made = Creation.objects.bulk_create(works)
        links = [
            Parentage(child=creation, parent=parent, content_weight=cw, style_weight=sw, position=i)
            for creation in made
            for i, (parent, cw, sw) in enumerate(parents)
        ]
        Parentage.objects.bulk_create(links)
        if visibility != Visibility.DRAFT:
            looks.wanted_after_commit(made)
    for creation in made:  # what the API answers with, without reading it back
        creation.prefetched_parent_links = [link for link in links if link.child is creation]
    return made


def do_random(owner, space: Space, n: int, seed: int | None = None) -> list[Creation]:
    seed = new_seed() if seed is None else seed
    latents = space.generator().sample(n, stream(owner, seed))
    return _create(owner, space, latents, Origin.RANDOM, seed)


def do_words(owner, space: Space, phrase: str, n: int, seed: int | None = None):
    """``n`` works that carry the words of ``phrase`` (``breeding.words``), made and stored
    like random ones, the phrase kept as their origin: (works, what was made of the phrase).
    Refuses a phrase the space cannot read (``common.errors.Refused``)."""
    reading = words.understand(space, phrase)
    seed = new_seed() if seed is None else seed
    latents = words.phrase_latents(space, reading, n, stream(owner, seed))
    return _create(owner, space, latents, Origin.WORDS, seed, phrase=reading.phrase), reading


def do_copy(owner, source: Creation) -> Creation:
    """The breeder's own copy of a work they may see, to breed from ("breed from this"):
    the same latent, a draft. It cannot be shared until it is changed (``do_update``)."""
    return _create(owner, source.space, latent_of(source)[None], Origin.CHILDREN, None,
                   [(source, 1.0, 1.0)], copy=True)[0]


def do_children(owner, parent: Creation, n: int, chaos: float, seed: int | None = None) -> list[Creation]:
    seed = new_seed() if seed is None else seed
    generator = parent.space.generator()
    latents = genetics.children(latent_of(parent), n, chaos, stream(owner, seed),
                                generator.stats.std)
    return _create(owner, parent.space, latents, Origin.CHILDREN, seed, [(parent, 1.0, 1.0)])


@dataclass
class ParentWeight:
    creation: Creation
    content: float
    style: float
    middle: float | None = None  # three-group spaces only (StyleGAN): the middle layers


def do_cross(owner, parents: Sequence[ParentWeight], n: int = 1, mutation: float = 0.0,
             seed: int | None = None) -> list[Creation]:
    seed = new_seed() if seed is None else seed
    space = parents[0].creation.space
    generator = space.generator()
    base = stream(owner, seed)
    if parents[0].middle is not None:  # coarse, middle and fine groups (space.settings)
        groups = {name: tuple(rows) for name, rows in space.settings["groups"].items()}
        weights = {"coarse": [p.content for p in parents], "middle": [p.middle for p in parents],
                   "fine": [p.style for p in parents]}
        mixed = genetics.mix_groups([latent_of(p.creation) for p in parents], weights, groups,
                                    gaussian=space.gaussian)
        latents = torch.stack([
            genetics.children(mixed, 1, mutation, base + i, generator.stats.std)[0] if mutation else mixed
            for i in range(n)
        ])
        links = [(p.creation, p.content, p.style) for p in parents]
        return _create(owner, space, latents, Origin.CROSS, seed, links)
    latents = torch.stack([
        genetics.cross(
            [latent_of(p.creation) for p in parents],
            [p.content for p in parents],
            [p.style for p in parents],
            base + i,
            mutation,
            coarse_layers=space.coarse_layers,
            std=generator.stats.std,
            gaussian=space.gaussian,
        )
        for i in range(n)
    ])
    links = [(p.creation, p.content, p.style) for p in parents]
    return _create(owner, space, latents, Origin.CROSS, seed, links)


def edited_latent(source: Creation, amounts: dict[str, float], genes: dict[str, Gene]) -> torch.Tensor:
    return genetics.edit(latent_of(source), [(genes[slug].tensor(), a) for slug, a in amounts.items()])


def do_edit(owner, source: Creation, amounts: dict[str, float], genes: dict[str, Gene]) -> Creation:
    latent = edited_latent(source, amounts, genes)
    merged = {**source.genes, **amounts} if source.origin == Origin.EDIT else dict(amounts)
    return _create(owner, source.space, latent[None], Origin.EDIT, None, [(source, 1.0, 1.0)],
                   genes=merged)[0]


def preview(user, source: Creation, amounts: dict[str, float], genes: dict[str, Gene], size: int) -> str:
    """Start rendering an edit that is not saved; returns its picture's URL.

    The latent is kept in the cache for a while, for this user only: the image view finds
    it there (``preview_latent``).
    """
    latent = edited_latent(source, amounts, genes)
    sha = latent_sha(source.space.slug, source.space.version, latent)
    cache.set(f"preview:{source.space.slug}:{sha}", (user.pk, latent.flatten().tolist()), PREVIEW_TTL_S)
    images.request(source.space.slug, sha, latent, size, who=budget.payer(user.pk, None),
                   on_cost=budget.settler(user.pk, None, budget.picture(size, source.space.slug)))
    return images.url(source.space.slug, sha, size)


def preview_latent(space: Space, sha: str, user_id: int) -> torch.Tensor | None:
    """The latent of a preview made by this user (see ``preview``), or None."""
    entry = cache.get(f"preview:{space.slug}:{sha}")
    if entry is None or entry[0] != user_id:
        return None
    return torch.tensor(entry[1], dtype=torch.float32).view(space.layers, space.dim)


def _announce(creation: Creation, was: tuple[bool, bool]) -> None:
    """Tell the apps above when what a visitor may open or find of ``creation`` changed
    (``was``: could they, before)."""
    now = (creation.visible_to(None), creation.listed_for(None))
    if now != was:
        listing_changed.send(sender=Creation, creation=creation,
                             visible=now[0] != was[0], listed=now[1] != was[1])


def _for_visitors(creation: Creation) -> tuple[bool, bool]:
    return creation.visible_to(None), creation.listed_for(None)


def do_update(creation: Creation, *, title: str | None = None, visibility: str | None = None) -> Creation:
    """Retitle a work or change who may see it; NotShareable for a copy of someone else's
    work (``do_copy``) that is to be shared unchanged."""
    was = _for_visitors(creation)
    fields = []
    if (visibility is not None and opens_to_anyone(visibility)
            and not opens_to_anyone(creation.visibility) and creation.origin in DERIVED
            and copied_work(creation.space_id, [creation.latent_sha], creation.owner_id,
                            before=creation.created) is not None):
        raise NotShareable(_("This is an exact copy of someone else's work. Change it first "
                             "(breed it, cross it or move a gene), then share what you made."))
    if title is not None:
        creation.title = title
        fields.append("title")
    if visibility is not None and visibility != creation.visibility:
        if creation.is_draft:
            creation.kept_at = timezone.now()
            fields.append("kept_at")
        creation.visibility = visibility
        fields.append("visibility")
    if fields:
        creation.save(update_fields=fields)
        if "kept_at" in fields:
            looks.wanted_after_commit([creation])
    _announce(creation, was)
    return creation


def do_remove(creation: Creation) -> None:
    """Remove a creation from view; its children and their lineage stay intact."""
    was, now = _for_visitors(creation), timezone.now()
    if Creation.objects.filter(pk=creation.pk).alive().update(removed_at=now):
        creation.removed_at = now
        if creation.is_media:
            from breeding import media

            transaction.on_commit(lambda: media.removed(creation))
        _announce(creation, was)


def do_restore(creation: Creation) -> None:
    """Undo a removal (until the draft clean-up job has deleted it for good); a published
    work's files went with its removal, so it cannot come back (``NotRestorable``)."""
    if creation.is_media:
        raise NotRestorable(_("A published work's files are deleted when it is removed: "
                              "publish the file again."))
    if Creation.objects.filter(pk=creation.pk).removed().update(removed_at=None):
        was = _for_visitors(creation)
        creation.removed_at = None
        _announce(creation, was)


def purge_drafts(older_than: timedelta | None = None) -> int:
    """Delete drafts nobody kept; links from their children stay, pointing nowhere."""
    older_than = older_than or timedelta(hours=settings.DRAFT_TTL_HOURS)
    cutoff = timezone.now() - older_than
    deleted, _ = Creation.objects.drafts().filter(created__lt=cutoff).delete()
    return deleted


# -- uploads --------------------------------------------------------------------------


def do_upload(owner, space: Space, decoded, title: str = "", thumb: bytes | None = None) -> Upload:
    """Keep an uploaded picture (decoded and re-encoded by ``breeding.uploads.decode``) and
    queue its projection, in one transaction: the job exists if and only if the row does
    (``Upload.start``: refused past the owner's waiting allowance)."""
    from django.core.files.base import ContentFile

    thumb = thumb_of(decoded.image) if thumb is None else thumb
    # The task by name: the job module imports this one, never the other way round.
    task = app.configure_task("breeding.tasks.project_upload", allow_unknown=False)
    return Upload.start(
        owner, lambda upload: task.defer(upload_id=upload.pk),
        files={"original": (f"original{decoded.extension}", ContentFile(decoded.original)),
               "thumb": ("thumb.webp", ContentFile(thumb))},
        space=space, sha256=decoded.sha256, width=decoded.width, height=decoded.height,
        source_format=decoded.source_format, title=title)


def receive(user, files: list, space_slug: str, title: str = "") -> Upload:
    """Check, decode and keep one uploaded picture, and queue its projection; or ``Refused``.

    The cheap checks come first (which space, how many files, their size), then the
    breeder's allowance (``Upload.admit``: a place held while the picture is read), then the
    decoding (``breeding.uploads``), with no database connection held and at most
    ``UPLOAD_DECODES`` at once; only a picture that decodes counts against the allowance.
    """
    space = Space.objects.filter(slug=space_slug).first()
    if space is None:
        raise Refused(_("There is no space %(slug)s.") % {"slug": repr(space_slug[:40])},
                      field="space")
    state = spaces.availability(space)
    if not state.available:
        raise Refused(_("The %(space)s space is unavailable. %(reason)s")
                      % {"space": space.slug, "reason": state.reason}, 503, field="space")
    if not spaces.can_project(space, state):
        raise Refused(_("The %(space)s space cannot take uploads.") % {"space": space.slug},
                      field="space")
    try:
        file = check_files(files)
    except UploadRefused as refused:
        raise Refused(refused.message, 413 if refused.code == "too-large" else 400,
                      field="file") from None
    with Upload.admit(user):  # a refusal from here on does not count against it
        data = read_limited(file)
        release_connection()
        try:
            with DECODING.slot(settings.UPLOAD_DECODE_WAIT_S, busy):
                decoded = decode(data, file.name, file.content_type)
                thumb = thumb_of(decoded.image)
        except UploadRefused as refused:
            raise Refused(refused.message, 413 if refused.code == "too-large" else 400,
                          field="file") from None
        return do_upload(user, space, decoded, title, thumb=thumb)


def thumb_of(picture) -> bytes:
    """A WebP of a picture within ``THUMB_SIDE`` px, for pages."""
    import io

    from PIL import Image

    from breeding.models import THUMB_SIDE

    small = picture.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, "WEBP", quality=88, method=4)
    return buffer.getvalue()


def create_from_upload(upload: Upload, latent: torch.Tensor) -> list[Creation]:
    """The work projected from an upload: its owner's, private (it was worth bringing in),
    titled as the upload was. Call inside the transaction that marks the upload done."""
    return _create(upload.owner, upload.space, latent[None], Origin.UPLOAD, None,
                   title=upload.title, visibility=Visibility.PRIVATE)


def create_from_video(video, keyframes: Sequence[Creation]) -> list[Creation]:
    """The work a rendered video becomes: its owner's, private until they share it, a child
    of its keyframes (each once, in order of first appearance). It carries the first
    keyframe's latent so it has a place in the space (``latent_of`` refuses to breed from
    it). Call inside the transaction that marks the video done."""
    parents = list({k.pk: (k, 1.0, 1.0) for k in keyframes}.values())
    return _create(video.owner, video.space, latent_of(keyframes[0])[None], Origin.VIDEO, None,
                   parents, title=video.title, visibility=Visibility.PRIVATE)
