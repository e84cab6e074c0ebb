"""代办件数 joins the tallies. The days already rolled up hold no proxy figure, so the
rollup state is dropped: the headline reads the records until the worker's next run
rebuilds every day (analytics.jobs.rollup builds once when there is no state)."""

from django.db import migrations, models


def forget_tallies(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("analytics", "RollupState").objects.all().delete()
    apps.get_model("analytics", "DailyTally").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dailytally",
            name="proxy_items",
            field=models.PositiveIntegerField(default=0, verbose_name="代办件数"),
        ),
        migrations.RunPython(forget_tallies, migrations.RunPython.noop),
    ]
