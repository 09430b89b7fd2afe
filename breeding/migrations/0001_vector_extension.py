from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    # Latents are pgvector columns; the extension must exist before any model uses it.
    dependencies: list = []
    operations = [VectorExtension()]
