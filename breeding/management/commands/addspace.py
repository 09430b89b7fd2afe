"""``manage.py addspace``: make a space from a weights file or model folder."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.core.validators import slug_re


class Command(BaseCommand):
    help = ("Add a latent space from local weights: a StyleGAN snapshot (.pkl) or safetensors "
            "export, or a diffusers image-variation folder. The file is checked by loading it "
            "(a pickle's embedded code is never run); its digest becomes the space's version.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", required=True, choices=["stylegan", "diffusion"])
        parser.add_argument("--path", required=True, help="the weights file or model folder")
        parser.add_argument("--slug", required=True, help="the space's name in URLs, e.g. portraits")
        parser.add_argument("--title", default="", help='the name breeders see, e.g. "Portraits"')
        parser.add_argument("--truncation", type=float, default=None,
                            help="StyleGAN: ψ of the truncation trick for random pictures (default 0.7)")
        speed = parser.add_mutually_exclusive_group()
        speed.add_argument("--cpu-ok", dest="cpu_ok", action="store_const", const=True, default=None,
                           help="render on the CPU even if the model is large (slow)")
        speed.add_argument("--needs-gpu", dest="cpu_ok", action="store_const", const=False,
                           help="never render on this machine's CPU")

    def handle(self, *args, kind: str, path: str, slug: str, title: str, truncation, cpu_ok,
               **options) -> None:
        from breeding.spaces import SpaceRefused, add_space

        if not slug_re.fullmatch(slug) or len(slug) > 40:
            raise CommandError(f"{slug!r} is not a slug: letters, digits, - and _, at most 40")
        extra = {}
        if truncation is not None:
            if kind != "stylegan" or not 0 <= truncation <= 1:
                raise CommandError("--truncation is for StyleGAN spaces, between 0 and 1")
            extra["truncation"] = truncation
        try:
            row = add_space(kind, path, slug, title, cpu_ok=cpu_ok, options=extra)
        except SpaceRefused as e:
            raise CommandError(str(e)) from None
        where = "needs a GPU service" if row.settings["needs_gpu"] else "renders on the CPU"
        self.stdout.write(
            f"Added the {row.settings['title']} space ({row.slug}): {row.settings['architecture']}, "
            f"latent {row.layers} x {row.dim}, version {row.version}; {where}."
        )
        # A words file beside the weights (``<name>.words.safetensors``, docs/words.md)
        # teaches the space its words.
        from breeding.tasks import ensure_words

        ensure_words(self.stdout)
