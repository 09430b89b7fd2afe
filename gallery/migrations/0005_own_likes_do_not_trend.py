"""A breeder's like of their own work no longer counts in its trending score
(gallery.actions): recompute, in the database, the score of every work its owner liked."""

from django.db import migrations

#: HOT_HALF_LIFE as it was when this migration was written (12 hours).
HALF_LIFE = 43200.0

RECOMPUTE = f"""
WITH liked_by_owner AS (
    SELECT DISTINCT c.id FROM breeding_creation c
    JOIN gallery_like l ON l.creation_id = c.id AND l.user_id = c.owner_id
), terms AS (
    SELECT id AS creation_id, extract(epoch FROM created)::float8 / {HALF_LIFE} AS x
    FROM breeding_creation WHERE id IN (SELECT id FROM liked_by_owner)
    UNION ALL
    SELECT l.creation_id, extract(epoch FROM l.created)::float8 / {HALF_LIFE}
    FROM gallery_like l JOIN breeding_creation c ON c.id = l.creation_id
    WHERE l.user_id <> c.owner_id AND c.id IN (SELECT id FROM liked_by_owner)
), peaks AS (
    SELECT creation_id, max(x) AS m FROM terms GROUP BY creation_id
), scores AS (
    SELECT t.creation_id,
           p.m + ln(sum(power(2.0::float8, greatest(t.x - p.m, -1000.0)))) / ln(2.0) AS hot
    FROM terms t JOIN peaks p USING (creation_id)
    GROUP BY t.creation_id, p.m
)
UPDATE breeding_creation c SET hot = s.hot FROM scores s WHERE s.creation_id = c.id
"""


class Migration(migrations.Migration):

    dependencies = [
        ('gallery', '0004_vote_address'),
    ]

    operations = [migrations.RunSQL(RECOMPUTE, migrations.RunSQL.noop)]
