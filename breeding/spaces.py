"""Spaces an operator adds from weights files (``manage.py addspace``), and whether each
space can be used right now.

A built-in space (abstract, figures) carries its weights in the code. An added space
(StyleGAN, diffusion) is a ``Space`` row whose ``settings`` hold the weights' path and its
kind; its ``version`` is the digest of the file when it was added. The inference registry
finds added spaces through ``resolve``, so the web process, the workers and the inference
service all build them from the same row.

A space whose file is missing or changed is unavailable, with the reason; its works keep
their latents and render again once the file is back (or the space is added again, which
makes a new version). A space too slow for the CPU is unavailable where no GPU is at hand
(``breeding.images.can_render``), so that a request says so instead of hanging.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from breeding import looks
from breeding.models import Space
from inference.space import ADDABLE_KINDS

#: The class of each kind of added space.
KINDS = ADDABLE_KINDS

#: The kinds whose spaces take uploads (both project: StyleGAN by optimisation, diffusion
#: by encoding the picture).
PROJECTING_KINDS = frozenset(KINDS)

_digests: dict[tuple[str, int, int], str] = {}
_digest_lock = threading.Lock()


class SpaceRefused(ValueError):
    """The weights cannot make a space; the message says why, in a sentence."""


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""


def is_added(space: Space) -> bool:
    return bool(space.settings.get("path"))


def _digest(path: Path) -> str:
    """The weights' digest, computed again only when their size or modification time change."""
    from inference.space import weights_digest

    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if path.is_dir():  # a folder's own stat does not see its files change: cheap to redo
        return weights_digest(path)
    with _digest_lock:
        if key not in _digests:
            _digests[key] = weights_digest(path)
        return _digests[key]


def version_of(path: Path) -> str:
    return _digest(path)[:16]


def refresh(space: Space) -> None:
    """If this process registered ``space`` with another version of its weights (it was
    added again since), register the current one: the old generator and its batcher go."""
    from breeding import images
    from inference.space import register, registered_options

    known = registered_options(space.slug)
    if known is not None and known.get("version") != space.version:
        register(space.slug, KINDS[space.kind], **options_of(space))
        images.forget(space.slug)


def availability(space: Space) -> Availability:
    """Whether ``space`` can be bred in now, and if not, why (a sentence for breeders)."""
    from breeding.images import can_render

    if is_added(space):
        refresh(space)
        path = Path(space.settings["path"])
        if not path.exists():
            return Availability(False, _("Its weights (%(file)s) are missing on the server.")
                                % {"file": path.name})
        try:
            current = version_of(path)
        except OSError as e:  # the system's own words for why (English)
            return Availability(False, _("Its weights (%(file)s) cannot be read: %(why)s.")
                                % {"file": path.name, "why": e.strerror})
        if current != space.version:
            return Availability(False, _("Its weights (%(file)s) changed since the space was "
                                         "added; an operator must add it again.")
                                % {"file": path.name})
    if not can_render(space):
        return Availability(False, _("It needs a GPU inference service, and none is configured."))
    return Availability(True)


def options_of(space: Space) -> dict:
    """The keyword arguments that build an added space's generator."""
    options = {"path": space.settings["path"], "slug": space.slug, "version": space.version,
               "needs_gpu": bool(space.settings.get("needs_gpu"))}
    options.update(space.settings.get("options") or {})
    return options


def _lookup(slug: str):
    return Space.objects.filter(slug=slug).values_list("kind", "version", "settings").first()


def _lookup_elsewhere(slug: str):
    try:
        return _lookup(slug)
    finally:
        connection.close()  # this thread's own connection


def resolve(slug: str) -> tuple[str, dict] | None:
    """For ``inference.space``: the class and options of an added space, by slug, or of one
    of its earlier versions whose file it kept (``slug@version``)."""
    import asyncio

    slug, at, version = slug.partition("@")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        if threading.current_thread() is threading.main_thread() or connection.in_atomic_block:
            row = _lookup(slug)
        else:  # a render or store thread: its connection is not kept open for nothing
            row = _lookup_elsewhere(slug)
    else:  # an event loop's thread may not query: one query from a thread of its own
        with ThreadPoolExecutor(max_workers=1) as pool:
            row = pool.submit(_lookup_elsewhere, slug).result()
    if row is None or not row[2].get("path") or row[0] not in KINDS:
        return None
    kind, present, settings = row
    space = Space(slug=slug, kind=kind, version=present, settings=settings)
    options = options_of(space)
    if not at:
        return KINDS[kind], options
    earlier = (settings.get("versions") or {}).get(version)
    if earlier is None:
        return None
    return KINDS[kind], {**options, "path": earlier, "version": version, "slug": f"{slug}@{version}"}


