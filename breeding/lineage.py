"""A work's family tree, up to its ancestors or down to its descendants, as a viewer may see
it: the lineage API answers it and the work pages draw it."""

from __future__ import annotations

from breeding import images
from breeding.models import Creation, Origin, Upload, lineage, viewer_id


def lineage_tree(root: Creation, direction: str, depth: int, viewer) -> dict:
    """Nodes and links of a family tree, as the viewer may see it.

    Only works listed for the viewer (``listed_for``) are shown, and the tree goes on only
    through them: others' drafts, private and unlisted works are left out, and so is
    everything reached only through them. A removed work the viewer knew before (``known_to``)
    shows as a bare "removed" node and the tree goes on through it; so does, for the owner
    of the work that links to it, one of their own drafts purged since.
    """
    rows = lineage(root, direction, depth)
    ids = {r["node"] for r in rows if r["node"] is not None}
    by_pk = {c.pk: c for c in Creation.objects.known_to(viewer).select_related("space", "owner")
             .filter(pk__in=ids)}
    nodes: dict = {root.pk: {**node_of(root), "owner_id": root.owner_id}}
    links = []
    removed = 0
    uid = viewer_id(viewer)
    for r in rows:
        near = nodes.get(r["via"])
        if near is None:
            continue  # reached only through something hidden
        if r["node"] is None:  # purged: a draft of the owner of the work linking to it
            if near.get("owner_id") is None or near["owner_id"] != uid:
                continue
            removed += 1
            key = f"purged-{removed}"
            node = {"id": f"removed-{removed}", "removed": True, "generation": r["generation"]}
        elif (creation := by_pk.get(r["node"])) is None:
            continue  # not known to the viewer
        elif creation.is_removed:
            key = creation.pk
            if key not in nodes:
                removed += 1
            node = nodes.get(key) or {
                "id": f"removed-{removed}", "removed": True, "generation": r["generation"],
                "owner_id": creation.owner_id,
            }
        else:
            key = creation.pk
            node = nodes.get(key) or {**node_of(creation), "generation": r["generation"],
                                      "owner_id": creation.owner_id}
        nodes[key] = node
        child, parent = (near, node) if direction == "up" else (node, near)
        links.append({"child": child["id"], "parent": parent["id"]})
    if direction == "up":
        links += _upload_nodes(nodes, by_pk | {root.pk: root}, depth, uid)
    return {
        "root": root.public_id,
        "direction": direction,
        "depth": depth,
        "nodes": [{k: v for k, v in n.items() if k != "owner_id"} for n in nodes.values()],
        "links": links,
    }


def _upload_nodes(nodes: dict, creations: dict, depth: int, uid: int | None) -> list[dict]:
    """The uploads the works of an upward tree were projected from, as their parents: with
    the picture for its owner, a bare "uploaded picture" for everyone else."""
    shown = {pk: node for pk, node in nodes.items()
             if isinstance(pk, int) and not node.get("removed")
             and creations[pk].origin == Origin.UPLOAD and node["generation"] < depth}
    links = []
    for upload in Upload.objects.filter(creation_id__in=list(shown)):
        near = shown[upload.creation_id]
        node = {"id": f"upload-{upload.public_id}" if upload.owner_id == uid else f"upload-{len(links) + 1}",
                "upload": True, "generation": near["generation"] + 1}
        if upload.owner_id == uid:
            node["title"] = upload.title
            node["images"] = {"256": f"/uploads/{upload.public_id}/thumb"}
        nodes[node["id"]] = node
        links.append({"child": near["id"], "parent": node["id"]})
    return links


def node_of(creation: Creation) -> dict:
    return {
        "id": creation.public_id,
        "title": creation.title,
        "owner": creation.owner.username,
        "generation": 0,
        "images": images.of(creation),
    }
