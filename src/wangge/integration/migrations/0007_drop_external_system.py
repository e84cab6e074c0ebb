"""The subscription's department replaces its external system, and the ExternalSystem
table goes (cases 0009 has dropped the rules' and cases' columns that pointed at it)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("integration", "0006_subscription_department"),
        ("cases", "0009_drop_external_system"),
        ("org", "0002_external_departments"),
    ]

    operations = [
        migrations.RemoveField(model_name="subscription", name="external_system"),
        migrations.RenameField(model_name="subscription", old_name="department",
                               new_name="external_system"),
        migrations.AlterField(
            model_name="subscription",
            name="external_system",
            field=models.ForeignKey(blank=True, limit_choices_to={"kind": "external"}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="subscriptions", to="org.department", verbose_name="外部系统"),
        ),
        migrations.DeleteModel(name="ExternalSystem"),
    ]
