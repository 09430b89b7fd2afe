"""Pages. Reading (home, gallery, work pages, profiles, lineage) works without JavaScript;
the studio and the library's controls call the REST API from ES modules."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch, Sum
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.exceptions import NotFound as ApiNotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request

from breeding import actions, budget, images, languages, looks, media, spaces, words
from breeding.limits import client_address, in_words, take
from breeding.lineage import lineage_tree
from breeding.models import (
    MAX_LINEAGE_DEPTH,
    Creation,
    Gene,
    Licence,
    MediaWork,
    Medium,
    Origin,
    Parentage,
    Space,
    Technique,
    Upload,
    Video,
    Visibility,
)
from breeding.serializers import (
    GeneSerializer,
    SpaceSerializer,
    UploadSerializer,
    creation_queryset,
    family_parents,
    known_parents,
    serialize,
)
from breeding.uploads import MAX_BYTES
from breeding.videos import files_of
from common import names
from common.errors import Refused
from frontend.exhibitions import HOME_EXHIBITIONS, open_exhibitions
from frontend.lineage import layout
from gallery import comments, follows
from gallery.listings import (
    KINDS,
    MADE,
    ORDERS,
    GalleryPage,
    following_works,
    listed_works,
    made,
    near_phrase,
    of_kind,
    public_works,
    with_technique,
    work,
)
from gallery.models import Like
from gallery.neighbours import neighbour_ids

WALL_SIZE = 24
NEIGHBOURS = 12
FILMSTRIP = 30
LINEAGE_DEPTH = 4


# -- reading ---------------------------------------------------------------------------


def home(request):
    works = public_works().order_by("-created", "-id")[:WALL_SIZE]
    return render(request, "frontend/home.html", {"works": [work(w) for w in works],
                                                  "exhibitions": open_exhibitions(HOME_EXHIBITIONS)})


def _page(request, works, ordering, base_context: dict, template: str, as_dict=work):
    """One cursor page of works; with ``?fragment=1`` only its tiles (infinite scroll)."""
    paginator = GalleryPage(ordering)
    try:
        page = paginator.paginate_queryset(works, Request(request))
    except (ApiNotFound, ValueError, DjangoValidationError):  # a cursor that was tampered with
        raise Http404(_("That page of the gallery does not exist.")) from None
    except ApiValidationError:  # a ``limit`` that is not a page size
        raise BadRequest(_("The page size (limit) must be a whole number from 1 to 96.")) from None
    context = {**base_context, "works": [as_dict(c) for c in page], "more": _relative(paginator.get_next_link())}
    if request.GET.get("fragment") == "1":
        return render(request, context.get("tiles", "frontend/_tiles.html"), context)
    return render(request, template, context)


def _relative(link: str | None) -> str | None:
    """A next-page link as a path, without the fragment switch."""
    if not link:
        return None
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "fragment"]
    return f"{parts.path}?{urlencode(query)}"


def gallery(request):
    order = request.GET.get("order", "newest")
    if order not in ORDERS:
        order = "newest"
    if order == "following":
        if not request.user.is_authenticated:  # whom would we show? Log in, then come back
            return redirect_to_login(request.get_full_path())
        works = following_works(request.user)
    else:
        works = public_works()
    space = request.GET.get("space", "")
    if space:
        works = works.filter(space__slug=space)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        works = works.filter(title__icontains=query)
    kind, how, technique = _kind_of(request), _made_of(request), _technique_of(request)
    works = with_technique(made(of_kind(works, kind), how), technique)
    filters = {"order": order, "space": space, "kind": kind, "made": how, "technique": technique,
               "q": query}
    link = _linker(request, filters)
    techniques = _techniques()
    if technique and not any(t["slug"] == technique for t in techniques):
        techniques.append({"slug": technique, "name": technique})  # chosen, so it can be unchosen
    all_spaces = list(words.knowing_words(Space.objects.all()))
    context = {"order": order, "space": space, "q": query, "kind": kind, "made": how,
               "technique": technique, "spaces": all_spaces,
               "kinds": _kind_chips(kind, link),
               "orders": {name: link(order=name) for name in ORDERS},
               "techniques": techniques,
               "any_published": bool(techniques) or how or _any_published(),
               "filtered": bool(space or how or technique), "all_link": request.path}
    if order == "following":
        context["follows_anyone"] = request.user.follows.exists()
    # Search by words: what ``q`` means, where some space knows words (else titles only).
    word_spaces = [s for s in all_spaces if s.has_words]
    by = "words" if word_spaces and request.GET.get("by") == "words" else ""
    context.update(word_spaces=word_spaces, by=by)
    if by and query:
        context.update(_by_words(word_spaces, space, query))
        return render(request, "frontend/gallery.html", context)
    return _page(request, works, ORDERS[order], context, "frontend/gallery.html")


#: Works the gallery shows for a search by words: one page, nearest first.
WORDS_RESULTS = 48


def _by_words(word_spaces: list[Space], space: str, query: str) -> dict:
    """The gallery's search by words: the works nearest the phrase ``query`` in a space that
    knows words (the one chosen, or the only one), what the phrase was read as, or why
    nothing was searched (a sentence). Orders and filters other than the space do not apply."""
    found = {"works": [], "more": None}
    chosen = next((s for s in word_spaces if s.slug == space), None)
    if chosen is None and not space and len(word_spaces) == 1:
        chosen = word_spaces[0]
    if chosen is None:
        listed = ", ".join(spaces.title_of(s) for s in word_spaces)
        found["words_error"] = ngettext(
            "Search by words works in the %(spaces)s space: choose it.",
            "Search by words works in these spaces: %(spaces)s. Choose one.", len(word_spaces)) % {"spaces": listed}
        return found
    found.update(space=chosen.slug, words_space=spaces.title_of(chosen))
    try:
        # The gallery's works: public ones, as its other lists (not the viewer's drafts).
        reading, results = near_phrase(chosen, query, WORDS_RESULTS)
    except Refused as refused:
        found["words_error"] = refused.message
        return found
    found.update(works=results, reading=reading)
    return found


def _kind_of(request) -> str:
    """The ``kind`` a page's list is filtered by ("" for all), as the API reads it; a 400
    that says so for one that is not a kind."""
    kind = request.GET.get("kind", "")
    if kind and kind not in KINDS:
        raise BadRequest(_("%(kind)s is not a kind of work: choose pictures, videos, sounds or "
                           "texts.") % {"kind": repr(kind[:40])})
    return kind


def _made_of(request) -> str:
    how = request.GET.get("made", "")
    if how and how not in MADE:
        raise BadRequest(_("%(made)s is not how a work is made: choose bred or published.")
                         % {"made": repr(how[:40])})
    return how


def _technique_of(request) -> str:
    technique = request.GET.get("technique", "")
    if technique and not TECHNIQUE_SLUG.fullmatch(technique):
        raise BadRequest(_("%(technique)s is not a technique's slug: letters, digits and "
                           "hyphens, at most 48 of them.") % {"technique": repr(technique[:60])})
    return technique


#: A technique's slug as ``breeding.media.techniques_of`` makes it (Unicode letters too).
TECHNIQUE_SLUG = re.compile(r"[-\w]{1,48}")


def _linker(request, filters: dict):
    """``link(**change)``: this list with some of its filters changed and the others kept
    (empty ones left out), from its first page."""
    def link(**change) -> str:
        query = urlencode({k: v for k, v in {**filters, **change}.items() if v})
        return f"?{query}" if query else request.path
    return link


def _kind_chips(chosen: str, link) -> list[dict]:
    """The row of chips that filters a list by kind: All · Pictures · Videos · Sounds · Texts."""
    labels = {"": _("All"), "pictures": _("Pictures"), "videos": _("Videos"),
              "sounds": _("Sounds"), "texts": _("Texts")}
    return [{"kind": kind, "label": label, "href": link(kind=kind), "current": kind == chosen}
            for kind, label in labels.items()]


def _techniques() -> list[dict]:
    """The techniques of the public published works, by name: the gallery's technique filter."""
    return list(Technique.objects.of_public_works().order_by("name").values("slug", "name"))


