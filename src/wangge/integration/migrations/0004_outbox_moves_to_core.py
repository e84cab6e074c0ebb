"""The outbox table is core's now (core 0004): in the model state only, Delivery.message
points at core.OutboxMessage and integration's OutboxMessage is gone. The database is
untouched: same table, same foreign key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integration', '0003_token_expiry'),
        ('core', '0004_outboxmessage'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='delivery',
                    name='message',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='core.outboxmessage', verbose_name='消息'),
                ),
                migrations.DeleteModel(name='OutboxMessage'),
            ],
            database_operations=[],
        ),
    ]
