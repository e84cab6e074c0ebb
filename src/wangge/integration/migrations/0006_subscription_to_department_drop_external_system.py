"""Subscriptions name the external system's department (made in 0005); then the
ExternalSystem table goes (cases 0008 has already repointed rules and cases)."""

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
        ("cases", "0008_external_systems_are_departments"),
        ("org", "0002_external_departments"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="department",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="org.department"),
        ),
        migrations.RunPython(repoint, migrations.RunPython.noop),
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