def _any_published() -> bool:
    """Is any published work public (then the gallery offers "bred" or "published")?"""
    return MediaWork.objects.filter(creation__in=Creation.objects.public().values("pk")).exists()


def profile(request, username):
    try:
        person = follows.person(username)
    except Refused as refused:
        raise Http404(refused.message) from None
    kind = _kind_of(request)
    works = of_kind(public_works().filter(owner=person), kind)
    stats = Creation.objects.public().filter(owner=person).aggregate(
        count=Count("id"), likes=Sum("like_count"))
    stats.update(follows.counts(person, request.user))
    context = {"person": person, "stats": stats, "followed": stats["followed"], "kind": kind,
               "kinds": _kind_chips(kind, _linker(request, {"kind": kind})),
               "mine": request.user.is_authenticated and request.user.pk == person.pk}
    return _page(request, works, ORDERS["newest"], context, "frontend/profile.html")


def _visible(request, public_id: str) -> Creation:
    creation = creation_queryset().visible_to(request.user).filter(public_id=public_id).first()
    if creation is None:
        raise Http404(_("This work does not exist, or is not yours to see."))
    return creation


def _visible_parents(creation: Creation, viewer) -> tuple[list[dict], int]:
    """Parents the viewer may see, and how many of those are removed (``family_parents``:
    others' hidden parents are not even counted)."""
    links = {link.parent.public_id: link for link in creation.parent_links.all() if link.parent}
    shown, removed = [], 0
    for entry in family_parents(creation, viewer, known_parents([creation], viewer)):
        if entry.get("removed"):
            removed += 1
            continue
        link = links[entry["id"]]
        shown.append({**work(link.parent), "content": link.content_weight, "style": link.style_weight})
    return shown, removed


