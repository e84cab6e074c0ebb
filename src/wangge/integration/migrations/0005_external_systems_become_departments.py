"""Every ExternalSystem row becomes an org department of kind `external` serving the city
grid, with the same code, name and service user. Rules, cases (cases 0008) and
subscriptions (integration 0006) are repointed afterwards; the table goes in 0006."""

from django.db import migrations


def to_departments(apps, schema_editor):
    ExternalSystem = apps.get_model("integration", "ExternalSystem")
    Department = apps.get_model("org", "Department")
    Grid = apps.get_model("territory", "Grid")
    systems = list(ExternalSystem.objects.order_by("pk"))
    if not systems:
        return
    city = Grid.objects.filter(level=0).order_by("path").first()
    if city is None:
        raise RuntimeError("external systems exist but no city grid (level 0) to serve: "
                           "import the territory, then migrate again")
    for s in systems:
        dept = Department.objects.filter(code=s.code).first()
        if dept is None:
            Department.objects.create(code=s.code, name=s.name, kind="external", grid=city,
                                      service_user_id=s.service_user_id)
        elif dept.kind == "external" and dept.service_user_id in (None, s.service_user_id):
            dept.service_user_id = s.service_user_id
            dept.save(update_fields=["service_user"])
        else:  # a line department with the system's code: refuse to merge the two
            raise RuntimeError(f"department {s.code!r} (kind {dept.kind}) has an external "
                               "system's code: rename one of them, then migrate again")


class Migration(migrations.Migration):

    dependencies = [
        ("integration", "0004_outbox_moves_to_core"),
        ("org", "0002_external_departments"),
        ("territory", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_departments, migrations.RunPython.noop),
    ]
