"""Latent spaces and their rendering. Pure torch and numpy: no Django here.

Spaces are registered by slug with the import path of their class, so importing this
package stays cheap; a space (and torch) loads on first use.
"""

from __future__ import annotations

from inference.space import get_space, register, space_slugs

register("abstract", "inference.abstract:AbstractSpace")
register("figures", "inference.figures:FiguresSpace")
register("emoji", "inference.emoji:EmojiSpace")

__all__ = ["get_space", "register", "space_slugs"]