def after(title: str) -> str:
    """The title of a copy made with "Breed from this": it credits the original (in the
    language of the breeder who makes the copy: the title is theirs from then on)."""
    return (_("after %(title)s") % {"title": languages.shown(title)})[:120] if title else ""


def copy_titles(title: str) -> set[str]:
    """Every title ``after`` gives a copy of a work called ``title``, whatever the language
    of whoever made it."""
    titles = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            titles.add(after(title))
    return titles


def _original(creation: Creation, parents: list[dict]) -> dict | None:
    """The work a copy was made from: its one parent, someone else's, whose title the
    copy's own title credits (``after``)."""
    if len(parents) != 1:
        return None
    parent = parents[0]
    kept = next((link.parent.title for link in creation.parent_links.all()
                 if link.parent and link.parent.public_id == parent["id"]), "")
    if parent["owner"] == creation.owner.username or not kept:
        return None
    return parent if creation.title in copy_titles(kept) else None


def _contributors(creation: Creation, viewer) -> list[str]:
    """The authors of a work's ancestors, as far back as the family goes: only ancestors
    listed for the viewer count (``lineage_tree`` leaves the others out, and a removed one
    is a bare node without its author), so a hidden work's author never shows."""
    up = lineage_tree(creation, "up", MAX_LINEAGE_DEPTH, viewer)
    names = {n["owner"] for n in up["nodes"] if n.get("owner") and n["id"] != creation.public_id}
    return sorted(names, key=str.casefold)


def work_page(request, public_id):
    creation = _visible(request, public_id)
    published = _published(creation, request.user) if creation.is_media else None
    parents, hidden_parents = _visible_parents(creation, request.user)
    children = Creation.objects.listed_for(request.user).filter(parent_links__parent=creation).distinct()
    # A published work has no place in a space: no neighbours (nor a latent to find them by).
    ids = [] if creation.is_media else neighbour_ids(creation, NEIGHBOURS)
    found = {c.pk: c for c in public_works().filter(pk__in=ids)}
    liked = request.user.is_authenticated and Like.objects.filter(user=request.user, creation=creation).exists()
    mine = request.user.is_authenticated and creation.owner_id == request.user.pk
    upload = Upload.objects.filter(creation=creation).first() if mine else None
    video = Video.objects.filter(creation=creation).first() if creation.origin == Origin.VIDEO else None
    context = {
        "video": {**files_of(video), "seconds": video.duration_s, **video.settings} if video else None,
        "upload": {"original": f"/uploads/{upload.public_id}/original",
                   "thumb": f"/uploads/{upload.public_id}/thumb"} if upload else None,
        "work": work(creation),
        "creation": creation,
        "mine": mine,
        "parents": parents,
        "hidden_parents": hidden_parents,
        "original": _original(creation, parents),
        "contributors": _contributors(creation, request.user),
        "children": 0 if creation.is_media else children.count(),
        "neighbours": [work(found[i]) for i in ids if i in found],
        "lookalikes": [] if creation.is_media else listed_works(
            request.user, looks.like(creation, request.user, NEIGHBOURS)),
        "liked": liked,
        "media": published,
        "preview": (_published_preview(request, creation, published) if creation.is_media
                    else _link_preview(request, creation, video)),
        "comments": comments.page_comments(creation, request.user),
    }
    return render(request, "frontend/work.html", context)


