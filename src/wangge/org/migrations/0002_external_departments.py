"""External systems become departments of kind `external` with a service user (their rows
move over from integration.ExternalSystem in integration 0005)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="department",
            name="kind",
            field=models.CharField(choices=[("center", "网格化管理服务中心"), ("subcenter", "网格化分中心"), ("workstation", "网格化工作站"), ("department", "职能部门"), ("external", "外部系统")], max_length=16, verbose_name="类型"),
        ),
        migrations.AddField(
            model_name="department",
            name="service_user",
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="external_department", to=settings.AUTH_USER_MODEL, verbose_name="服务账号"),
        ),
        migrations.AddConstraint(
            model_name="department",
            constraint=models.CheckConstraint(condition=models.Q(("service_user__isnull", True), ("kind", "external"), _connector="OR"), name="service_user_only_for_external"),
        ),
    ]
