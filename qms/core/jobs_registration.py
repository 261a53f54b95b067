from .registries import PeriodicJob, register_periodic_job

register_periodic_job(
    PeriodicJob(
        name="core.calibration_reminders",
        task="qms.core.tasks.calibration_reminders",
        every_seconds=3600,
        description="Gauges whose calibration falls due within 14 days or is overdue.",
    )
)

register_periodic_job(
    PeriodicJob(
        name="core.outbox_drain",
        task="qms.core.tasks.outbox_drain",
        every_seconds=30,
        description="Publish background jobs that could not reach the broker (outbox), so none is lost.",
    )
)
