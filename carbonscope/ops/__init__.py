"""Operations: schedules (schedule.py), what each scheduled job does and the alerts it raises
(run.py, alerts.py), backups (backup.py), metrics and health (metrics.py, health.py). The CLI, the
site and the containers are thin layers over it."""
