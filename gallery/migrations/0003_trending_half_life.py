"""The trending score becomes log2(2^(created/h) + sum of 2^(liked/h)) (breeding.models,
HOT_HALF_LIFE): recompute every work's score once, in the database, from its likes."""

from django.db import migrations

#: HOT_HALF_LIFE as it was when this migration was written (12 hours).
HALF_LIFE = 43200.0

RECOMPUTE = f"""
WITH terms AS (
    SELECT id AS creation_id, extract(epoch FROM created)::float8 / {HALF_LIFE} AS x
    FROM breeding_creation
    UNION ALL
    SELECT creation_id, extract(epoch FROM created)::float8 / {HALF_LIFE}
    FROM gallery_like
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
        ('breeding', '0005_uploads'),
        ('gallery', '0002_exhibitions'),
    ]

    operations = [migrations.RunSQL(RECOMPUTE, migrations.RunSQL.noop)]