def add_space(kind: str, path: str | os.PathLike, slug: str, title: str = "", *,
              cpu_ok: bool | None = None, options: dict | None = None) -> Space:
    """Load the weights at ``path`` as a ``kind`` space (which validates them), record their
    digest as the space's version and create or update its row. Raises ``SpaceRefused``."""
    from inference.space import adopt, register

    if kind not in KINDS:
        raise SpaceRefused(_("unknown kind %(kind)s: the kinds are %(kinds)s")
                           % {"kind": repr(kind), "kinds": ", ".join(sorted(KINDS))})
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise SpaceRefused(_("there is nothing at %(path)s") % {"path": path})
    existing = Space.objects.filter(slug=slug).first()
    if existing is not None and not is_added(existing):
        raise SpaceRefused(_("%(slug)s is a built-in space; choose another slug")
                           % {"slug": repr(slug)})
    version = version_of(path)
    module, _colon, name = KINDS[kind].partition(":")
    import importlib

    cls = getattr(importlib.import_module(module), name)
    options = dict(options or {})
    try:
        generator = cls(path=path, slug=slug, version=version, **options)
    except (ValueError, OSError) as e:  # Refused is a ValueError; its words are English
        raise SpaceRefused(_("%(file)s cannot be loaded as a %(kind)s space: %(why)s")
                           % {"file": path.name, "kind": kind, "why": e}) from None
    needs_gpu = bool(getattr(generator, "needs_gpu", False)) if cpu_ok is None else not cpu_ok
    settings = {"path": str(path), "title": title or slug.replace("-", " ").capitalize(),
                "needs_gpu": needs_gpu, "options": options,
                "architecture": getattr(generator, "arch", kind),
                "versions": earlier_versions(existing, version)}
    if hasattr(generator, "groups"):  # coarse, middle, fine rows: crosses can weigh each
        settings["groups"] = {name: list(rows) for name, rows in generator.groups.items()}
    with transaction.atomic():
        row, _made = Space.objects.update_or_create(slug=slug, defaults={
            "kind": kind, "version": version, "layers": generator.layers, "dim": generator.dim,
            "coarse_layers": generator.coarse_layers, "gaussian": generator.prior == "gaussian",
            "settings": settings})
    # Its look-alike index once the row is committed: DDL cannot follow writes whose
    # deferred checks are still pending in the same transaction.
    transaction.on_commit(lambda: looks.ensure_index(row))
    register(slug, KINDS[kind], **options_of(row))
    generator.needs_gpu = needs_gpu
    adopt(slug, generator)  # loaded once already: no need to load it again
    return row


def earlier_versions(existing: Space | None, version: str) -> dict[str, str]:
    """The files of the versions an added space had before ``version``, kept so that works
    made in them render as they were made: the ones it kept, and the one it replaces if its
    file is still there as it was (a new training writes a new file; an operator who
    overwrites the file in place leaves nothing to keep)."""
    if existing is None or not is_added(existing):
        return {}
    kept = dict(existing.settings.get("versions") or {})
    old = Path(existing.settings["path"])
    if existing.version != version and old.is_file() and version_of(old) == existing.version:
        kept[existing.version] = str(old)
    kept.pop(version, None)
    return kept


#: The built-in spaces' names in the reader's language (their slugs are their English names);
#: a space an operator adds is called what the operator called it.
BUILT_IN_NAMES = {
    "abstract": pgettext_lazy("space name", "abstract"),
    "figures": pgettext_lazy("space name", "figures"),
    "emoji": pgettext_lazy("space name", "emoji"),
}


def name_of(slug: str) -> str:
    """What a reader calls the space ``slug``: a built-in one in their language."""
    return str(BUILT_IN_NAMES[slug]) if slug in BUILT_IN_NAMES else slug


def title_of(space: Space) -> str:
    return space.settings.get("title") or name_of(space.slug)


def can_project(space: Space, found: Availability | None = None) -> bool:
    """Whether pictures can be uploaded into ``space`` now (``found``: its availability,
    if the caller has it already)."""
    from inference.projection import can_project as space_can_project

    if not (found or availability(space)).available:
        return False
    if is_added(space):  # known by kind, without loading its weights here
        return space.kind in PROJECTING_KINDS
    try:
        return space_can_project(space.generator())
    except KeyError:  # a space this process cannot load
        return False


def can_move_camera(space: Space, found: Availability | None = None) -> bool:
    """Whether videos can move a camera over a picture (zoom) in ``space`` now."""
    if not (found or availability(space)).available or is_added(space):
        return False  # added kinds (StyleGAN, diffusion) draw a frame, not a canvas
    from inference.space import can_move_camera as space_can_move_camera

    try:
        return space_can_move_camera(space.generator())
    except KeyError:  # a space this process cannot load
        return False


#: Downloads go up to this size; a space that draws smaller pictures upscales them.
LARGEST_DOWNLOAD = 2048


def native_size(space: Space) -> int | None:
    """The size a space draws its pictures at, where downloads are larger (a trained GAN of
    64 px: they are upscaled, and the studio says so); None for spaces that draw any size."""
    try:
        generator = space.generator()
    except (KeyError, ValueError, OSError):
        return None
    config = getattr(generator, "config", None) or {}
    size = config.get("img_resolution")
    return int(size) if size and int(size) < LARGEST_DOWNLOAD else None