def _published(creation: Creation, viewer) -> dict | None:
    """What the page of a published work shows besides the work itself (``media.describe``),
    with its techniques' slugs (links to the gallery's filter), the size of its large picture
    (its slot reserved before it arrives) and the words of its kind."""
    job = (MediaWork.objects.filter(creation=creation).select_related("made_with")
           .prefetch_related("techniques").first())
    if job is None:
        return None
    described = media.describe(job, viewer)
    width, height = job.width or 0, job.height or 0
    if job.kind == Medium.SOUND:
        width, height = 1600, 400
    elif job.kind == Medium.TEXT or not (width and height):
        width, height = 1024, 1024
    elif max(width, height) > media.LARGE_SIDE:
        scale = media.LARGE_SIDE / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
    made_with = described["made_with"]
    if made_with is not None:
        made_with = {**made_with, "images": images.of(job.made_with)}
    extension = (described["files"].get("file") or "").rsplit(".", 1)[-1]
    return {**described,
            "techniques": [{"name": t.name, "slug": t.slug} for t in job.techniques.all()],
            "made_with": made_with,
            "large_width": width, "large_height": height,
            "kind_name": Medium(job.kind).label,
            "length": _clock(job.duration_s) if job.duration_s else "",
            "extension": extension}


def _clock(seconds: float) -> str:
    """A length as a player shows it: ``0:42``, ``12:05``, ``1:02:09``."""
    whole = round(seconds)
    hours, minutes, rest = whole // 3600, whole % 3600 // 60, whole % 60
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def _published_preview(request, creation: Creation, published: dict | None) -> dict | None:
    """``_link_preview`` of a published work: its square cover, and its kind in words."""
    if published is None or not creation.visible_to(None):
        return None
    title = languages.shown(creation.title) or _("Untitled")
    description = {
        Medium.PICTURE: _("A picture published in Mendel."),
        Medium.VIDEO: _("A video published in Mendel."),
        Medium.SOUND: _("A sound published in Mendel."),
        Medium.TEXT: _("A text published in Mendel."),
    }[published["kind"]]
    return {
        "title": _("%(title)s by %(owner)s") % {"title": title, "owner": creation.owner.username},
        "description": published["statement"][:200] or description,
        "url": request.build_absolute_uri(f"/w/{creation.public_id}/"),
        "image": request.build_absolute_uri(published["files"]["cover"]),
        "image_size": media.COVER_SIDE,
        "listed": creation.listed_for(None),
    }


def _link_preview(request, creation: Creation, video) -> dict | None:
    """What a link to the work shows where it is pasted (Open Graph and Twitter card tags):
    only for a work anyone may open, so a preview robot (anonymous, like any visitor) is
    never told of a private one; an unlisted one asks not to be indexed."""
    if not creation.visible_to(None):
        return None
    space = creation.space.slug
    picture = video["poster"] if video else images.url(space, creation.latent_sha, 512, "png")
    title = languages.shown(creation.title) or _("Untitled")
    return {
        "title": _("%(title)s by %(owner)s") % {"title": title, "owner": creation.owner.username},
        "description": (_("A video bred in Mendel's %(space)s space.") if video else
                        _("A picture bred in Mendel's %(space)s space.")) % {"space": spaces.name_of(space)},
        "url": request.build_absolute_uri(f"/w/{creation.public_id}/"),
        "image": request.build_absolute_uri(picture),
        "image_size": video["size"] if video else 512,
        "listed": creation.listed_for(None),
    }


