"""Indexes on the records' time columns alone: the headline counters read the days after
the last rollup over a whole city or province, and the rollup reads one day at a time."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fieldwork', '0001_initial'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='distribution',
            index=models.Index(fields=['day'], name='fieldwork_d_day_300edf_idx'),
        ),
        migrations.AddIndex(
            model_name='opinion',
            index=models.Index(fields=['collected_at'], name='fieldwork_o_collect_c10121_idx'),
        ),
        migrations.AddIndex(
            model_name='visit',
            index=models.Index(fields=['visited_at'], name='fieldwork_v_visited_454a25_idx'),
        ),
    ]
