"""Lay out a family tree for the lineage page: rows of thumbnails joined by curves.

Ancestors sit above the work (their generation counted upwards), descendants below. A
row holds at most ``MAX_ROW`` nodes; the rest fold into one "+N more" node, so a wide
tree stays readable and the page stays bounded. Within a row, nodes are ordered by the
mean position of the nodes they link to in the row nearer the root, which keeps most
connectors from crossing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TILE = 96
GAP_X = 28
GAP_Y = 84
MARGIN = 24
MAX_ROW = 7
#: With every generation unfolded (the "+N more" node's link), still a bound.
MAX_ROW_WIDE = 64


@dataclass
class Node:
    id: str
    row: int  # negative: ancestors; 0: the work; positive: descendants
    title: str = ""
    owner: str = ""
    image: str = ""
    removed: bool = False
    upload: bool = False  # the uploaded picture a work was projected from
    more: int = 0  # a folded node standing for this many others
    x: float = 0.0
    y: float = 0.0
    links: set[str] = field(default_factory=set)  # neighbours one row nearer the root

    @property
    def cx(self) -> float:
        return self.x + TILE / 2


@dataclass
class Edge:
    path: str


@dataclass
class Layout:
    width: int
    height: int
    nodes: list[Node]
    edges: list[Edge]


def layout(up: dict, down: dict, max_row: int = MAX_ROW) -> Layout:
    """Place the nodes of an upward and a downward tree (``lineage_tree`` dicts), at most
    ``max_row`` to a generation."""
    nodes: dict[str, Node] = {}
    for tree, sign in ((up, -1), (down, 1)):
        for n in tree["nodes"]:
            if n["id"] in nodes:
                continue
            nodes[n["id"]] = Node(
                id=n["id"], row=sign * n.get("generation", 0), title=n.get("title", ""),
                owner=n.get("owner", ""), image=(n.get("images") or {}).get("256", ""),
                removed=bool(n.get("removed")), upload=bool(n.get("upload")),
            )
        for link in tree["links"]:
            far, near = (link["parent"], link["child"]) if sign < 0 else (link["child"], link["parent"])
            if far in nodes:
                nodes[far].links.add(near)

    rows: dict[int, list[Node]] = {}
    for node in nodes.values():
        rows.setdefault(node.row, []).append(node)

    placed: dict[str, Node] = {}
    folded: dict[str, str] = {}  # id of a folded node -> id of the "+N" node standing for it
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
        rows[row] = members
        for i, node in enumerate(members):
            node.x = i * (TILE + GAP_X)
            placed[node.id] = node

    width = max(len(m) for m in rows.values()) * (TILE + GAP_X) - GAP_X
    top = min(rows)
    for row, members in rows.items():
        offset = (width - (len(members) * (TILE + GAP_X) - GAP_X)) / 2
        for node in members:
            node.x += offset + MARGIN
            node.y = (row - top) * (TILE + GAP_Y) + MARGIN

    edges = []
    seen = set()
    for node in placed.values():
        for other_id in node.links:
            other = placed.get(folded.get(other_id, other_id))
            if other is None or (node.id, other.id) in seen:
                continue
            seen.add((node.id, other.id))
            if node.y == other.y:  # kin in one generation (a work crossed with its own parent
                # and grandparent, say): an arc over their heads
                x1, x2, y = node.cx, other.cx, node.y
                lift = GAP_Y / 2
                edges.append(Edge(f"M{x1:.0f},{y:.0f} C{x1:.0f},{y - lift:.0f} {x2:.0f},{y - lift:.0f} {x2:.0f},{y:.0f}"))
                continue
            upper, lower = (node, other) if node.y < other.y else (other, node)
            x1, y1 = upper.cx, upper.y + TILE
            x2, y2 = lower.cx, lower.y
            mid = (y1 + y2) / 2
            edges.append(Edge(f"M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}"))

    height = (max(rows) - top + 1) * (TILE + GAP_Y) - GAP_Y
    return Layout(width=int(width + 2 * MARGIN), height=int(height + 2 * MARGIN),
                  nodes=list(placed.values()), edges=edges)


def _mean_x(node: Node, placed: dict[str, Node], folded: dict[str, str]) -> float:
    xs = [placed[folded.get(i, i)].x for i in node.links if folded.get(i, i) in placed]
    return sum(xs) / len(xs) if xs else 0.0