def lineage_page(request, public_id):
    """The family tree. Removed works (one's own discarded drafts, mostly) are left out, with
    whatever is reached only through them, unless ``?removed=1`` asks for them: a generation
    then holds as many works as the work page counts."""
    creation = _visible(request, public_id)
    up = lineage_tree(creation, "up", LINEAGE_DEPTH, request.user)
    down = lineage_tree(creation, "down", LINEAGE_DEPTH, request.user)
    wide = request.GET.get("wide") == "1"
    show_removed = request.GET.get("removed") == "1"
    removed = sum(1 for tree in (up, down) for n in tree["nodes"] if n.get("removed"))
    if not show_removed:
        up, down = _without_removed(up), _without_removed(down)
    tree = layout(up, down, wide)

    def link(**change) -> str:
        query = {"wide": "1" if wide else "", "removed": "1" if show_removed else "", **change}
        return "?" + urlencode({k: v for k, v in query.items() if v})

    return render(request, "frontend/lineage.html", {
        "work": work(creation), "creation": creation, "tree": tree, "depth": LINEAGE_DEPTH,
        "wide": wide, "removed": removed, "show_removed": show_removed,
        "wide_link": link(wide="1"), "fold_link": link(wide=""),
        "removed_link": link(removed="" if show_removed else "1"),
    })


def map_page(request, space):
    """The map of a space (map.js draws it from the map API, gallery/map_api.py); the
    gallery's list of the space's works is its alternative for readers without WebGL."""
    found = Space.objects.filter(slug=space).first()
    if found is None:
        raise Http404(_("No space %(slug)s.") % {"slug": repr(space[:40])})
    gallery_link = f"{reverse('frontend:gallery')}?{urlencode({'space': found.slug})}"
    return render(request, "frontend/map.html", {
        "space": found, "api": f"/api/maps/{found.slug}/", "gallery_link": gallery_link,
        "login_link": f"{reverse('frontend:login')}?{urlencode({'next': request.path})}",
    })


def _without_removed(tree: dict) -> dict:
    """A ``lineage_tree`` without its removed nodes, nor what hangs only from them."""
    near, far = ("child", "parent") if tree["direction"] == "up" else ("parent", "child")
    removed = {n["id"] for n in tree["nodes"] if n.get("removed")}
    reached = {tree["root"]}
    grown = True
    while grown:
        grown = False
        for link in tree["links"]:
            if link[near] in reached and link[far] not in reached and link[far] not in removed:
                reached.add(link[far])
                grown = True
    return {**tree, "nodes": [n for n in tree["nodes"] if n["id"] in reached],
            "links": [k for k in tree["links"] if k[near] in reached and k[far] in reached]}


# -- accounts --------------------------------------------------------------------------


class SignupForm(UserCreationForm):
    """Django's sign-up form; the name rules (common.names) sit on the user model's field."""

    class Meta(UserCreationForm.Meta):
        help_texts = {"username": names.RULES}


def _next_page(request) -> str:
    """Where ``next`` asks to go after signing up: a path or a URL of this site, or ""
    (anything else, such as ``-1`` or a bare word, which ``redirect`` would take for the
    name of a view)."""
    follow = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(follow, {request.get_host()}, request.is_secure()):
        return ""  # elsewhere, or not a URL at all
    return follow if follow.startswith("/") or urlsplit(follow).scheme else ""


def signup(request):
    follow = _next_page(request)
    if request.user.is_authenticated:
        return HttpResponseRedirect(follow) if follow else redirect("frontend:studio-start")
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        wait = take(f"signup:{client_address(request)}", 1, settings.SIGNUP_RATE_PER_HOUR, 3600)
        if not wait:
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Mendel, %(name)s. Make your first picture.")
                             % {"name": user.username})
            return HttpResponseRedirect(follow) if follow else redirect("frontend:studio-start")
        form.add_error(None, _("Too many accounts have been made from your address this hour. "
                               "Try again in %(wait)s.") % {"wait": in_words(wait)})
        status = 429
    return render(request, "registration/signup.html", {"form": form, "next": follow}, status=status)


