from django.db import migrations, models


class Migration(migrations.Migration):
    """Each work records the version of its space it was made in; existing works were made
    in their space's present version."""

    dependencies = [("breeding", "0009_training")]

    operations = [
        migrations.AddField(
            model_name="creation",
            name="version",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunSQL(
            "UPDATE breeding_creation AS c SET version = s.version FROM breeding_space AS s "
            "WHERE c.space_id = s.id",
            migrations.RunSQL.noop,
        ),
    ]
