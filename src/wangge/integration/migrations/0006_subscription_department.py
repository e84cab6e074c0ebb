"""Subscriptions get the external system's department (made in 0005) in a new column; 0007
drops the old one and the ExternalSystem table, in its own transaction (PostgreSQL refuses
to alter a table in the transaction that updated its rows)."""

import django.db.models.deletion
from django.db import migrations, models


def repoint(apps, schema_editor):
    Subscription = apps.get_model("integration", "Subscription")
    Department = apps.get_model("org", "Department")
    for sub in Subscription.objects.filter(external_system__isnull=False).select_related(
            "external_system"):
        sub.department_id = Department.objects.get(code=sub.external_system.code).pk
        sub.save(update_fields=["department"])


class Migration(migrations.Migration):

    dependencies = [
        ("integration", "0005_external_systems_become_departments"),
        ("org", "0002_external_departments"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="department",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="org.department"),
        ),
        migrations.RunPython(repoint, migrations.RunPython.noop),
    ]