# -- breeding --------------------------------------------------------------------------


def studio_start(request):
    """Where "Start breeding" leads: a visitor without an account is asked to make one (the
    sign-up page links to logging in), then comes back here."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('frontend:signup')}?{urlencode({'next': request.path})}")
    drafts = Creation.objects.filter(owner=request.user).drafts().alive()

    return render(request, "frontend/studio_start.html", {
        "spaces": [{"slug": s.slug, "title": spaces.title_of(s), "state": spaces.availability(s),
                    "has_words": s.has_words}
                   for s in words.knowing_words(Space.objects.all())],
        "recent": [work(c) for c in drafts.select_related("space", "owner")[:12]],
        "max_phrase": words.MAX_PHRASE,
    })


@login_required
def studio(request, public_id):
    creation = _visible(request, public_id)
    if creation.origin in (Origin.VIDEO, Origin.MEDIA):  # not bred: its page shows it
        return redirect("frontend:work", public_id=creation.public_id)
    space = creation.space
    genes = Gene.objects.offered_to(request.user, space)
    drafts = (Creation.objects.filter(owner=request.user, space=space).drafts()
              .alive().exclude(pk=creation.pk).select_related("space", "owner")[:FILMSTRIP])
    state = {
        "creation": serialize(creation, request.user, many=False),
        "mine": creation.owner_id == request.user.pk,
        "space": SpaceSerializer(space).data,
        "genes": GeneSerializer(genes, many=True).data,
        "drafts": [work(c) for c in drafts],
        "user": request.user.username,
    }
    name = slugify(creation.title) or creation.public_id
    downloads = [{"fmt": fmt, "label": {"png": "PNG", "webp": "WebP"}[fmt], "size": size,
                  "filename": f"{name}-{size}.{fmt}",
                  "url": images.url(space.slug, creation.latent_sha, size, fmt)}
                 for fmt in ("png", "webp") for size in (1024, 2048)]
    return render(request, "frontend/studio.html", {"creation": creation, "work": work(creation), "state": state,
                                                    "downloads": downloads, "native": spaces.native_size(space)})


@login_required
def breed_from(request, public_id):
    """Open the studio on the visitor's own copy of a work (a child without mutation)."""
    creation = _visible(request, public_id)
    if request.method != "POST":  # back from the login page, say: show the work again
        return redirect("frontend:work", public_id=creation.public_id)
    try:
        actions.check_breedable(creation)  # a video, a published work
    except actions.NotBreedable as refused:
        messages.error(request, str(refused))
        return redirect("frontend:work", public_id=creation.public_id)
    if creation.owner_id == request.user.pk:
        return redirect("frontend:studio", public_id=creation.public_id)
    wait, message = budget.spend(request.user.pk, client_address(request), budget.creations(1))
    if wait:
        messages.error(request, message)
        return redirect("frontend:work", public_id=creation.public_id)
    copy = actions.do_copy(request.user, creation)
    # Kept (privately) at once: asking for a copy is a choice, and its children will need it.
    actions.do_update(copy, title=after(creation.title), visibility=Visibility.PRIVATE)
    return redirect("frontend:studio", public_id=copy.public_id)


@login_required
def upload_page(request):
    """Bring in a picture: choose or drop a file, then watch it projected (``?id=`` follows
    one upload, after a reload too). Without JavaScript the form posts here."""
    from breeding.spaces import can_project

    error, status = "", 200
    if request.method == "POST":
        files = request.FILES.getlist("file")
        space = request.POST.get("space", "abstract")[:40]
        title = request.POST.get("title", "")[:120]
        try:
            made = actions.receive(request.user, files, space, title)
        except Refused as refused:
            error, status = refused.message, refused.status_code
        else:
            return redirect(f"{request.path}?id={made.public_id}")
    spaces = [{"slug": s.slug, "can_project": can_project(s)} for s in Space.objects.all()]
    following = None
    if upload_id := request.GET.get("id", "")[:16]:
        upload = (Upload.objects.select_related("space", "creation")
                  .filter(owner=request.user, public_id=upload_id).first())
        if upload is None:
            raise Http404(_("No upload of yours by that id."))
        following = UploadSerializer(upload).data
    recent = (Upload.objects.select_related("space", "creation").filter(owner=request.user)
              .exclude(public_id=upload_id)[:12])
    return render(request, "frontend/upload.html", {
        "spaces": spaces,
        "any_projects": any(s["can_project"] for s in spaces),
        "following": following,
        "state": {"upload": following, "max_bytes": MAX_BYTES},
        "recent": UploadSerializer(recent, many=True).data,
        "error": error,
        "chosen_space": request.POST.get("space", "abstract"),
    }, status=status)


