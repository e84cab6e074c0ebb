"""关注码: a random follow code per case. Added empty, filled with a different random code for
every existing case (a callable default in AddField would give them all the same one), then
given its default for new cases."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import wangge.cases.models

BATCH = 2000


def backfill(apps: Any, schema_editor: Any) -> None:
    Case = apps.get_model("cases", "Case")
    db = schema_editor.connection.alias
    last = 0
    while True:
        ids = list(Case.objects.using(db).filter(pk__gt=last, follow_code="")
                   .order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        Case.objects.using(db).bulk_update(
            [Case(pk=pk, follow_code=wangge.cases.models.new_follow_code()) for pk in ids],
            ["follow_code"], batch_size=BATCH)
        last = ids[-1]


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0006_notifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="follow_code",
            field=models.CharField(default="", editable=False, max_length=16,
                                   verbose_name="关注码"),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="case",
            name="follow_code",
            field=models.CharField(default=wangge.cases.models.new_follow_code, editable=False,
                                   max_length=16, verbose_name="关注码"),
        ),
    ]
