"""Tests of the web kernel: auth, CSRF, errors, i18n, pages."""