#: What the file input of each kind of published work takes (its ``accept``); the server
#: judges the bytes whatever the name says.
PUBLISH_ACCEPT = {
    Medium.PICTURE: "image/jpeg,image/png,image/webp,image/gif",
    Medium.VIDEO: "video/*,.mp4,.m4v,.mov,.webm,.mkv",
    Medium.SOUND: "audio/*,.m4a,.mp3,.ogg,.oga,.opus,.flac,.wav",
}


@login_required
def publish_page(request):
    """Publish a finished picture, video, sound or text made anywhere (``breeding.media``):
    a text or a picture opens as a work at once; a video's or a sound's transcoding is
    followed here (``?id=``, after a reload too). Without JavaScript the form posts here."""
    from breeding.models import Technique
    from breeding.serializers import MediaSerializer

    error, field, status = "", "", 200
    values = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        data = request.POST.copy()
        # the checked techniques and the new ones typed in, one list
        new = [n.strip() for n in re.split(r"[,，、]", request.POST.get("new_techniques", "")) if n.strip()]
        data.setlist("techniques", request.POST.getlist("techniques") + new)
        try:
            job = media.publish(request.user, data, request.FILES)
        except Refused as refused:
            error, field, status = refused.message, refused.field or "", refused.status_code
        else:
            if job.creation_id:
                return redirect("frontend:work", public_id=job.creation.public_id)
            return redirect(f"{request.path}?id={job.public_id}")
    following = None
    if job_id := request.GET.get("id", "")[:16]:
        job = MediaWork.own(request.user, job_id, "creation")
        if job is None:
            raise Http404(_("No published file of yours by that id."))
        following = MediaSerializer(job).data
    made_with = None
    if wanted := values.get("made_with", "").strip()[:16]:
        found = (Creation.objects.visible_to(request.user).filter(public_id=wanted)
                 .exclude(origin=Origin.MEDIA).select_related("space", "owner").first())
        made_with = work(found) if found else None
    mb = lambda size: size // 2**20  # noqa: E731
    limits = {
        Medium.PICTURE: {"bytes": MAX_BYTES, "mb": mb(MAX_BYTES)},
        Medium.VIDEO: {"bytes": media.max_bytes(Medium.VIDEO), "mb": mb(media.max_bytes(Medium.VIDEO)),
                       "seconds": settings.MEDIA_VIDEO_MAX_S, "length": in_words(settings.MEDIA_VIDEO_MAX_S)},
        Medium.SOUND: {"bytes": media.max_bytes(Medium.SOUND), "mb": mb(media.max_bytes(Medium.SOUND)),
                       "seconds": settings.MEDIA_SOUND_MAX_S, "length": in_words(settings.MEDIA_SOUND_MAX_S)},
    }
    kind = values.get("kind", "") if values.get("kind", "") in Medium.values else Medium.PICTURE
    chosen = set(values.getlist("techniques"))
    return render(request, "frontend/publish.html", {
        "kinds": Medium.choices,
        "kind": kind,
        "accept": PUBLISH_ACCEPT,
        "limits": limits,
        "text_max": media.TEXT_MAX,
        "techniques": [{"name": t.name, "slug": t.slug, "checked": t.name in chosen}
                       for t in Technique.objects.offered_to(request.user).order_by("name")[:200]],
        "licences": Licence.choices,
        "values": values,
        "made_with": made_with,
        "following": following,
        "error": error,
        "field": field,
        "state": {"media": following, "limits": limits, "accept": PUBLISH_ACCEPT},
    }, status=status)


