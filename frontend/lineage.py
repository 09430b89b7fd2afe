"""Lay out a family tree for the lineage page: rows of thumbnails joined by curves.

Ancestors sit above the work (their generation counted upwards), descendants below. A
row holds at most ``MAX_ROW`` nodes; the rest fold into one "+N more" node, so a wide
tree stays readable and the page stays bounded. Within a row, nodes are ordered by the
mean position of the nodes they link to in the row nearer the root, which keeps most
connectors from crossing.

Unfolded (``wide``), a generation keeps every node (up to ``MAX_ROW_WIDE``), and siblings
that share their parents (the 56 children of one work, say) sit in a block: a grid at most
``BLOCK_COLS`` wide, joined to their parents by one connector, never a fan of 56 crossing
curves. A connector that leaves a node inside a block starts under the block, in that
node's column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

TILE = 96
GAP_X = 28
GAP_Y = 84
MARGIN = 24
MAX_ROW = 7
#: With every generation unfolded (the "+N more" node's link), still a bound.
MAX_ROW_WIDE = 64
#: Unfolded, this many siblings of the same parents or more share one block ...
BLOCK_MIN = 4
#: ... at most this many to a line of it.
BLOCK_COLS = 8
BLOCK_GAP = 8
BLOCK_PAD = 12


@dataclass
class Node:
    id: str
    row: int  # negative: ancestors; 0: the work; positive: descendants
    title: str = ""
    owner: str = ""
    image: str = ""
    large: str = ""  # a larger render, for a zoomed tree
    removed: bool = False
    upload: bool = False  # the uploaded picture a work was projected from
    more: int = 0  # a folded node standing for this many others
    x: float = 0.0
    y: float = 0.0
    links: set[str] = field(default_factory=set)  # neighbours one row nearer the root
    block: Block | None = field(default=None, repr=False, compare=False)

    @property
    def cx(self) -> float:
        return self.x + TILE / 2

    width = TILE
    height = TILE

    def move(self, x: float, y: float) -> None:
        self.x, self.y = x, y

    def top(self) -> tuple[float, float]:
        """Where a connector from above meets this node (the block's top, in its column)."""
        return self.cx, self.block.y if self.block else self.y

    def bottom(self) -> tuple[float, float]:
        return self.cx, self.block.bottom if self.block else self.y + TILE


@dataclass
class Block:
    """Siblings of the same parents in a grid: ``lines`` lines of at most ``cols``."""

    id: str
    members: list[Node]
    x: float = 0.0
    y: float = 0.0

    def __post_init__(self):
        self.lines = math.ceil(len(self.members) / BLOCK_COLS)
        self.cols = math.ceil(len(self.members) / self.lines)
        for node in self.members:
            node.block = self
        self.move(0.0, 0.0)

    @property
    def width(self) -> float:
        return self.cols * (TILE + BLOCK_GAP) - BLOCK_GAP + 2 * BLOCK_PAD

    @property
    def height(self) -> float:
        return self.lines * (TILE + BLOCK_GAP) - BLOCK_GAP + 2 * BLOCK_PAD

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def move(self, x: float, y: float) -> None:
        self.x, self.y = x, y
        for i, node in enumerate(self.members):
            line, col = divmod(i, self.cols)
            node.move(x + BLOCK_PAD + col * (TILE + BLOCK_GAP), y + BLOCK_PAD + line * (TILE + BLOCK_GAP))


@dataclass
class Edge:
    path: str


@dataclass
class Layout:
    width: int
    height: int
    nodes: list[Node]
    edges: list[Edge]
    blocks: list[Block] = field(default_factory=list)


def layout(up: dict, down: dict, wide: bool = False) -> Layout:
    """Place the nodes of an upward and a downward tree (``lineage_tree`` dicts): at most
    ``MAX_ROW`` to a generation, or, ``wide``, ``MAX_ROW_WIDE`` with siblings in blocks."""
    nodes: dict[str, Node] = {}
    for tree, sign in ((up, -1), (down, 1)):
        for n in tree["nodes"]:
            if n["id"] in nodes:
                continue
            images = n.get("images") or {}
            nodes[n["id"]] = Node(
                id=n["id"], row=sign * n.get("generation", 0), title=n.get("title", ""),
                owner=n.get("owner", ""), image=images.get("256", ""), large=images.get("1024", ""),
                removed=bool(n.get("removed")), upload=bool(n.get("upload")),
            )
        for link in tree["links"]:
            far, near = (link["parent"], link["child"]) if sign < 0 else (link["child"], link["parent"])
            if far in nodes:
                nodes[far].links.add(near)

    rows: dict[int, list[Node]] = {}
    for node in nodes.values():
        rows.setdefault(node.row, []).append(node)

    max_row = MAX_ROW_WIDE if wide else MAX_ROW
    placed: dict[str, Node] = {}
    folded: dict[str, str] = {}  # id of a folded node -> id of the "+N" node standing for it
    items: dict[int, list[Node | Block]] = {}
    for row in sorted(rows, key=abs):
        members = rows[row]
        if row != 0:
            members.sort(key=lambda n: (_mean_x(n, placed, folded), n.id))
        if len(members) > max_row:
            shown, hidden = members[: max_row - 1], members[max_row - 1:]
            more = Node(id=f"more{row:+d}", row=row, more=len(hidden))
            for h in hidden:
                folded[h.id] = more.id
                more.links |= h.links
            members = [*shown, more]
        items[row] = _blocks(members, row) if wide and len(members) > MAX_ROW else list(members)
        x = 0.0
        for item in items[row]:
            item.move(x, 0.0)
            x += item.width + GAP_X
        for node in members:
            placed[node.id] = node

    def row_width(row: int) -> float:
        return sum(item.width for item in items[row]) + GAP_X * (len(items[row]) - 1)

    width = max(row_width(row) for row in items)
    y = MARGIN
    for row in sorted(items):
        offset = (width - row_width(row)) / 2 + MARGIN
        for item in items[row]:
            item.move(item.x + offset, y)
        y += max(item.height for item in items[row]) + GAP_Y
    height = y - GAP_Y + MARGIN

    edges = []
    seen = set()
    for node in placed.values():
        for other_id in node.links:
            other = placed.get(folded.get(other_id, other_id))
            # ``node`` is the far one (further from the work): drawn from its whole block
            key = node.block.id if node.block else node.id
            if other is None or (key, other.id) in seen:
                continue
            seen.add((key, other.id))
            if node.row == other.row:  # kin in one generation (a work crossed with its own
                # parent and grandparent, say): an arc over their heads
                (x1, y1), (x2, y2) = node.top(), other.top()
                lift = GAP_Y / 2
                edges.append(Edge(f"M{x1:.0f},{y1:.0f} C{x1:.0f},{y1 - lift:.0f} {x2:.0f},{y2 - lift:.0f} {x2:.0f},{y2:.0f}"))
                continue
            far_end = ((node.block.cx, node.block.bottom if node.row < other.row else node.block.y)
                       if node.block else (node.bottom() if node.row < other.row else node.top()))
            near_end = other.top() if node.row < other.row else other.bottom()
            (x1, y1), (x2, y2) = (far_end, near_end) if node.row < other.row else (near_end, far_end)
            mid = (y1 + y2) / 2
            edges.append(Edge(f"M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}"))

    blocks = [item for row in items.values() for item in row if isinstance(item, Block)]
    return Layout(width=int(width + 2 * MARGIN), height=int(height),
                  nodes=list(placed.values()), edges=edges, blocks=blocks)


def _blocks(members: list[Node], row: int) -> list[Node | Block]:
    """The members of a wide generation in their order, siblings of the same parents (at
    least ``BLOCK_MIN`` of them) gathered into one block where the first of them stood."""
    groups: dict[frozenset, list[Node]] = {}
    for node in members:
        if not node.more:
            groups.setdefault(frozenset(node.links), []).append(node)
    out: list[Node | Block] = []
    started: set[frozenset] = set()
    for node in members:
        key = frozenset(node.links)
        group = groups.get(key, [])
        if node.more or len(group) < BLOCK_MIN:
            out.append(node)
        elif key not in started:
            started.add(key)
            out.append(Block(id=f"block{row:+d}-{len(started)}", members=group))
    return out


def _mean_x(node: Node, placed: dict[str, Node], folded: dict[str, str]) -> float:
    xs = [placed[folded.get(i, i)].x for i in node.links if folded.get(i, i) in placed]
    return sum(xs) / len(xs) if xs else 0.0
