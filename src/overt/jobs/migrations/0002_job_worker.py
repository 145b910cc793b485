from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="worker",
            field=models.CharField(
                blank=True, help_text="The worker that ran the latest attempt.", max_length=100
            ),
        ),
    ]