LIBRARY_STATES = {
    "all": lambda works: works,
    "drafts": lambda works: works.drafts(),
    "kept": lambda works: works.kept(),
    "public": lambda works: works.with_visibility(Visibility.PUBLIC),
}


#: The session key of the drafts the last bulk discard removed, which "Undo" restores.
DISCARDED = "library:discarded"


@login_required
def library(request):
    if request.method == "POST":
        return _library_post(request)
    state = request.GET.get("state", "all")
    if state not in LIBRARY_STATES:
        state = "all"
    works = (LIBRARY_STATES[state](Creation.objects.filter(owner=request.user).alive())
             .select_related("space", "owner"))
    space = request.GET.get("space", "")
    if space:
        works = works.filter(space__slug=space)
    works = works.prefetch_related(
        Prefetch("parent_links", queryset=Parentage.objects.select_related("parent")))
    context = {"state": state, "states": list(LIBRARY_STATES), "space": space,
               "spaces": Space.objects.all(), "tiles": "frontend/_library_tiles.html",
               "discarded": request.session.pop(DISCARDED, None) if request.GET.get("fragment") != "1" else None}
    return _page(request, works, ("-created", "-id"), context, "frontend/library.html", _library_item)


def _library_post(request):
    """Discard the drafts picked (``discard``), or restore the ones just discarded
    (``restore``: "Undo")."""
    if restore := request.POST.getlist("restore")[:500]:
        removed = Creation.objects.filter(owner=request.user, public_id__in=restore).drafts().removed()
        count = 0
        for draft in removed:
            actions.do_restore(draft)
            count += 1
        messages.success(request, ngettext("Restored %(count)d draft.", "Restored %(count)d drafts.", count)
                         % {"count": count})
        return redirect(request.get_full_path())
    ids = request.POST.getlist("discard")[:500]
    drafts = Creation.objects.filter(owner=request.user, public_id__in=ids).drafts().alive()
    gone = []
    for draft in drafts:
        actions.do_remove(draft)
        gone.append(draft.public_id)
    if gone:
        request.session[DISCARDED] = gone  # the page says so, with "Undo"
    else:
        messages.info(request, _("Nothing was discarded: pick the drafts to discard first."))
    return redirect(request.get_full_path())


def _quoted(creation: Creation | None, viewer_pk: int) -> str:
    """A parent's title for its child's caption, if the breeder may know it ("" for a work
    without a title)."""
    if creation is None or creation.is_removed:
        return _("a removed work")
    if not creation.visible_to(viewer_pk):
        return _("a hidden work")
    return _("“%(title)s”") % {"title": languages.shown(creation.title)} if creation.title else ""


def describe(creation: Creation) -> str:
    """What a draft is, for its caption: its own title if it has one, else where it came
    from: "Child of “Rose Tide”", "Random draw"... Untitled parents are not named ("Child
    of an untitled work" told nothing, and said it of every draft): the caption's second
    line says the space and when instead."""
    if creation.title:
        return creation.title
    parents = [link.parent for link in creation.parent_links.all()]
    owner = creation.owner_id
    names = [_quoted(p, owner) for p in parents]
    match creation.origin:
        case Origin.RANDOM:
            return _("Random draw")
        case Origin.UPLOAD:
            return _("From an upload")
        case Origin.EDIT if names and names[0]:
            return _("Edit of %(parent)s") % {"parent": names[0]}
        case Origin.EDIT:
            return _("Gene edit")
        case Origin.CROSS if len(names) == 2 and any(names):
            return _("Cross of %(first)s and %(second)s") % {
                "first": names[0] or _("an untitled work"), "second": names[1] or _("an untitled work")}
        case Origin.CROSS:
            return ngettext("Cross of %(count)d work", "Cross of %(count)d works", len(parents)) % {
                "count": len(parents)}
        case _ if names and names[0]:
            return _("Child of %(parent)s") % {"parent": names[0]}
        case _:
            return _("Child")


def _library_item(creation: Creation) -> dict:
    draft = creation.is_draft
    return {**work(creation), "visibility": creation.visibility, "draft": draft,
            "about": describe(creation) if draft else "", "when": creation.created}
