"""The shared kernel: settings, database, auth, audit, workflow, calendar, files, jobs, i18n."""
