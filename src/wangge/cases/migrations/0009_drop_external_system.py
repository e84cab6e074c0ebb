"""The external_system columns go (their rows were repointed in 0008); a duty rule always
names a department, a line department or an external system's."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_external_systems_are_departments"),
    ]

    operations = [
        migrations.RemoveField(model_name="dutyrule", name="external_system"),
        migrations.RemoveField(model_name="case", name="external_system"),
        migrations.AlterField(
            model_name="dutyrule",
            name="department",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="org.department", verbose_name="责任部门 / 外部系统"),
        ),
    ]
