"""The outbox table moves into core in the model state only: the table (and its name,
integration_outboxmessage) stays where it is, no data moves. integration 0004 drops it
from integration's state and points Delivery.message here."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_datakeyfingerprint'),
        ('integration', '0003_token_expiry'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='OutboxMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('topic', models.CharField(db_index=True, max_length=64, verbose_name='主题')),
                        ('payload', models.JSONField(default=dict, verbose_name='内容')),
                        ('idempotency_key', models.CharField(max_length=64, unique=True, verbose_name='幂等键')),
                        ('status', models.CharField(choices=[('pending', '待分发'), ('routed', '已分发'), ('done', '无人订阅')], default='pending', max_length=16, verbose_name='状态')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                        ('routed_at', models.DateTimeField(blank=True, null=True, verbose_name='分发时间')),
                    ],
                    options={
                        'verbose_name': '发件箱消息',
                        'verbose_name_plural': '发件箱消息',
                        'db_table': 'integration_outboxmessage',
                        'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['id'], name='outbox_unrouted_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
